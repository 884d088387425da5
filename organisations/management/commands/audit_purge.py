import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from organisations.services import audit_purge


class Command(BaseCommand):
    help = (
        "Supprime les entrées du journal d'audit écrites avant une date (fin de leur durée de conservation), seul "
        "chemin qui passe le déclencheur de la table : une entrée chaînée « audit.purge » enregistre le nombre "
        "d'entrées supprimées et l'empreinte de la dernière, d'où audit_verify repart."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--before",
            required=True,
            type=datetime.date.fromisoformat,
            help="date (AAAA-MM-JJ, heure de Paris) : les entrées écrites avant ce jour sont supprimées",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        day: datetime.date = options["before"]
        if day > timezone.localdate():
            raise CommandError(_("La date doit être passée ou aujourd'hui."))
        before = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
        removed = audit_purge(before=before)
        self.stdout.write(
            ngettext(
                "%(count)s entrée du journal d'audit supprimée (écrite avant le %(day)s).",
                "%(count)s entrées du journal d'audit supprimées (écrites avant le %(day)s).",
                removed,
            )
            % {"count": removed, "day": f"{day:%d/%m/%Y}"}
        )

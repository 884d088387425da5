import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from privacy.retention import retention
from privacy.services import retention_apply, retention_due


class Command(BaseCommand):
    help = (
        "Applique la table de conservation (settings.DATA_RETENTION) : anonymise les dossiers et orientations "
        "arrivés au terme de leur conservation, efface les coordonnées des titulaires concernés, supprime les "
        "jetons, sessions et courriels expirés. Lancée chaque jour par beat ; idempotente."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="compte, par catégorie, ce qui serait traité, sans rien modifier"
        )
        parser.add_argument(
            "--now",
            type=datetime.datetime.fromisoformat,
            help="l'instant auquel appliquer la table (ISO 8601, ex. 2031-01-01T00:00), pour prévoir avec "
            "--dry-run ; maintenant par défaut",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = options["now"] or timezone.now()
        if timezone.is_naive(now):
            now = timezone.make_aware(now)
        if options["now"] and not options["dry_run"] and now > timezone.now():
            raise CommandError("--now in the future applies deadlines that have not come: use it with --dry-run.")
        counts = retention_due(now=now) if options["dry_run"] else retention_apply(now=now)
        verb = "due" if options["dry_run"] else "done"
        for key, count in counts.items():
            self.stdout.write(f"{key}: {count} {verb} ({retention(key).label})")
        self.stdout.write(
            f"Total: {sum(counts.values())} {verb}{' (dry run: nothing changed)' if options['dry_run'] else ''}."
        )

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from organisations.services import audit_chain_verify


class Command(BaseCommand):
    help = (
        "Vérifie la chaîne d'empreintes du journal d'audit : chaque entrée porte l'empreinte SHA-256 de ses champs "
        "et de l'entrée précédente. Code de sortie 0 si la chaîne est intègre ; 1, avec la première entrée en "
        "défaut, si une entrée a été modifiée, supprimée ou insérée après coup."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_chain_verify()
        if not report.intact:
            reason = {
                "link": _("elle ne suit pas l'entrée précédente (entrée supprimée ou insérée)"),
                "hash": _("son contenu ne correspond plus à son empreinte (entrée modifiée)"),
            }[report.reason]
            raise CommandError(
                ngettext(
                    "Journal d'audit altéré à l'entrée n° %(id)s : %(reason)s. %(count)s entrée vérifiée avant elle.",
                    "Journal d'audit altéré à l'entrée n° %(id)s : %(reason)s. %(count)s entrées vérifiées avant elle.",
                    report.count,
                )
                % {"id": report.broken_id, "reason": reason, "count": report.count},
                returncode=1,
            )
        self.stdout.write(
            ngettext(
                "Journal d'audit intègre : %(count)s entrée chaînée. Dernière empreinte : %(head)s",
                "Journal d'audit intègre : %(count)s entrées chaînées. Dernière empreinte : %(head)s",
                report.count,
            )
            % {"count": report.count, "head": report.head or "-"}
        )

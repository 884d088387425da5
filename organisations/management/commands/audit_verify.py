import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from organisations.services import AnchorCheck, audit_chain_expect, audit_chain_head, audit_chain_verify

_ANCHOR = re.compile(r"^(\d+):([0-9a-f]{64})$")


def anchor(value: str) -> tuple[int, str]:
    match = _ANCHOR.match(value.strip().lower())
    if match is None:
        raise ValueError(value)
    return int(match[1]), match[2]


class Command(BaseCommand):
    help = (
        "Vérifie la chaîne d'empreintes du journal d'audit : chaque entrée porte l'empreinte SHA-256 de ses champs "
        "et de l'entrée précédente. Code de sortie 0 si la chaîne est intègre ; 1, avec la première entrée en "
        "défaut, si une entrée a été modifiée, supprimée ou insérée après coup. --head affiche la dernière entrée "
        "(ID:EMPREINTE) à noter hors de la base ; --expect ID:EMPREINTE vérifie que cette entrée y est toujours."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--head",
            action="store_true",
            help="Afficher seulement ID:EMPREINTE de la dernière entrée, une fois la chaîne vérifiée.",
        )
        parser.add_argument(
            "--expect",
            type=anchor,
            metavar="ID:EMPREINTE",
            help="Échouer si l'entrée ID n'est plus dans le journal avec cette empreinte (ancre notée plus tôt).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Read before the walk: rows appended meanwhile are not verified, the one printed is.
        head = audit_chain_head()
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
        if options["expect"] is not None:
            row_id, row_hash = options["expect"]
            check = audit_chain_expect(row_id=row_id, row_hash=row_hash)
            if check is not AnchorCheck.OK:
                reason = {
                    AnchorCheck.MISSING: _("elle n'est plus dans le journal (supprimée, ou ancre d'une autre base)"),
                    AnchorCheck.DIFFERENT: _("son empreinte a changé (journal réécrit)"),
                    AnchorCheck.PURGED: _("elle précède la dernière purge de conservation et ne peut être vérifiée"),
                }[check]
                raise CommandError(
                    _("Ancre non retrouvée, entrée n° %(id)s : %(reason)s.") % {"id": row_id, "reason": reason},
                    returncode=1,
                )
        if options["head"]:
            self.stdout.write(f"{head['id']}:{head['hash']}" if head else "-")
            return
        self.stdout.write(
            ngettext(
                "Journal d'audit intègre : %(count)s entrée chaînée. Dernière empreinte : %(head)s",
                "Journal d'audit intègre : %(count)s entrées chaînées. Dernière empreinte : %(head)s",
                report.count,
            )
            % {"count": report.count, "head": report.head or "-"}
        )
        if head is not None:
            self.stdout.write(
                _("Ancre à noter hors de la base : %(anchor)s") % {"anchor": f"{head['id']}:{head['hash']}"}
            )
        if options["expect"] is not None:
            self.stdout.write(_("Ancre retrouvée : l'entrée n° %(id)s est inchangée.") % {"id": options["expect"][0]})

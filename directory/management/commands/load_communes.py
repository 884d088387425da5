from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from directory.places import COMMUNES_FILE, communes_load, read_communes


class Command(BaseCommand):
    help = (
        "Charge (ou met à jour) la table des communes depuis directory/data/communes.csv.gz. "
        "Idempotent : une seconde exécution ne change rien."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=COMMUNES_FILE, help="fichier CSV gzip des communes")

    def handle(self, *args: Any, **options: Any) -> None:
        report = communes_load(read_communes(options["file"]))
        self.stdout.write(
            f"Communes : {report.total} ({report.created} ajoutées, {report.updated} mises à jour, "
            f"{report.deleted} supprimées) ; {report.total - report.approximate} positions exactes, "
            f"{report.approximate} approchées."
        )

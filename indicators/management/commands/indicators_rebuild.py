from typing import Any

from django.core.management.base import BaseCommand

from indicators.cube import cube_rebuild
from indicators.facts import facts_rebuild


class Command(BaseCommand):
    help = "Reconstruit les tables de synthèse des statistiques à partir des dossiers (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        count = facts_rebuild()
        cells = cube_rebuild()
        self.stdout.write(f"Statistiques : {count} dossiers ouverts, {cells} cases du cube mensuel.")

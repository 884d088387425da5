from typing import Any

from django.core.management.base import BaseCommand

from funding.references import funding_references_load


class Command(BaseCommand):
    help = "Charge la liste des financeurs et les tarifs des redevances Certif'Pro (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        funders, tariffs = funding_references_load()
        self.stdout.write(f"Financeurs créés : {funders} ; tarifs créés : {tariffs}")

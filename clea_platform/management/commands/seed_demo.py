from typing import Any

from django.core.management.base import BaseCommand

from clea_platform.demo import ACCOUNTS, DEMO_PASSWORD, seed_foundation


class Command(BaseCommand):
    help = "Crée (ou remet en état) les organisations, comptes et données de démonstration. Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        seed_foundation()
        self.stdout.write(self.style.SUCCESS("Données de démonstration prêtes."))
        self.stdout.write(f"Comptes de démonstration (mot de passe : {DEMO_PASSWORD}) :")
        for account in ACCOUNTS:
            self.stdout.write(f"  {account.email:38} {account.label}")

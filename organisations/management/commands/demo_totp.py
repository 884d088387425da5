import time
from typing import Any

from django.core.management.base import BaseCommand

from organisations.demo import DEMO_TOTP_SECRET, demo_totp_code


class Command(BaseCommand):
    help = (
        "Affiche le code de double authentification des comptes de démonstration (secret partagé "
        f"{DEMO_TOTP_SECRET}) : seul sur la sortie standard, pour les scripts ; sa validité sur la sortie d'erreur."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        now = time.time()
        self.stdout.write(demo_totp_code(now))
        left = 30 - int(now) % 30
        self.stderr.write(
            f"Valable encore {left} s ; un code ne sert qu'une fois par compte : pour une seconde connexion du même "
            "compte, attendez le suivant."
        )

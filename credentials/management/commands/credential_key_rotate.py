from django.core.management.base import BaseCommand

from credentials.services import signing_key_rotate


class Command(BaseCommand):
    help = (
        "Crée une nouvelle clé de signature des certificats numériques ; l'ancienne ne signe plus mais reste "
        "publiée (/.well-known/jwks.json, /.well-known/did.json) : les attestations déjà émises restent vérifiables."
    )

    def handle(self, *args, **options):
        key = signing_key_rotate()
        self.stdout.write(f"Nouvelle clé de signature : {key.kid}")

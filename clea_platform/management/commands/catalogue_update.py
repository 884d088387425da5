from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from clea_platform.messages import catalogue_compile, catalogue_fill, catalogue_path


class Command(BaseCommand):
    help = (
        "Refait le catalogue français (locale/fr) depuis le code et les gabarits : makemessages, formes du pluriel "
        "remplies (0 et 1 au singulier), puis le .mo compilé. Lancé par `make messages` ; xgettext est nécessaire."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        # Locations would change the catalogue at every edit of a file, for nobody: the msgids are the text.
        call_command(
            "makemessages",
            locale=["fr"],
            ignore_patterns=["tests/*", "bench/*", "docs/*", "static/*"],
            no_location=True,
            no_obsolete=True,
            verbosity=0,
        )
        po = catalogue_path("po")
        plurals = catalogue_fill(po)
        catalogue_compile(po, catalogue_path("mo"))
        self.stdout.write(f"{po}: {plurals} plural entries, compiled to {catalogue_path('mo')}.")

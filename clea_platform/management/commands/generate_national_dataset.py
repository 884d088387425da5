import datetime
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from candidates.models import Dossier
from clea_platform.national_dataset import Options, generate


class Command(BaseCommand):
    help = (
        "Construit un jeu de données national (organismes, sites, personnes, N dossiers sur 5 ans) pour les "
        "mesures de performance. PostgreSQL uniquement, déterministe pour une graine donnée."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dossiers", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--today", type=datetime.date.fromisoformat, default=datetime.date(2026, 11, 23))
        parser.add_argument("--organisations", type=int, default=300)
        parser.add_argument("--sites-per-organisation", type=int, default=10)
        parser.add_argument("--training-organisations", type=int, default=20)
        parser.add_argument("--allow-sqlite", action="store_true", help="Pour les tests, avec un petit N.")
        parser.add_argument("--force", action="store_true", help="Ajoute à une base qui contient déjà des dossiers.")

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql" and not options["allow_sqlite"]:
            raise CommandError(
                "Ce jeu de données est fait pour PostgreSQL (COPY, volumes). Indiquez DATABASE_URL, "
                "ou --allow-sqlite pour un petit essai."
            )
        if Dossier.objects.exists() and not options["force"]:
            raise CommandError("La base contient déjà des dossiers : --force pour ajouter quand même.")
        started = time.monotonic()

        def progress(message: str) -> None:
            self.stdout.write(f"[{time.monotonic() - started:7.1f} s] {message}")
            self.stdout.flush()

        report = generate(
            Options(
                dossiers=options["dossiers"],
                seed=options["seed"],
                today=options["today"],
                organisations=options["organisations"],
                sites_per_organisation=options["sites_per_organisation"],
                training_organisations=options["training_organisations"],
                progress=progress,
            )
        )
        for table, count in sorted(report.counts.items()):
            self.stdout.write(f"  {table}: {count}")
        progress("Terminé.")

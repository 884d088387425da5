from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from clea_platform.backup import BackupError, backup_take


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} Mo".replace(".", ",")


def seconds(value: float) -> str:
    return f"{value:.1f} s".replace(".", ",")


class Command(BaseCommand):
    help = (
        "Sauvegarde la base (pg_dump, format custom) puis les fichiers de MEDIA_ROOT (archive tar), dans un "
        "nouveau répertoire de DESTINATION, avec un manifeste : le nombre de lignes de chaque table, lu dans "
        "l'instantané même du dump. restore_check vérifie la sauvegarde."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("destination", type=Path, nargs="?", default=Path("backups"), help="défaut : backups/")
        parser.add_argument(
            "--no-media", action="store_true", help="la base seule (les fichiers sont copiés autrement, ex. rsync)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            backup = backup_take(
                destination=options["destination"],
                database=connection.settings_dict,
                media_root=None if options["no_media"] else Path(settings.MEDIA_ROOT),
                now=timezone.localtime(),
            )
        except BackupError as error:
            raise CommandError(str(error)) from error
        dump, media = backup.manifest["dump"], backup.manifest["media"]
        self.stdout.write(f"Sauvegarde : {backup.directory}")
        self.stdout.write(
            f"  base : {dump['file']}, {megabytes(dump['bytes'])}, tables : {len(backup.row_counts)}, "
            f"lignes : {sum(backup.row_counts.values())} ({seconds(dump['seconds'])})"
        )
        if media:
            self.stdout.write(
                f"  fichiers : {media['file']}, fichiers archivés : {media['files']}, {megabytes(media['bytes'])} "
                f"({seconds(media['seconds'])})"
            )
        else:
            self.stdout.write("  fichiers : non archivés (--no-media)")

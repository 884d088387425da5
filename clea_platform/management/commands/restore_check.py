import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from clea_platform.backup import (
    BackupError,
    RestoreReport,
    backup_read,
    backup_take,
    database_connection,
    media_files,
    restore_check,
    table_row_counts,
)
from clea_platform.management.commands.backup import seconds


class Command(BaseCommand):
    help = (
        "Restaure une sauvegarde dans une base temporaire (créée puis supprimée) et la vérifie : nombre de lignes "
        "de chaque table, et pour chaque document, présence du fichier et empreinte SHA-256. Sans argument, prend "
        "d'abord un dump de la base configurée et lit les fichiers dans MEDIA_ROOT. Code de sortie non nul "
        "s'il y a un écart (tous sont listés)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "backup",
            type=Path,
            nargs="?",
            help="répertoire écrit par la commande backup, ou un fichier de pg_dump --format=custom",
        )
        parser.add_argument(
            "--media",
            type=Path,
            help="fichiers : répertoire (copie rsync, MEDIA_ROOT) ou archive tar ; défaut : l'archive de la "
            "sauvegarde, sinon MEDIA_ROOT",
        )
        parser.add_argument("--jobs", type=int, default=4, help="connexions parallèles de pg_restore (défaut : 4)")

    def handle(self, *args: Any, **options: Any) -> None:
        database = connection.settings_dict
        try:
            with tempfile.TemporaryDirectory(prefix="clea-restore-check-") as scratch:
                report = self.prepare_and_check(options, database, Path(scratch))
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.write_report(report)
        if not report.ok:
            problems = len(report.table_problems) + len(report.document_problems)
            raise CommandError(f"Restauration non conforme : écarts : {problems}.")
        self.stdout.write(self.style.SUCCESS("Restauration vérifiée : aucun écart."))

    def prepare_and_check(self, options: dict[str, Any], database: dict[str, Any], scratch: Path) -> RestoreReport:
        given: Path | None = options["backup"]
        media_path: Path | None = options["media"]
        if media_path is not None and not media_path.exists():
            raise BackupError(f"{media_path} : introuvable.")
        if given is None:
            self.stdout.write(f"Dump de la base {database['NAME']} (aucune sauvegarde donnée)…")
            backup = backup_take(destination=scratch, database=database, media_root=None, now=timezone.localtime())
            dump, expected = backup.dump, backup.row_counts
            self.stdout.write("Lignes attendues : celles du manifeste (même instantané que le dump).")
        elif given.is_dir():
            backup = backup_read(given)
            if problem := backup.dump_problem():
                raise BackupError(f"Dump inutilisable : {problem}")
            dump, expected = backup.dump, backup.row_counts
            media_path = media_path or backup.media_archive
            self.stdout.write(
                f"Sauvegarde {given} du {backup.manifest['created_at']} (base {backup.manifest['database']})."
            )
            self.stdout.write("Lignes attendues : celles du manifeste (même instantané que le dump).")
        elif given.is_file():
            dump = given
            source = database_connection(database)
            try:
                expected = table_row_counts(source)
            finally:
                source.close()
            self.stdout.write(
                f"Lignes attendues : celles de la base {database['NAME']} maintenant (sans manifeste : exactes "
                "seulement si rien n'y a été écrit depuis le dump)."
            )
        else:
            raise BackupError(f"{given} : introuvable.")
        media = media_files(media_path or Path(settings.MEDIA_ROOT))
        return restore_check(dump=dump, database=database, expected_counts=expected, media=media, jobs=options["jobs"])

    def write_report(self, report: RestoreReport) -> None:
        write = self.stdout.write
        write(f"Base restaurée : {report.scratch_database}, supprimée après lecture ({seconds(report.seconds)}).")
        write(f"Tables comparées : {report.tables} ; lignes : {report.rows} ; écarts : {len(report.table_problems)}")
        for problem in report.table_problems:
            write(f"  ÉCART {problem}")
        write(f"Fichiers lus dans : {report.media}")
        write(f"Documents vérifiés : {sum(report.documents.values())} ; écarts : {len(report.document_problems)}")
        for label, count in sorted(report.documents.items()):
            write(f"  {label} : {count}")
        if report.without_sha256:
            write(f"Sans empreinte enregistrée (présence du fichier seule) : {', '.join(report.without_sha256)}")
        for problem in report.document_problems:
            write(f"  ÉCART {problem}")

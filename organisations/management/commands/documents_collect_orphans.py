import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from clea_platform.documents import orphan_files_collect


# In the bottom app: the collector (clea_platform.documents) reads every app's FileFields through the app registry
# and imports none of them.
class Command(BaseCommand):
    help = (
        "Supprime les fichiers stockés qu'aucune ligne ne désigne (laissés par un worker arrêté entre l'écriture "
        "d'un document et la validation de sa ligne), une fois passé le délai de grâce. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="liste les fichiers qui seraient supprimés, sans rien supprimer"
        )
        parser.add_argument(
            "--grace-minutes",
            type=int,
            default=settings.ORPHAN_FILES_GRACE_MINUTES,
            help="âge minimal d'un fichier pour être supprimé, en minutes (défaut : %(default)s)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["grace_minutes"] < 0:
            raise CommandError("--grace-minutes must be 0 or more.")
        dry_run = options["dry_run"]
        orphans = orphan_files_collect(grace=datetime.timedelta(minutes=options["grace_minutes"]), dry_run=dry_run)
        for orphan in orphans:
            self.stdout.write(
                f"{'would remove' if dry_run else 'removed'} {orphan.name} ({orphan.modified_at:%Y-%m-%d %H:%M})"
            )
        self.stdout.write(
            f"Orphan files found: {len(orphans)} (dry run: none removed)."
            if dry_run
            else f"Orphan files removed: {len(orphans)}."
        )

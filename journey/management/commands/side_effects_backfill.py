from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from journey.backfill import side_effects_backfill


class Command(BaseCommand):
    help = (
        "Redemande les documents promis avant l'outbox et jamais produits (attestations, certificats, "
        "procès-verbaux, lots, fiches annuaire). Idempotente : à lancer une fois après la mise à jour."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Compter sans rien redemander.")

    def handle(self, *args: Any, dry_run: bool = False, **options: Any) -> None:
        promised = side_effects_backfill(dry_run=dry_run)
        for kind, count in sorted(promised.items()):
            self.stdout.write(f"{kind} : {count}")
        title = "Documents à redemander" if dry_run else "Documents redemandés"
        self.stdout.write(self.style.SUCCESS(f"{title} : {sum(promised.values())}"))

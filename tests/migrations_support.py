"""Walking the migration graph in a test.

A test of a data migration goes back to the schema before it, writes rows with the historical models, then
migrates forward. It runs with `django_db(transaction=True)`, so nothing rolls the schema back: the database is
the one every other test shares, and it must be left at the latest state whatever happened, or the tests after it
run against an old schema.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.state import StateApps

# (app label, migration name); a name of None: the app not migrated at all.
MigrationTarget = tuple[str, str | None]


@contextmanager
def migrated_to(targets: Sequence[MigrationTarget]) -> Iterator[StateApps]:
    """Migrate the database to `targets` and yield the historical models of everything then applied. On leaving,
    even on an error, migrate to the latest state (which runs the migrations under test) and drop the cached
    content types, which those migrations may relabel."""
    try:
        MigrationExecutor(connection).migrate(list(targets))
        # A new executor: a loader reads what is applied once, when it is built.
        loader = MigrationExecutor(connection).loader
        yield loader.project_state(list(loader.applied_migrations)).apps
    finally:
        executor = MigrationExecutor(connection)
        latest = executor.loader.graph.leaf_nodes()
        if executor.migration_plan(latest):
            executor.migrate(latest)
        ContentType.objects.clear_cache()

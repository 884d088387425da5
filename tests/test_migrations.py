"""The squashed migrations (docs/architecture.md, "Les migrations"): a database brought up to date by the detailed
migrations they replace is up to date for them too, and a new one records the replaced names as applied."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder

from clea_platform.checks import squashed_migrations_fully_replaced

SQUASHED = "0001_squashed_2026_12"


def project_squashes() -> dict[tuple[str, str], list[tuple[str, str]]]:
    loader = MigrationExecutor(connection).loader
    return {key: migration.replaces for key, migration in loader.disk_migrations.items() if migration.replaces}


@pytest.mark.django_db
def test_each_app_has_one_squashed_migration_replacing_its_detailed_ones() -> None:
    squashes = project_squashes()
    assert {name for _, name in squashes} == {SQUASHED}
    # 13 applications, 60 detailed migrations: what commit 0b05c49 had.
    assert len(squashes) == 13
    assert sum(len(replaced) for replaced in squashes.values()) == 60
    for (app, _), replaced in squashes.items():
        assert {replaced_app for replaced_app, _ in replaced} == {app}


@pytest.mark.django_db
def test_a_database_migrated_by_the_detailed_migrations_has_nothing_left_to_apply() -> None:
    recorder = MigrationRecorder(connection)
    squashes = project_squashes()
    # A database made before the squash records only the detailed names.
    recorder.migration_qs.filter(name=SQUASHED).delete()
    recorded = {(row.app, row.name) for row in recorder.migration_qs.all()}
    for replaced in squashes.values():
        assert set(replaced) <= recorded

    executor = MigrationExecutor(connection)
    assert set(squashes) <= set(executor.loader.applied_migrations)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []


@pytest.mark.django_db
def test_a_database_stopped_halfway_is_refused_by_the_migrate_command_s_check() -> None:
    assert squashed_migrations_fully_replaced(databases=["default"]) == []
    recorder = MigrationRecorder(connection)
    recorder.migration_qs.filter(name=SQUASHED).delete()
    assert squashed_migrations_fully_replaced(databases=["default"]) == []

    # Django would take it for up to date: it falls back on replaced migrations whose files are gone.
    recorder.migration_qs.filter(app="candidates", name="0015_sign_in_link").delete()
    assert ("candidates", SQUASHED) not in MigrationExecutor(connection).loader.applied_migrations

    errors = squashed_migrations_fully_replaced(databases=["default"])
    assert [error.id for error in errors] == ["clea_platform.E001"]
    assert "candidates.0001_squashed_2026_12" in errors[0].msg
    assert "missing: 0015_sign_in_link" in errors[0].msg
    assert "0b05c49" in errors[0].hint
    with pytest.raises(SystemCheckError, match="E001"):
        call_command("migrate", verbosity=0, skip_checks=False)

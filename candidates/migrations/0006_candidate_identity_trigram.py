"""A trigram index on candidates' identity keys, PostgreSQL only: the dossier search's "contains" (LIKE '%…%')
then reads the candidates that match instead of scanning all of them (bench/README.md)."""

from django.db import migrations


def create(apps, schema_editor) -> None:  # noqa: ANN001
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS candidate_identity_trgm ON candidates_candidate USING gin (identity_key gin_trgm_ops)"
    )


def drop(apps, schema_editor) -> None:  # noqa: ANN001
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS candidate_identity_trgm")


class Migration(migrations.Migration):
    dependencies = [("candidates", "0005_dossier_org_recent_idx")]

    operations = [migrations.RunPython(create, drop)]

# The commune table and the directory sheets move to the `directory` app (directory/migrations/0001_initial.py
# takes them into its state). Their rows stay: the tables are only renamed to the new app's names. Their
# indexes and constraints follow the tables on SQLite and PostgreSQL alike, under the names they have.

from django.db import migrations

# Children first: CommunePostcode points at Commune.
MOVED_MODELS = ["CommunePostcode", "DirectorySheet", "Commune"]


class Migration(migrations.Migration):
    dependencies = [
        ("organisations", "0003_api_tokens"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name=name, table=f"directory_{name.lower()}") for name in MOVED_MODELS
            ],
            state_operations=[migrations.DeleteModel(name=name) for name in MOVED_MODELS],
        ),
    ]

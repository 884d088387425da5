# The référentiels move to the `referentiels` app (referentiels/migrations/0001_initial.py takes them into its
# state, evaluations/migrations/0003_move_referentiels_out.py lets go of them here). First their tables take the
# new app's names, with their rows: indexes, constraints and the foreign keys of other tables that point at them
# (dossiers, criterion results, training plans' target criteria) follow a renamed table on PostgreSQL and on
# SQLite alike (Django turns SQLite's legacy_alter_table off), under the names they have.

from django.db import migrations

# Children first, as the state lets go of them in 0003.
MOVED_MODELS = ["Criterion", "SubDomain", "Domain", "Referentiel"]


class Migration(migrations.Migration):
    dependencies = [
        ("evaluations", "0001_initial"),
    ]

    operations = [migrations.AlterModelTable(name=name, table=f"referentiels_{name.lower()}") for name in MOVED_MODELS]

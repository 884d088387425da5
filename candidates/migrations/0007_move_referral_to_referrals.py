"""Referrals move to their own app (referrals/migrations/0001_initial.py creates the model in its state).

Only the state forgets the model here; the table keeps its rows, indexes and constraints and is renamed to
the name the referrals app expects. Nothing else points at it: no foreign key targets Referral."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("candidates", "0006_candidate_identity_trigram")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.AlterModelTable(name="Referral", table="referrals_referral")],
            state_operations=[migrations.DeleteModel(name="Referral")],
        ),
    ]

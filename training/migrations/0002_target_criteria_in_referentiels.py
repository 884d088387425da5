# A training plan's target criteria are now referentiels.Criterion (moved from evaluations with its table and
# rows, see evaluations/migrations/0002_referentiel_tables_renamed.py): only the state changes. The through table
# keeps its name (training_trainingplan_target_criteria) and its columns (trainingplan_id, criterion_id), whose
# foreign key already points at the renamed table.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0001_initial"),
        ("referentiels", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="trainingplan",
                    name="target_criteria",
                    field=models.ManyToManyField(
                        blank=True, related_name="+", to="referentiels.criterion", verbose_name="critères visés"
                    ),
                ),
            ],
        ),
    ]

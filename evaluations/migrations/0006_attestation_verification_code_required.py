import django.db.models

from django.db import migrations

import evaluations.models


class Migration(migrations.Migration):
    dependencies = [
        ("evaluations", "0005_attestation_verification_code_fill"),
    ]

    operations = [
        migrations.AlterField(
            model_name="attestation",
            name="verification_code",
            field=django.db.models.CharField(
                default=evaluations.models.new_attestation_code,
                max_length=10,
                unique=True,
                verbose_name="code de vérification",
            ),
        ),
    ]

# The attestation's own verification code (issue 14). Nullable for the time 0005 fills the attestations already
# issued; 0006 then makes it required and unique.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("evaluations", "0003_move_referentiels_out"),
    ]

    operations = [
        migrations.AddField(
            model_name="attestation",
            name="verification_code",
            field=models.CharField(max_length=10, null=True, verbose_name="code de vérification"),
        ),
    ]

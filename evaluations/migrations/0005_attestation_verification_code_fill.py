# A code for every attestation issued before codes existed: its PDF does not print it (a regeneration will), but
# the platform can show and verify it from now on. Drawn as evaluations.models.new_attestation_code draws them,
# copied here so that this migration does not change if that function does.

import secrets

from django.db import migrations

ALPHABET = "23456789BCDFGHJKLMNPQRSTVWXZ"
LENGTH = 10


def fill_codes(apps, schema_editor):
    Attestation = apps.get_model("evaluations", "Attestation")
    used = set(Attestation.objects.exclude(verification_code=None).values_list("verification_code", flat=True))
    for attestation in Attestation.objects.filter(verification_code=None).only("pk").iterator():
        code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        while code in used:
            code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        used.add(code)
        Attestation.objects.filter(pk=attestation.pk).update(verification_code=code)


class Migration(migrations.Migration):
    dependencies = [
        ("evaluations", "0004_attestation_verification_code"),
    ]

    operations = [
        migrations.RunPython(fill_codes, migrations.RunPython.noop),
    ]

"""Recovery codes stored in clear (django-otp's static tokens) are replaced by their digest
(organisations/recovery_codes.py): the codes their owners hold keep working, and the table no longer hands them out.
A code already hashed (16 hexadecimal characters; a code in clear has 8 base32 ones) is left alone, so a second run
changes nothing. Reversed, it leaves the digests: the codes in clear are kept nowhere."""

import re

from django.db import migrations

from organisations.recovery_codes import recovery_code_digest

_DIGEST = re.compile(r"^[0-9a-f]{16}$")


def hash_recovery_codes(apps, schema_editor):
    StaticToken = apps.get_model("otp_static", "StaticToken")
    for token in StaticToken.objects.iterator():
        if _DIGEST.match(token.token):
            continue
        token.token = recovery_code_digest(token.token, device_id=token.device_id)
        token.save(update_fields=["token"])


class Migration(migrations.Migration):
    dependencies = [
        ("organisations", "0008_merge_audit_chain_two_factor"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(hash_recovery_codes, migrations.RunPython.noop, elidable=False)]

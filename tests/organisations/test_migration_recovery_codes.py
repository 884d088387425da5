"""The migration that stops storing recovery codes in clear replaces each by its digest: the codes their owners hold
keep working, and a second run changes nothing."""

import pytest
from django.test import RequestFactory
from django_otp.plugins.otp_static.models import StaticToken

from organisations.recovery_codes import recovery_code_digest
from organisations.services import CodeCheck, two_factor_verify
from tests.factories import UserFactory
from tests.migrations_support import migrated_to

BEFORE_THE_DIGESTS = ("organisations", "0008_merge_audit_chain_two_factor")
CODES = ["abcdefgh", "ijklmnop"]


@pytest.mark.django_db(transaction=True)
def test_codes_stored_in_clear_become_digests_and_still_open_a_session():
    user = UserFactory()
    with migrated_to([BEFORE_THE_DIGESTS, ("otp_static", "0003_add_timestamps")]) as old_apps:
        device = old_apps.get_model("otp_static", "StaticDevice").objects.create(user_id=user.pk, name="Codes")
        Token = old_apps.get_model("otp_static", "StaticToken")
        for code in CODES:
            Token.objects.create(device=device, token=code)

    stored = set(StaticToken.objects.values_list("token", flat=True))
    assert stored == {recovery_code_digest(code, device_id=device.pk) for code in CODES}

    request = RequestFactory().post("/")
    request.user = user
    request.session = {}
    assert two_factor_verify(request=request, code="ABCD-EFGH", recovery=True) is CodeCheck.OK
    [left] = StaticToken.objects.values_list("token", flat=True)

    # Run again (back and forth): a digest is not hashed a second time.
    with migrated_to([BEFORE_THE_DIGESTS]):
        pass
    assert list(StaticToken.objects.values_list("token", flat=True)) == [left]

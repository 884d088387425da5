"""Two factors (issue 16): required for Certif'Pro, jury members and organisation administrators, offered to
everyone; enrolment, the code after the password, recovery codes, throttling, the reset of a lost phone, and API
tokens minted only from a verified session."""

import base64
import re

import pytest
from axes.models import AccessAttempt
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from organisations.models import ROLES_BY_KIND, ApiToken, AuditLog, OrganisationKind, Role, UserSession
from organisations.recovery_codes import recovery_code_digest
from organisations.services import two_factor_reset
from tests.clients import page_text
from tests.factories import TEST_PASSWORD, OrganisationFactory, UserFactory
from tests.two_factor import provision_device, totp_code

pytestmark = pytest.mark.django_db


def member(make_member, role: str):
    kind = next(k for k in OrganisationKind if role in ROLES_BY_KIND[k])
    return make_member(OrganisationFactory(kind=kind), role=role)


def stored_digests(user) -> set[str]:
    return set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))


def digests_of(user, codes) -> set[str]:
    """What the table holds for the codes shown: their digests, never the codes."""
    device = StaticDevice.objects.get(user=user)
    digests = {recovery_code_digest(code.replace("-", ""), device_id=device.pk) for code in codes}
    assert not digests & {code.replace("-", "") for code in codes}
    return digests


def log_in_with_password(client: Client, user) -> None:
    response = client.post(reverse("login"), {"username": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302


@pytest.mark.parametrize("role", sorted(Role.values))
def test_the_roles_that_require_a_second_factor_are_sent_to_enrolment(role, make_member, client):
    membership = member(make_member, role)
    log_in_with_password(client, membership.user)
    response = client.get(reverse("home"))
    if role in {Role.CERTIFPRO_ADMIN, Role.JURY_MEMBER, Role.ORG_ADMIN}:
        assert response.status_code == 302
        assert response.url == f"{reverse('two_factor_enrol')}?next=/"
    else:
        assert response.status_code == 200


def test_staff_without_membership_must_enrol_before_the_administration(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    log_in_with_password(client, user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("two_factor_enrol"))


def test_enrolment_shows_the_qr_code_and_the_secret_then_the_recovery_codes_once(make_member, client):
    membership = member(make_member, Role.ORG_ADMIN)
    log_in_with_password(client, membership.user)
    page = client.get(reverse("two_factor_enrol"), {"next": "/organisation/sites/"})
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    body = page_text(page)
    assert "<svg" in body and "<title>Code QR" in body
    device = TOTPDevice.objects.get(user=membership.user, confirmed=False)
    secret = base64.b32encode(device.bin_key).decode()
    shown = re.search(r'id="two-factor-secret">([A-Z2-7 ]+)<', body).group(1)
    assert shown.replace(" ", "") == secret
    assert 'autocomplete="one-time-code"' in body and 'inputmode="numeric"' in body
    # A reload keeps the same secret (the app may already hold it).
    client.get(reverse("two_factor_enrol"))
    assert TOTPDevice.objects.get(user=membership.user).key == device.key

    wrong = client.post(reverse("two_factor_enrol"), {"code": "000000", "next": "/organisation/sites/"})
    assert wrong.status_code == 200
    assert 'class="error-summary"' in wrong.content.decode()
    assert wrong.context["form"].errors["code"]
    assert client.get(reverse("home")).status_code == 302
    device.refresh_from_db()
    device.throttling_failure_count = 0  # the back-off of the wrong code is tested below
    device.save()

    code = f"{TOTP(device.bin_key).token():06d}"
    confirmed = client.post(reverse("two_factor_enrol"), {"code": code, "next": "/organisation/sites/"})
    assert confirmed.status_code == 200
    assert "no-store" in confirmed["Cache-Control"]
    codes = re.findall(r"<li><code>([a-z2-7]{4}-[a-z2-7]{4})</code></li>", confirmed.content.decode())
    assert len(codes) == 10
    assert stored_digests(membership.user) == digests_of(membership.user, codes)
    assert 'href="/organisation/sites/"' in confirmed.content.decode()
    assert client.get(reverse("home")).status_code == 200
    assert AuditLog.objects.filter(action="auth.two_factor_enrol", actor=membership.user).exists()
    # Shown once: the page now sends an enrolled user elsewhere, and nothing else lists the codes.
    assert client.get(reverse("two_factor_enrol")).status_code == 302
    assert codes[0] not in client.get(reverse("account")).content.decode()


def test_enrolling_ends_the_other_sessions_opened_without_the_factor(make_member):
    membership = member(make_member, Role.COUNSELLOR)
    other, this = Client(), Client()
    log_in_with_password(other, membership.user)
    log_in_with_password(this, membership.user)
    this.get(reverse("two_factor_enrol"))
    device = TOTPDevice.objects.get(user=membership.user)
    this.post(reverse("two_factor_enrol"), {"code": f"{TOTP(device.bin_key).token():06d}"})
    assert this.get(reverse("home")).status_code == 200
    assert other.get(reverse("home")).status_code == 302  # to the login page
    assert UserSession.objects.filter(user=membership.user).count() == 1
    assert AuditLog.objects.get(action="auth.two_factor_enrol").details == {"sessions_ended": 1}
    assert not AuditLog.objects.filter(action="auth.sessions_end").exists()


def test_a_user_with_a_device_gives_a_code_before_any_page_then_lands_where_they_were_going(make_member, client):
    membership = member(make_member, Role.JURY_MEMBER)
    device = provision_device(membership.user)
    log_in_with_password(client, membership.user)
    for url in (reverse("home"), reverse("juries:session_list"), reverse("account"), reverse("api_tokens")):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("two_factor_verify")), url
    page = client.get(reverse("two_factor_verify"), {"next": reverse("juries:session_list")})
    assert "no-store" in page["Cache-Control"]  # signed in, if not yet verified: private_pages' middleware
    body = page.content.decode()
    assert 'autocomplete="one-time-code"' in body and 'inputmode="numeric"' in body
    assert '<label for="id_code">' in body
    assert 'href="/compte/"' not in body, "no menu before the second factor"
    response = client.post(
        reverse("two_factor_verify"), {"code": totp_code(device), "next": reverse("juries:session_list")}
    )
    assert response.status_code == 302 and response.url == reverse("juries:session_list")
    assert client.get(reverse("juries:session_list")).status_code == 200
    entry = AuditLog.objects.get(action="auth.two_factor", actor=membership.user)
    assert entry.details == {"method": "totp"}


def test_the_same_code_does_not_open_a_second_session(make_member):
    membership = member(make_member, Role.ORG_ADMIN)
    device = provision_device(membership.user)
    code = totp_code(device)
    first, second = Client(), Client()
    for client in (first, second):
        log_in_with_password(client, membership.user)
    assert first.post(reverse("two_factor_verify"), {"code": code}).status_code == 302
    replay = second.post(reverse("two_factor_verify"), {"code": code})
    assert replay.status_code == 200
    assert "déjà servi" in page_text(replay)


def test_an_external_next_is_ignored(make_member, client):
    membership = member(make_member, Role.ORG_ADMIN)
    device = provision_device(membership.user)
    log_in_with_password(client, membership.user)
    response = client.post(reverse("two_factor_verify"), {"code": totp_code(device), "next": "https://evil.example/"})
    assert response.url == reverse("home")


def test_wrong_codes_are_throttled_and_audited(make_member, client):
    membership = member(make_member, Role.CERTIFPRO_ADMIN)
    device = provision_device(membership.user)
    log_in_with_password(client, membership.user)
    wrong = client.post(reverse("two_factor_verify"), {"code": "12345"})
    assert wrong.status_code == 200
    # Right after a wrong code, even the right one waits for django-otp's back-off (1 s, then 2, 4...).
    throttled = client.post(reverse("two_factor_verify"), {"code": totp_code(device)})
    assert throttled.status_code == 200
    assert "attendez quelques secondes" in page_text(throttled)
    assert client.get(reverse("home")).status_code == 302
    reasons = list(AuditLog.objects.filter(action="auth.two_factor_failed").values_list("details", flat=True))
    assert reasons == [{"method": "totp", "reason": "throttled"}, {"method": "totp", "reason": "wrong"}]


def test_a_recovery_code_opens_the_session_once(make_member, client):
    membership = member(make_member, Role.ORG_ADMIN)
    provision_device(membership.user)
    from organisations.services import _recovery_codes_replace

    codes = _recovery_codes_replace(membership.user)
    log_in_with_password(client, membership.user)
    typed = f"{codes[3][:4].upper()}-{codes[3][4:].upper()}"
    response = client.post(reverse("two_factor_verify"), {"recovery_code": typed})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    assert AuditLog.objects.get(action="auth.two_factor").details == {
        "method": "recovery_code",
        "recovery_codes_left": 9,
    }

    again = Client()
    log_in_with_password(again, membership.user)
    used = again.post(reverse("two_factor_verify"), {"recovery_code": typed})
    assert used.status_code == 200
    assert used.context["recovery_open"]
    assert "pas valable" in page_text(used)


def test_renewing_the_recovery_codes_replaces_them(make_member, client_for):
    membership = member(make_member, Role.ORG_ADMIN)
    client = client_for(membership)
    provision_device(membership.user)
    from organisations.services import _recovery_codes_replace

    old = _recovery_codes_replace(membership.user)
    response = client.post(reverse("two_factor_recovery_codes"), {"codes-password": TEST_PASSWORD})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    new = {c.replace("-", "") for c in re.findall(r"<code>([a-z2-7-]{9})</code>", response.content.decode())}
    assert len(new) == 10 and not new & set(old)
    assert stored_digests(membership.user) == digests_of(membership.user, new)


def test_someone_whose_role_does_not_require_it_may_turn_it_off_and_others_may_not(make_member, client_for):
    counsellor = member(make_member, Role.COUNSELLOR)
    provision_device(counsellor.user)
    client = client_for(counsellor)
    assert client.post(reverse("two_factor_disable"), {"disable-password": TEST_PASSWORD}).status_code == 302
    assert not TOTPDevice.objects.filter(user=counsellor.user).exists()
    assert client.get(reverse("home")).status_code == 200

    admin_member = member(make_member, Role.ORG_ADMIN)
    refused = client_for(admin_member).post(reverse("two_factor_disable"), {"disable-password": TEST_PASSWORD})
    assert refused.status_code == 403
    assert TOTPDevice.objects.filter(user=admin_member.user).exists()


def test_certifpro_resets_a_lost_phone_from_the_admin_with_an_audit_row(make_member, client_for):
    juror = member(make_member, Role.JURY_MEMBER)
    lost = client_for(juror)
    assert lost.get(reverse("home")).status_code == 200
    certifpro = make_member(role=Role.CERTIFPRO_ADMIN, is_staff=True, is_superuser=True)
    response = client_for(certifpro).post(
        reverse("admin:organisations_user_changelist"),
        {"action": "reset_two_factor", admin.helpers.ACTION_CHECKBOX_NAME: [juror.user.pk]},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=juror.user).exists()
    entry = AuditLog.objects.get(action="auth.two_factor_reset")
    assert entry.actor == certifpro.user and entry.object_id == str(juror.user.pk)
    assert entry.details == {"devices": 1, "sessions_ended": 1}
    assert not AuditLog.objects.filter(action="auth.sessions_end").exists()
    # The session opened with the lost phone is over; the next login sets up a new authenticator.
    assert lost.get(reverse("home")).status_code == 302
    fresh = Client()
    log_in_with_password(fresh, juror.user)
    assert fresh.get(reverse("home")).url.startswith(reverse("two_factor_enrol"))


def test_only_certifpro_resets_a_second_factor(make_member):
    juror = member(make_member, Role.JURY_MEMBER)
    provision_device(juror.user)
    org_admin = member(make_member, Role.ORG_ADMIN)
    with pytest.raises(PermissionDenied):
        two_factor_reset(user=juror.user, by=org_admin.user)
    assert TOTPDevice.objects.filter(user=juror.user).exists()
    assert not AuditLog.objects.filter(action="auth.two_factor_reset").exists()


def test_api_tokens_are_minted_only_from_a_verified_session(make_member, client_for):
    membership = member(make_member, Role.COUNSELLOR)
    data = {"name": "Logiciel", "membership": membership.pk, "lifetime": 30, "scope": "read_only"}
    password_only = client_for(membership, two_factor=False)
    page = page_text(password_only.get(reverse("api_tokens")))
    assert "double authentification" in page and 'name="name"' not in page
    assert password_only.post(reverse("api_tokens"), data).status_code == 403
    assert not ApiToken.objects.exists()
    assert client_for(membership, two_factor=True).post(reverse("api_tokens"), data).status_code == 302
    assert ApiToken.objects.count() == 1


def test_the_api_treats_a_session_waiting_for_its_code_as_anonymous(make_member, client):
    membership = member(make_member, Role.ORG_ADMIN)
    device = provision_device(membership.user)
    log_in_with_password(client, membership.user)
    assert client.get("/api/v1/dossiers/").status_code in {401, 403}
    client.post(reverse("two_factor_verify"), {"code": totp_code(device)})
    assert client.get("/api/v1/dossiers/").status_code == 200


def test_the_account_page_offers_the_second_factor_to_everyone(make_member, client_for):
    membership = member(make_member, Role.TRAINER)
    page = page_text(client_for(membership).get(reverse("account")))
    assert "Activer la double authentification" in page
    assert f"{reverse('two_factor_enrol')}?next={reverse('account')}" in page


def test_demo_totp_prints_the_code_the_demo_accounts_accept(client):
    import io

    from django.core.management import call_command

    from organisations.demo import DEMO_PASSWORD, seed_foundation

    seed_foundation()
    out = io.StringIO()
    call_command("demo_totp", stdout=out, stderr=io.StringIO())
    code = out.getvalue().strip()
    assert re.fullmatch(r"\d{6}", code)
    client.post(reverse("login"), {"username": "jure.salarie@jury.demo", "password": DEMO_PASSWORD})
    assert client.post(reverse("two_factor_verify"), {"code": code}).url == reverse("home")
    assert client.get(reverse("home")).status_code == 200


def test_a_session_waiting_for_a_code_goes_on_once_the_device_is_turned_off_elsewhere(make_member, client_for):
    counsellor = member(make_member, Role.COUNSELLOR)
    provision_device(counsellor.user)
    waiting = Client()
    log_in_with_password(waiting, counsellor.user)
    assert waiting.get(reverse("home")).url.startswith(reverse("two_factor_verify"))
    client_for(counsellor).post(reverse("two_factor_disable"), {"disable-password": TEST_PASSWORD})
    assert waiting.get(reverse("two_factor_verify")).url == reverse("home")
    assert waiting.get(reverse("home")).status_code == 200


def test_the_account_page_says_when_no_recovery_code_is_left(make_member, client_for):
    membership = member(make_member, Role.ORG_ADMIN)
    provision_device(membership.user)  # an authenticator, no recovery codes: the demo devices' case
    page = page_text(client_for(membership).get(reverse("account")))
    assert "Vous n'avez plus de code de secours" in page
    assert "0 code" not in page


def test_a_session_waiting_for_a_code_whose_device_is_gone_enrols_if_its_roles_require_one(make_member):
    juror = member(make_member, Role.JURY_MEMBER)
    provision_device(juror.user)
    waiting = Client()
    log_in_with_password(waiting, juror.user)
    TOTPDevice.objects.filter(user=juror.user).delete()  # e.g. from a shell: no screen removes a required one
    response = waiting.get(reverse("two_factor_verify"), {"next": reverse("juries:session_list")}, follow=True)
    assert response.redirect_chain[-1][0] == f"{reverse('two_factor_enrol')}?next={reverse('juries:session_list')}"
    assert response.status_code == 200


def test_the_recovery_codes_are_stored_as_salted_digests_that_differ_between_users(make_member):
    from organisations.services import _recovery_codes_replace

    first, second = member(make_member, Role.ORG_ADMIN), member(make_member, Role.ORG_ADMIN)
    codes = _recovery_codes_replace(first.user)
    stored = stored_digests(first.user)
    assert len(stored) == 10 and not stored & set(codes)
    assert all(re.fullmatch(r"[0-9a-f]{16}", digest) for digest in stored)
    # The same code for another user (another device, another salt) is stored differently.
    _recovery_codes_replace(second.user)
    assert not digests_of(second.user, codes) & stored


@pytest.mark.parametrize(
    "url, field",
    [("two_factor_recovery_codes", "codes-password"), ("two_factor_disable", "disable-password")],
)
def test_changing_the_second_factor_asks_for_the_password_again(make_member, client_for, url, field):
    counsellor = member(make_member, Role.COUNSELLOR)
    provision_device(counsellor.user)
    from organisations.services import _recovery_codes_replace

    codes = _recovery_codes_replace(counsellor.user)
    client = client_for(counsellor)
    for data in ({}, {field: "pas le mot de passe"}):
        refused = client.post(reverse(url), data)
        assert refused.status_code == 400
        assert "no-store" in refused["Cache-Control"]
    assert "Mot de passe incorrect : rien n'a été modifié." in page_text(refused)
    assert 'autocomplete="current-password"' in refused.content.decode()
    # Nothing changed: the device and the codes are still there.
    assert TOTPDevice.objects.filter(user=counsellor.user).exists()
    assert stored_digests(counsellor.user) == digests_of(counsellor.user, codes)
    # A wrong password here counts like one at login (axes).
    assert AccessAttempt.objects.filter(username=counsellor.user.email).exists()

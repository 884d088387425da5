import pytest
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from organisations.models import AuditLog
from tests.clients import page_text
from tests.factories import TEST_PASSWORD, UserFactory
from tests.waiting import wait_until

# Password-reset requests are rate-limited in the cache: each test starts with fresh counters.
pytestmark = pytest.mark.usefixtures("fresh_rate_limit")


@pytest.mark.django_db
def test_login_with_email_and_password_records_an_audit_entry(client, org_a, make_member):
    membership = make_member(org_a, email="camille@exemple.fr")
    response = client.post(reverse("login"), {"username": "camille@exemple.fr", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert AuditLog.objects.filter(action="auth.login", actor=membership.user).exists()


@pytest.mark.django_db
def test_a_wrong_password_is_refused_in_french(client):
    UserFactory(email="camille@exemple.fr")
    response = client.post(reverse("login"), {"username": "camille@exemple.fr", "password": "pas le bon"})
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect. Après 5 échecs, le compte est bloqué 30 minutes." in page_text(
        response
    )
    entry = AuditLog.objects.get(action="auth.login_failed")
    assert entry.details == {"email": "camille@exemple.fr"}


@pytest.mark.django_db
def test_the_account_is_locked_after_five_failures_even_with_the_right_password():
    UserFactory(email="camille@exemple.fr")
    client = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(5):
        client.post(reverse("login"), {"username": "camille@exemple.fr", "password": "mauvais mot de passe"})
    response = Client(REMOTE_ADDR="10.0.0.2").post(
        reverse("login"), {"username": "camille@exemple.fr", "password": TEST_PASSWORD}
    )
    assert response.status_code == 429
    assert "Connexion temporairement bloquée" in response.content.decode()


@pytest.mark.django_db
def test_four_failures_do_not_lock_the_account(client):
    UserFactory(email="camille@exemple.fr")
    for _ in range(4):
        client.post(reverse("login"), {"username": "camille@exemple.fr", "password": "mauvais mot de passe"})
    response = client.post(reverse("login"), {"username": "camille@exemple.fr", "password": TEST_PASSWORD})
    assert response.status_code == 302


@pytest.mark.parametrize("password", ["court", "onze caract", "qwerty123456", "1q2w3e4r5t6y"])
def test_short_or_common_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_a_long_passphrase_needs_no_special_characters():
    validate_password("le chat dort sur le canapé bleu")


@pytest.mark.django_db(transaction=True)
def test_password_reset_mail_is_sent_by_a_worker_and_the_link_works(celery_worker, client):
    user = UserFactory(email="camille@exemple.fr")
    response = client.post(reverse("password_reset"), {"email": "camille@exemple.fr"})
    assert response.status_code == 302
    wait_until(lambda: len(mail.outbox) == 1)
    message = mail.outbox[0]
    assert message.to == ["camille@exemple.fr"]
    assert "réinitialisation" in message.subject
    link = next(line for line in message.body.splitlines() if "/compte/mot-de-passe/reinitialiser/" in line)
    path = link.split("testserver", 1)[1]
    form_page = client.get(path, follow=True)
    assert form_page.context["validlink"]
    new_password = "une toute nouvelle phrase de passe"
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password})
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)


@pytest.mark.django_db
def test_password_reset_for_an_unknown_address_says_the_same_and_sends_nothing(client):
    response = client.post(reverse("password_reset"), {"email": "personne@exemple.fr"})
    assert response.status_code == 302
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_password_reset_lifts_the_lockout_and_the_new_password_works_at_once(
    settings, django_capture_on_commit_callbacks
):
    user = UserFactory(email="camille@exemple.fr")
    attacker = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attacker.post(reverse("login"), {"username": "camille@exemple.fr", "password": "mauvais mot de passe"})
    camille = Client(REMOTE_ADDR="10.0.0.2")
    locked = camille.post(reverse("login"), {"username": "camille@exemple.fr", "password": TEST_PASSWORD})
    assert locked.status_code == 429

    with django_capture_on_commit_callbacks(execute=True):
        camille.post(reverse("password_reset"), {"email": "camille@exemple.fr"})
    link = next(line for line in mail.outbox[0].body.splitlines() if "/compte/mot-de-passe/reinitialiser/" in line)
    form_page = camille.get(link.split("testserver", 1)[1], follow=True)
    assert form_page.context["validlink"]
    new_password = "une toute nouvelle phrase de passe"
    done = camille.post(form_page.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password})
    assert done.status_code == 302

    response = camille.post(reverse("login"), {"username": "camille@exemple.fr", "password": new_password})
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert AuditLog.objects.filter(action="auth.password_reset", actor=user, object_id=str(user.pk)).exists()


@pytest.mark.django_db
def test_a_password_reset_that_is_refused_leaves_the_lockout_in_place(settings, django_capture_on_commit_callbacks):
    UserFactory(email="camille@exemple.fr")
    client = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "camille@exemple.fr", "password": "mauvais mot de passe"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password_reset"), {"email": "camille@exemple.fr"})
    link = next(line for line in mail.outbox[0].body.splitlines() if "/compte/mot-de-passe/reinitialiser/" in line)
    form_page = client.get(link.split("testserver", 1)[1], follow=True)
    refused = client.post(form_page.redirect_chain[-1][0], {"new_password1": "court", "new_password2": "court"})
    assert refused.status_code == 200
    assert not AuditLog.objects.filter(action="auth.password_reset").exists()
    response = client.post(reverse("login"), {"username": "camille@exemple.fr", "password": TEST_PASSWORD})
    assert response.status_code == 429

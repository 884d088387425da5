"""Password-reset requests are limited per account and per client address, and a refusal tells no more than the
usual answer (settings.PASSWORD_RESET_LIMIT_*, README "Mots de passe et connexions")."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from organisations.models import AuditLog
from tests.clients import page_text
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limit")]


def without_csrf_token(text: str) -> str:
    # Masked afresh for every response, whatever the request.
    return re.sub(r'("X-CSRFToken": |name="csrfmiddlewaretoken" value=)"[^"]*"', r"\1", text)


def ask(client: Client, email: str, capture) -> object:
    """One reset request, its e-mail (if any) sent as after the commit."""
    with capture(execute=True):
        return client.post(reverse("password_reset"), {"email": email})


def test_an_account_gets_a_few_links_an_hour_then_a_refusal_that_sends_nothing(
    settings, django_capture_on_commit_callbacks
):
    UserFactory(email="camille@exemple.fr")
    limit = settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT
    # From different addresses each time: the account's own limit, not the address's.
    answers = [
        ask(Client(REMOTE_ADDR=f"203.0.113.{n}"), "camille@exemple.fr", django_capture_on_commit_callbacks)
        for n in range(limit)
    ]
    assert [(a.status_code, a.url) for a in answers] == [(302, reverse("password_reset_done"))] * limit
    assert len(mail.outbox) == limit

    # The same address, typed differently: the same account.
    refused = ask(Client(REMOTE_ADDR="203.0.113.99"), " Camille@Exemple.FR", django_capture_on_commit_callbacks)
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(settings.PASSWORD_RESET_LIMIT_PERIOD)
    text = page_text(refused)
    assert "Trop de demandes de réinitialisation" in text
    assert "Aucun courriel n'a été envoyé" in text and "Réessayez dans 60 minutes au plus" in text
    assert "camille" not in text.lower()
    assert len(mail.outbox) == limit, "a refused request sends no e-mail"


def test_the_refusal_is_the_same_whether_an_account_has_the_address_or_not(
    settings, django_capture_on_commit_callbacks
):
    UserFactory(email="camille@exemple.fr")

    def answers(email: str) -> list[tuple[int, str]]:
        client = Client(REMOTE_ADDR="203.0.113.10" if "camille" in email else "203.0.113.20")
        responses = [ask(client, email, django_capture_on_commit_callbacks) for _ in range(4)]
        return [(r.status_code, r.url if r.status_code == 302 else without_csrf_token(page_text(r))) for r in responses]

    existing, unknown = answers("camille@exemple.fr"), answers("personne@exemple.fr")
    assert existing == unknown
    assert [status for status, _ in existing] == [302] * settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT + [429]
    assert [message.to for message in mail.outbox] == [["camille@exemple.fr"]] * 3


def test_one_address_asking_for_many_accounts_is_refused_beyond_its_limit(settings, django_capture_on_commit_callbacks):
    UserFactory(email="camille@exemple.fr")
    limit = settings.PASSWORD_RESET_LIMIT_PER_ADDRESS
    script = Client(REMOTE_ADDR="198.51.100.7")
    statuses = [
        ask(script, f"personne{n}@exemple.fr", django_capture_on_commit_callbacks).status_code for n in range(limit)
    ]
    assert statuses == [302] * limit

    refused = ask(script, "camille@exemple.fr", django_capture_on_commit_callbacks)
    assert refused.status_code == 429
    assert mail.outbox == []
    # Camille, from her own network, still gets her link.
    assert (
        ask(Client(REMOTE_ADDR="203.0.113.5"), "camille@exemple.fr", django_capture_on_commit_callbacks).status_code
        == 302
    )
    assert [message.to for message in mail.outbox] == [["camille@exemple.fr"]]


def test_the_form_page_itself_is_not_counted(settings):
    client = Client(REMOTE_ADDR="198.51.100.8")
    for _ in range(settings.PASSWORD_RESET_LIMIT_PER_ADDRESS + 1):
        assert client.get(reverse("password_reset")).status_code == 200


def test_the_form_asks_for_the_address_in_the_platforms_words():
    """One term for an address across the platform (README, « Le français de la plateforme »): not Django's
    « Courriel » on this one form."""
    page = page_text(Client().get(reverse("password_reset")))
    assert re.search(r'<label for="id_email"[^>]*>Adresse e-mail', page), page
    assert "Courriel" not in page


def test_a_reset_limit_reached_writes_one_audit_row_per_limit_and_window(settings, django_capture_on_commit_callbacks):
    camille = UserFactory(email="camille@exemple.fr")
    limit = settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT
    for n in range(limit + 3):
        ask(Client(REMOTE_ADDR=f"203.0.113.{n}"), "camille@exemple.fr", django_capture_on_commit_callbacks)

    [row] = AuditLog.objects.filter(action="auth.password_reset_limited")
    assert row.details == {"locked": "account", "username": "camille@exemple.fr"}
    assert row.ip_address == f"203.0.113.{limit}"
    assert row.object_id == str(camille.pk)


def test_an_address_over_its_reset_limit_writes_one_audit_row(settings, django_capture_on_commit_callbacks):
    limit = settings.PASSWORD_RESET_LIMIT_PER_ADDRESS
    client = Client(REMOTE_ADDR="198.51.100.3")
    for n in range(limit + 2):
        ask(client, f"personne{n}@exemple.fr", django_capture_on_commit_callbacks)

    [row] = AuditLog.objects.filter(action="auth.password_reset_limited")
    assert row.details == {"locked": "address", "username": f"personne{limit}@exemple.fr"}
    assert row.ip_address == "198.51.100.3"

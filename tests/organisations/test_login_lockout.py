"""Logins are locked per account and per client address, each at its own threshold (settings.LOGIN_FAILURE_LIMITS,
organisations/login_lockout.py): one account attacked from many addresses, and one address trying many accounts
(password spraying)."""

import pytest
from axes.models import AccessAttempt
from django.db.models import Max
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.authentication import BasicAuthentication
from rest_framework.authtoken.views import ObtainAuthToken

from organisations.models import AuditLog
from organisations.services import audit_chain_verify
from tests.clients import page_text
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SPRAYER = "198.51.100.9"
AGENCY = "203.0.113.40"
ACCOUNT_LOCK = "Trop de tentatives de connexion ont échoué pour ce compte"
ADDRESS_LOCK = "Trop de tentatives de connexion ont échoué depuis ce réseau"


def log_in(address: str, email: str, password: str):
    return Client(REMOTE_ADDR=address).post(reverse("login"), {"username": email, "password": password})


def test_one_address_trying_one_password_on_many_accounts_is_locked(settings):
    limit = settings.LOGIN_FAILURE_LIMITS["ip_address"]
    assert limit > settings.LOGIN_FAILURE_LIMITS["username"]
    for n in range(limit):
        UserFactory(email=f"personne{n}@exemple.fr")
    UserFactory(email="camille@exemple.fr")

    statuses = [log_in(SPRAYER, f"personne{n}@exemple.fr", "motdepasse12").status_code for n in range(limit)]
    assert statuses == [200] * (limit - 1) + [429]

    # Even an account never tried and its right password: not from this address.
    refused = log_in(SPRAYER, "camille@exemple.fr", TEST_PASSWORD)
    assert refused.status_code == 429
    text = page_text(refused)
    assert ADDRESS_LOCK in text and ACCOUNT_LOCK not in text
    # No account was locked: each saw one failure.
    assert log_in("203.0.113.7", "personne0@exemple.fr", TEST_PASSWORD).status_code == 302
    assert log_in("203.0.113.7", "camille@exemple.fr", TEST_PASSWORD).status_code == 302


def test_one_account_attacked_from_many_addresses_is_locked(settings):
    UserFactory(email="camille@exemple.fr")
    UserFactory(email="dominique@exemple.fr")
    limit = settings.LOGIN_FAILURE_LIMITS["username"]

    statuses = [log_in(f"198.51.100.{n}", "camille@exemple.fr", "azertyuiopqs").status_code for n in range(limit)]
    assert statuses == [200] * (limit - 1) + [429]

    refused = log_in("203.0.113.8", "camille@exemple.fr", TEST_PASSWORD)
    assert refused.status_code == 429
    text = page_text(refused)
    assert ACCOUNT_LOCK in text and ADDRESS_LOCK not in text
    assert "le lien reçu par courriel débloque le compte" in text
    # The attacking addresses themselves are not locked: one failure each.
    assert log_in("198.51.100.0", "dominique@exemple.fr", TEST_PASSWORD).status_code == 302


def test_an_agency_below_its_threshold_is_not_locked_and_a_colleagues_login_clears_only_her_own_failures(settings):
    limit = settings.LOGIN_FAILURE_LIMITS["ip_address"]
    colleagues = [UserFactory(email=f"collegue{n}@exemple.fr") for n in range(limit)]
    camille = UserFactory(email="camille@exemple.fr")
    # Typos over the morning, spread over the agency's accounts, under each account's own threshold.
    for n in range(limit - 2):
        assert log_in(AGENCY, colleagues[n].email, "pas le bon mot de passe").status_code == 200
    assert log_in(AGENCY, camille.email, "pas le bon non plus").status_code == 200

    assert log_in(AGENCY, camille.email, TEST_PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username=camille.email).exists()
    # Her success cleared her own failure, not her colleagues': the address is one failure under its threshold.
    assert log_in(AGENCY, colleagues[-1].email, "encore raté").status_code == 200
    assert log_in(AGENCY, colleagues[-1].email, "toujours raté").status_code == 429


def test_the_lockout_page_says_when_to_try_again_and_attempts_meanwhile_do_not_push_it_back(settings):
    UserFactory(email="camille@exemple.fr")
    for _ in range(settings.LOGIN_FAILURE_LIMITS["username"]):
        log_in(SPRAYER, "camille@exemple.fr", "cleacleaclea")
    last_failure = AccessAttempt.objects.aggregate(last=Max("attempt_time"))["last"]
    ends_at = timezone.localtime(last_failure + settings.AXES_COOLOFF_TIME)
    failures = AccessAttempt.objects.get(username="camille@exemple.fr").failures_since_start

    refused = log_in("203.0.113.9", "camille@exemple.fr", TEST_PASSWORD)
    assert refused.status_code == 429
    text = page_text(refused)
    assert f"Réessayez après {ends_at:%H}h{ends_at:%M}." in text
    assert "Le blocage se lève 30 minutes après le dernier échec." in text
    assert 0 < int(refused["Retry-After"]) <= settings.AXES_COOLOFF_TIME.total_seconds()
    assert AccessAttempt.objects.get(username="camille@exemple.fr").failures_since_start == failures
    assert AccessAttempt.objects.aggregate(last=Max("attempt_time"))["last"] == last_failure


def _api_views(patterns, found):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _api_views(pattern.url_patterns, found)
        elif view_class := getattr(pattern.callback, "cls", None):
            found.append(view_class)
    return found


def test_no_api_endpoint_takes_a_password_around_the_login_limits():
    """The API authenticates by token or by the session that the (limited) login form opened: no endpoint takes a
    password, which would need the same limits."""
    views = _api_views(get_resolver().url_patterns, [])
    assert len(views) > 10
    for view_class in views:
        assert not issubclass(view_class, ObtainAuthToken), view_class
        for authentication in view_class().get_authenticators():
            assert not isinstance(authentication, BasicAuthentication), view_class


def lockout_rows(action: str = "auth.login_lockout"):
    return list(AuditLog.objects.filter(action=action).order_by("id"))


def test_a_locked_account_writes_one_audit_row_with_the_address_and_the_username_tried(settings):
    camille = UserFactory(email="camille@exemple.fr")
    limit = settings.LOGIN_FAILURE_LIMITS["username"]
    for n in range(limit):
        log_in(f"198.51.100.{n}", "camille@exemple.fr", "azertyuiopqs")
    # Refused while the lock holds: no more rows.
    for _ in range(3):
        assert log_in("198.51.100.77", "camille@exemple.fr", "azertyuiopqs").status_code == 429

    [row] = lockout_rows()
    assert row.details == {"locked": "account", "username": "camille@exemple.fr"}
    assert row.ip_address == f"198.51.100.{limit - 1}"
    assert row.object_id == str(camille.pk)
    assert "azertyuiopqs" not in str(row.details)
    assert audit_chain_verify().intact


def test_a_locked_address_writes_one_audit_row_even_for_accounts_that_do_not_exist(settings):
    limit = settings.LOGIN_FAILURE_LIMITS["ip_address"]
    for n in range(limit + 3):
        log_in(SPRAYER, f"inconnu{n}@exemple.fr", "motdepasse12")

    [row] = lockout_rows()
    assert row.details == {"locked": "address", "username": f"inconnu{limit - 1}@exemple.fr"}
    assert row.ip_address == SPRAYER
    assert row.object_id == ""


def test_failures_under_the_thresholds_write_no_lockout_row(settings):
    UserFactory(email="camille@exemple.fr")
    for n in range(settings.LOGIN_FAILURE_LIMITS["username"] - 1):
        log_in(f"198.51.100.{n}", "camille@exemple.fr", "azertyuiopqs")
    assert lockout_rows() == []

"""One rule for the client's address (clea_platform.request_meta.client_ip), read by every rate limit, throttle,
audit row and login lockout: X-Forwarded-For counts only as far as the proxies in settings.TRUSTED_PROXY_COUNT
wrote it, from the right. Every test here forges the header the way a client can."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory
from django.urls import reverse

from clea_platform.request_meta import client_ip
from directory.api import DirectoryThrottle
from organisations.models import AuditLog
from tests.factories import UserFactory

PROXY = "10.0.0.5"  # the platform's own load balancer, as the socket's peer
CLIENT = "203.0.113.50"
NEIGHBOUR = "203.0.113.51"


@pytest.fixture(autouse=True)
def _fresh_counters(settings) -> None:
    """Each test counts under a key prefix of its own: the counters outlive a test in the cache."""
    cache = settings.CACHES["default"]
    settings.CACHES = {
        **settings.CACHES,
        "default": {**cache, "KEY_PREFIX": f"{cache.get('KEY_PREFIX', '')}-{uuid.uuid4().hex[:8]}"},
    }


def forged(index: int) -> str:
    return f"198.51.100.{index % 250 + 1}"


def _meta(remote_addr: str, xff: str | None = None):
    extra = {"HTTP_X_FORWARDED_FOR": xff} if xff is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote_addr, **extra)


# -- The rule ----------------------------------------------------------------------------------------------------


def test_without_a_trusted_proxy_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(_meta(CLIENT, "1.2.3.4")) == CLIENT
    assert client_ip(_meta(CLIENT, f"1.2.3.4, {NEIGHBOUR}")) == CLIENT


def test_behind_one_proxy_the_right_most_entry_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(_meta(PROXY, CLIENT)) == CLIENT
    # What the client sent comes first; the proxy appended the address it received the request from.
    assert client_ip(_meta(PROXY, f"1.2.3.4, {CLIENT}")) == CLIENT
    assert client_ip(_meta(PROXY, f"1.2.3.4, 5.6.7.8, {CLIENT}")) == CLIENT


def test_behind_two_proxies_the_entry_the_outer_one_wrote_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(_meta(PROXY, f"1.2.3.4, {CLIENT}, 10.0.0.9")) == CLIENT


@pytest.mark.parametrize(
    ("sent", "keyed_on"),
    [
        ("not-an-address", CLIENT),
        ("1.2.3.4, ", CLIENT),
        ("for=1.2.3.4", CLIENT),
        ("unknown, ,", CLIENT),
        ("0.0.0.0", CLIENT),  # noqa: S104
        # An open quote swallows the rest of the header, the proxy's entry too: unreadable, so the peer.
        ('"', PROXY),
        ('"1.2.3.4', PROXY),
    ],
)
def test_whatever_a_client_sends_it_cannot_choose_its_address(settings, sent, keyed_on):
    """Through a proxy that appends the client's address: the key is the address the proxy saw, or (when the
    forged part makes the header unreadable) the proxy's own, never a value of the client's choosing."""
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(_meta(PROXY, f"{sent}, {CLIENT}")) == keyed_on


def test_a_request_that_did_not_come_through_the_proxies_is_keyed_on_its_peer(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(_meta(PROXY, CLIENT)) == PROXY  # one entry where two proxies would have written two
    assert client_ip(_meta(PROXY)) == PROXY


def test_the_old_setting_is_refused_rather_than_ignored():
    """A deployment still saying TRUST_X_FORWARDED_FOR would otherwise key every client on the balancer."""
    env = {**os.environ, "TRUST_X_FORWARDED_FOR": "true", "DJANGO_SETTINGS_MODULE": "clea_platform.settings"}
    started = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True, text=True, check=False
    )
    assert started.returncode != 0
    assert "TRUSTED_PROXY_COUNT" in started.stderr


# -- The public API's throttles ---------------------------------------------------------------------------------

VERIFY = ("/api/v1/certificates/verify/ZZZZZZZZ/", 30)
PUBLIC_ENDPOINTS = {
    "certificates": VERIFY,
    "attestations": ("/api/v1/attestations/verify/ZZZZZZZZZZ/", 30),
    "nearby": ("/api/v1/evaluators/nearby?commune=59350", int(DirectoryThrottle.rate.split("/")[0])),
    "communes": ("/api/v1/communes?q=lille", int(DirectoryThrottle.rate.split("/")[0])),
}


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", PUBLIC_ENDPOINTS.values(), ids=PUBLIC_ENDPOINTS.keys())
def test_a_forged_header_does_not_buy_more_requests_without_a_proxy(settings, endpoint):
    settings.TRUSTED_PROXY_COUNT = 0
    url, allowed = endpoint
    client = Client(REMOTE_ADDR=CLIENT)
    statuses = [client.get(url, HTTP_X_FORWARDED_FOR=forged(i)).status_code for i in range(allowed + 1)]
    assert 429 not in statuses[:allowed]
    assert statuses[allowed] == 429


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", PUBLIC_ENDPOINTS.values(), ids=PUBLIC_ENDPOINTS.keys())
def test_behind_a_proxy_the_throttle_counts_the_address_the_proxy_saw(settings, endpoint):
    settings.TRUSTED_PROXY_COUNT = 1
    url, allowed = endpoint
    through_proxy = Client(REMOTE_ADDR=PROXY)
    statuses = [
        through_proxy.get(url, HTTP_X_FORWARDED_FOR=f"{forged(i)}, {CLIENT}").status_code for i in range(allowed + 1)
    ]
    assert 429 not in statuses[:allowed]
    assert statuses[allowed] == 429
    # Another client behind the same proxy keeps its own allowance, even when it forges the first one's address.
    assert through_proxy.get(url, HTTP_X_FORWARDED_FOR=f"{CLIENT}, {NEIGHBOUR}").status_code != 429


@pytest.mark.django_db
def test_the_token_throttle_counts_anonymous_requests_by_the_same_rule(settings):
    from organisations.api_auth import TokenRateThrottle

    settings.TRUSTED_PROXY_COUNT = 1
    request = _meta(PROXY, f"1.2.3.4, {CLIENT}")
    assert TokenRateThrottle().get_ident(request) == CLIENT


def test_every_throttle_of_the_api_keys_on_the_platform_rule():
    """A throttle added later without the shared base would read X-Forwarded-For by DRF's own rule."""
    from django.urls import get_resolver
    from rest_framework.settings import api_settings

    from clea_platform.ratelimit import PlatformThrottleMixin

    throttles = set(api_settings.DEFAULT_THROTTLE_CLASSES)

    def walk(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from walk(pattern.url_patterns)
            else:
                yield pattern.callback

    for callback in walk(get_resolver().url_patterns):
        view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        throttles.update(getattr(view, "throttle_classes", []))
    assert throttles, "no throttle found: the walk above is broken"
    assert all(issubclass(throttle, PlatformThrottleMixin) for throttle in throttles), throttles


# -- The pages' rate limits, the audit rows and the login lockout -------------------------------------------------


@pytest.mark.django_db
def test_the_verification_page_limit_ignores_a_forged_header(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    client = Client(REMOTE_ADDR=CLIENT)
    url = reverse("certificate_verify", kwargs={"code": "ZZZZZZZZ"})
    statuses = [client.get(url, HTTP_X_FORWARDED_FOR=forged(i)).status_code for i in range(31)]
    assert statuses[:30] == [404] * 30
    assert statuses[30] == 429


@pytest.mark.django_db
def test_behind_a_proxy_the_verification_page_limit_counts_the_address_the_proxy_saw(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client = Client(REMOTE_ADDR=PROXY)
    url = reverse("certificate_verify", kwargs={"code": "ZZZZZZZZ"})
    statuses = [client.get(url, HTTP_X_FORWARDED_FOR=f"{forged(i)}, {CLIENT}").status_code for i in range(31)]
    assert statuses[30] == 429
    assert client.get(url, HTTP_X_FORWARDED_FOR=f"{CLIENT}, {NEIGHBOUR}").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(("proxies", "peer", "expected"), [(0, CLIENT, CLIENT), (1, PROXY, NEIGHBOUR)])
def test_a_failed_login_is_audited_and_counted_under_the_client_address(settings, proxies, peer, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    UserFactory(email="camille@exemple.fr")
    header = "1.2.3.4" if proxies == 0 else f"1.2.3.4, {NEIGHBOUR}"
    Client(REMOTE_ADDR=peer).post(
        reverse("login"),
        {"username": "camille@exemple.fr", "password": "pas le bon"},
        HTTP_X_FORWARDED_FOR=header,
    )
    assert AuditLog.objects.get(action="auth.login_failed").ip_address == expected
    assert AccessAttempt.objects.get(username="camille@exemple.fr").ip_address == expected

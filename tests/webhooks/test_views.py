"""The webhooks' screens: who manages them, the secret shown once, the https rule, the « Tester » button and the log."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from django.urls import reverse

from organisations.models import AuditLog, Role
from tests.webhooks.support import http_receiver, subscribe
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookSubscription
from webhooks.services import address_refusal

pytestmark = pytest.mark.django_db

LIST = reverse("webhooks:list")


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.EVALUATOR, Role.FT_ADVISOR, Role.JURY_MEMBER])
def test_only_administrators_and_certifpro_manage_webhooks(role, org_a, make_member, client_for):
    assert client_for(make_member(org_a, role)).get(LIST).status_code == 403


def test_an_administrator_subscribes_sees_the_secret_once_and_reads_with_their_own_rights(
    org_a, make_member, client_for
):
    admin = make_member(org_a, Role.ORG_ADMIN)
    client = client_for(admin)
    data = {"name": "SI régional", "url": "https://si.example.fr/clea", "event_types": ["certificate.ready"]}

    response = client.post(LIST, data)

    subscription = WebhookSubscription.objects.get()
    assert (subscription.membership, subscription.organisation, subscription.event_types) == (
        admin,
        org_a,
        ["certificate.ready"],
    )
    # Post, redirect, get: the subscription's page shows the secret on its first display, never again.
    detail = reverse("webhooks:detail", args=[subscription.pk])
    assert response.status_code == 302 and response["Location"] == detail
    assert subscription.secret.startswith("whsec_") and subscription.secret in client.get(detail).content.decode()
    page = client.get(detail).content.decode()
    assert subscription.secret not in page and "https://si.example.fr/clea" in page
    assert AuditLog.objects.filter(action="webhook.create", object_id=str(subscription.pk)).exists()


def test_a_plain_http_or_private_address_is_refused(org_a, make_member, client_for, settings):
    settings.WEBHOOK_ALLOW_HTTP = False  # as in production (DEBUG off)
    client = client_for(make_member(org_a, Role.ORG_ADMIN))
    for url in (
        "http://si.example.fr/clea",
        "https://192.168.1.10/clea",
        "https://[::1]/clea",
        "https://localhost/clea",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://imprimante.local./clea",
    ):
        response = client.post(LIST, {"name": "SI", "url": url, "event_types": ["ping", "certificate.ready"]})
        errors = response.context["form"].errors
        assert response.status_code == 200 and errors["url"], url
        assert "event_types" in errors  # "ping" is the test button's, never subscribed to
    assert not WebhookSubscription.objects.exists()


def test_another_organisations_administrator_gets_404_and_certifpro_sees_every_subscription(
    org_a, org_b, make_member, client_for
):
    subscription = subscribe(make_member(org_a, Role.ORG_ADMIN))[0]
    outsider = client_for(make_member(org_b, Role.ORG_ADMIN))
    assert outsider.get(reverse("webhooks:detail", args=[subscription.pk])).status_code == 404
    assert outsider.post(reverse("webhooks:pause", args=[subscription.pk])).status_code == 404
    assert subscription.name not in outsider.get(LIST).content.decode()

    national = client_for(make_member(role=Role.CERTIFPRO_ADMIN))
    assert subscription.name in national.get(LIST).content.decode()
    national.post(reverse("webhooks:pause", args=[subscription.pk]))
    subscription.refresh_from_db()
    assert subscription.is_paused


def test_the_test_button_pings_the_address_and_the_log_shows_the_attempt(
    org_a, make_member, client_for, settings, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    settings.WEBHOOK_ALLOW_HTTP = True
    admin = make_member(org_a, Role.ORG_ADMIN)
    client = client_for(admin)
    with http_receiver(500, 204) as receiver:
        subscription = subscribe(admin, receiver.url)[0]
        subscription_url = reverse("webhooks:detail", args=[subscription.pk])
        for _ in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                response = client.post(reverse("webhooks:test", args=[subscription.pk]))
            assert response.status_code == 302 and response["Location"] == subscription_url
    assert [message.headers["Webhook-Id"] != "" for message in receiver.received] == [True, True]
    statuses = list(subscription.deliveries.values_list("status", flat=True))
    assert sorted(statuses) == [DeliveryStatus.DELIVERED, DeliveryStatus.PENDING]

    # The log: every delivery with its attempts, in a fixed number of queries.
    with django_assert_max_num_queries(12):
        page = client.get(subscription_url).content.decode()
    assert "code 500" in page and "code 204" in page and "Service indisponible" in page


def test_an_address_resolving_to_a_private_one_is_refused_at_send_time_and_nothing_is_sent(
    org_a, make_member, client_for, settings, django_capture_on_commit_callbacks
):
    """What a name resolves to is checked at each send, not only its spelling at subscription: a public name moved
    to 10.0.0.1 or to the cloud's metadata service is refused and logged, and nothing is posted."""
    admin = make_member(org_a, Role.ORG_ADMIN)
    with http_receiver(200) as receiver:
        settings.WEBHOOK_ALLOW_HTTP = True  # to subscribe the local receiver, named "localhost"
        subscription = subscribe(admin, receiver.url.replace("127.0.0.1", "localhost"))[0]
        settings.WEBHOOK_ALLOW_HTTP = False  # production
        with django_capture_on_commit_callbacks(execute=True):
            client_for(admin).post(reverse("webhooks:test", args=[subscription.pk]))
        assert receiver.received == []
    [attempt] = WebhookAttempt.objects.filter(delivery__subscription=subscription)
    assert (attempt.status_code, attempt.response_body) == (None, "")
    assert attempt.error.startswith("Envoi refusé : « localhost » désigne une adresse non publique (127.0.0.1")
    assert "Envoi refusé" in client_for(admin).get(reverse("webhooks:detail", args=[subscription.pk])).content.decode()
    # The resolver decides, not a list of names: the machine's own name (no dot, so no subscription) resolves to
    # a loopback address here.
    host = socket.gethostname()
    assert not ipaddress.ip_address(socket.gethostbyname(host)).is_global
    assert address_refusal(f"https://{host}/hooks").startswith(f"Envoi refusé : « {host} »")
    assert address_refusal("https://[::ffff:10.0.0.1]/hooks").endswith(
        "(10.0.0.1). La plateforme n'envoie qu'à des adresses joignables depuis Internet."
    )

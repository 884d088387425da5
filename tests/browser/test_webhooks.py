"""The webhooks' screens in a real browser (README « Webhooks »): on a phone, an organisation's administrator opens
« Webhooks » from the menu, subscribes a local receiver, copies the secret shown once, presses « Tester » and finds the
ping received in the delivery log, signed with that secret; then pauses and resumes the subscription. A counsellor
of the same organisation finds no menu entry and gets 403. Screenshots in test-artifacts/webhooks/, at 375 and
1280 px; axe on both pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from standardwebhooks.webhooks import Webhook

from organisations.models import Role
from tests.browser.support import PHONE, assert_accessible, log_in, shoot
from tests.webhooks.support import http_receiver
from webhooks.models import WebhookSubscription

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_menu(page) -> None:
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("navigation", name="Navigation principale")).to_be_visible()


def test_an_administrator_subscribes_tests_the_address_and_pauses_it_a_counsellor_is_refused(
    page, live_server, org_a, make_member, settings
):
    settings.WEBHOOK_ALLOW_HTTP = True  # the receiver listens on 127.0.0.1, in plain HTTP
    page.set_default_timeout(10_000)
    base = live_server.url
    admin = make_member(org_a, Role.ORG_ADMIN, email="admin@evaluateur-a.fr", first_name="Claire")
    counsellor = make_member(org_a, Role.COUNSELLOR, email="conseiller@evaluateur-a.fr")
    page.set_viewport_size(PHONE)

    with http_receiver(200) as receiver:
        log_in(page, base, admin.user.email)
        open_menu(page)
        page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Webhooks").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")
        expect(page.get_by_text("Aucun abonnement pour le moment.")).to_be_visible()

        page.get_by_label("Nom").fill("SI régional")
        page.get_by_label("Adresse de réception").fill(receiver.url)
        page.get_by_label("Dossier : changement d'étape (création comprise)").check()
        page.get_by_label("Certificat disponible").check()
        assert_accessible(page, "liste des webhooks")
        shoot(page, "webhooks", "list-form")
        page.get_by_role("button", name="Créer l'abonnement").click()

        # The creation redirects to the subscription's page, which shows the secret on its first display.
        subscription = WebhookSubscription.objects.get()
        expect(page).to_have_url(f"{base}/organisation/webhooks/{subscription.pk}/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Webhook « SI régional »")
        expect(page.locator(".messages[role=status]")).to_contain_text("Copiez son secret maintenant")
        secret = page.get_by_label("Secret de signature").input_value()
        assert secret == subscription.secret and secret.startswith("whsec_")
        assert (subscription.membership, sorted(subscription.event_types)) == (
            admin,
            ["certificate.ready", "dossier.state_changed"],
        )
        assert_accessible(page, "webhook créé (secret affiché)")
        shoot(page, "webhooks", "created-secret")

        # A reload (a GET, after the redirect) creates nothing and no longer shows the secret.
        page.reload()
        expect(page.get_by_role("heading", level=1)).to_have_text("Webhook « SI régional »")
        expect(page.get_by_label("Secret de signature")).to_have_count(0)
        assert secret not in page.content()
        assert WebhookSubscription.objects.count() == 1
        expect(page.get_by_text("Aucun envoi pour le moment.")).to_be_visible()

        # The list shows it, and leads back to it: still no secret.
        page.get_by_role("navigation", name="Fil d’Ariane").get_by_role("link", name="Webhooks").click()
        row = page.get_by_role("row", name=re.compile(r"^SI régional"))
        expect(row.get_by_role("cell")).to_have_text(["Actif", "2 événements", receiver.url])
        shoot(page, "webhooks", "list")
        row.get_by_role("link", name="SI régional").click()
        expect(page).to_have_url(f"{base}/organisation/webhooks/{subscription.pk}/")
        expect(page.get_by_label("Secret de signature")).to_have_count(0)

        # « Tester »: tasks run in the web process here, so the ping is sent before the redirect comes back; the
        # page has no polling, and with a real worker the log would show it after a reload.
        page.get_by_role("button", name="Tester").click()
        expect(page.locator(".messages[role=status]")).to_contain_text("Événement de test « ping » envoyé")
        log = page.get_by_role("table", name="Un envoi par ligne : l'événement, son état et chaque tentative")
        ping = log.get_by_role("row", name=re.compile(r"^ping"))
        expect(ping).to_have_count(1)
        expect(ping.get_by_role("cell").nth(0)).to_have_text("Reçu")
        expect(ping.get_by_role("cell").nth(1)).to_contain_text(re.compile(r"code 200, \d+ ms"))
        expect(page.locator(".badge--success").first).to_have_text("Actif")
        [message] = receiver.received
        payload = Webhook(secret).verify(message.body, message.headers)  # the secret read from the page
        assert (payload["type"], payload["resource_id"]) == ("ping", subscription.pk)
        assert_accessible(page, "webhook après « Tester »")
        shoot(page, "webhooks", "detail-log")

        page.get_by_role("button", name="Mettre en pause").click()
        expect(page.locator(".messages[role=status]")).to_contain_text("L'abonnement « SI régional » est en pause.")
        expect(page.get_by_role("region", name="État").get_by_text("En pause", exact=True)).to_be_visible()
        expect(page.get_by_text("Mis en pause par un administrateur")).to_be_visible()
        shoot(page, "webhooks", "paused")
        page.get_by_role("button", name="Reprendre").click()
        expect(page.locator(".messages[role=status]")).to_contain_text("reprend : les événements lui sont")
        expect(page.get_by_role("button", name="Mettre en pause")).to_be_visible()
        subscription.refresh_from_db()
        assert not subscription.is_paused

    # A counsellor of the same organisation: no menu entry, and the address answers 403.
    log_in(page, base, counsellor.user.email)
    open_menu(page)
    nav = page.get_by_role("navigation", name="Navigation principale")
    expect(nav.get_by_role("link", name="Dossiers")).to_be_visible()
    expect(nav.get_by_role("link", name="Webhooks")).to_have_count(0)
    response = page.goto(f"{base}/organisation/webhooks/")
    assert response is not None and response.status == 403
    response = page.goto(f"{base}/organisation/webhooks/{subscription.pk}/")
    assert response is not None and response.status == 403

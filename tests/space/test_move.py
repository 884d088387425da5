"""« Changer d'organisme » from the candidate's space (issue 19): the habilitated organisations nearest first, a
confirmation page that says what it means, then the move; another person's dossier is a 404."""

from __future__ import annotations

import datetime
import html
from decimal import Decimal

import pytest
from django.urls import reverse

from candidates.forms import MY_TRANSFER_CONSENT_TEXT
from candidates.models import Dossier, DossierTransfer
from directory.models import Commune, CommunePostcode
from notifications.models import Notification
from organisations.models import Habilitation
from tests.candidates.transfer_support import new_organisation
from tests.factories import SiteFactory
from tests.journey import DossierFactory
from tests.juries.factories import make_jury, submit
from tests.space.support import candidate_client

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def _dossier(**kwargs) -> Dossier:
    return DossierFactory(email="lea@exemple.fr", birth_date=datetime.date(1990, 3, 3), **kwargs)


def test_the_candidate_chooses_a_habilitated_organisation_confirms_and_moves():
    dossier = _dossier(state="partially_validated")
    own_site = SiteFactory(organisation=dossier.organisation)
    org_b, team_b = new_organisation()
    site_b = SiteFactory(organisation=org_b, name="Site de Roubaix")
    not_habilitated, _team = new_organisation()
    Habilitation.objects.filter(organisation=not_habilitated).delete()
    hidden = SiteFactory(organisation=not_habilitated, name="Site sans habilitation")
    client = candidate_client(dossier)

    assert reverse("space:move", args=[dossier.pk]) in text(client.get(reverse("space:dossier", args=[dossier.pk])))
    page = text(client.get(reverse("space:move", args=[dossier.pk])))
    assert "Site de Roubaix" in page
    assert reverse("space:move_confirm", args=[dossier.pk, site_b.pk]) in page
    assert reverse("space:move_confirm", args=[dossier.pk, own_site.pk]) not in page
    assert hidden.name not in page
    assert client.get(reverse("space:move_confirm", args=[dossier.pk, hidden.pk])).status_code == 404
    assert client.get(reverse("space:move_confirm", args=[dossier.pk, own_site.pk])).status_code == 404

    confirm = text(client.get(reverse("space:move_confirm", args=[dossier.pk, site_b.pk])))
    assert MY_TRANSFER_CONSENT_TEXT.split(".")[0] in confirm.replace("&#x27;", "'")
    unchecked = client.post(reverse("space:move_confirm", args=[dossier.pk, site_b.pk]), {})
    assert unchecked.status_code == 400
    assert "Cochez la case pour dire que vous êtes d'accord." in text(unchecked)
    assert 'class="error-summary"' in text(unchecked)
    assert not DossierTransfer.objects.exists()

    moved = client.post(
        reverse("space:move_confirm", args=[dossier.pk, site_b.pk]), {"agree": "on", "reason": "Je déménage."}
    )
    assert moved.status_code == 302 and moved["Location"] == reverse("space:dossier", args=[dossier.pk])
    transfer = DossierTransfer.objects.get()
    assert transfer.by_candidate and transfer.reason == "Je déménage."
    assert transfer.consent_text == MY_TRANSFER_CONSENT_TEXT
    dossier.refresh_from_db()
    assert dossier.organisation == org_b and dossier.counsellor == team_b.counsellor.user
    followed = text(client.get(reverse("space:dossier", args=[dossier.pk])))
    assert f"C'est fait. Mon dossier est maintenant suivi par {org_b.name}." in followed
    assert Notification.objects.filter(kind="dossier_transferred_away", organisation=dossier.team.organisation).exists()


def test_without_a_reason_the_move_says_it_is_the_persons_choice():
    dossier = _dossier(state="opened")
    site_b = SiteFactory(organisation=new_organisation()[0])
    candidate_client(dossier).post(reverse("space:move_confirm", args=[dossier.pk, site_b.pk]), {"agree": "on"})
    assert DossierTransfer.objects.get().reason == "Choix de la personne candidate"


def test_the_nearest_organisations_come_first():
    commune = Commune.objects.create(
        insee_code="59512", name="Roubaix", departement="59", departement_name="Nord", region="32",
        region_name="Hauts-de-France", postcodes="59100", latitude=50.69, longitude=3.18,
    )  # fmt: skip
    CommunePostcode.objects.create(commune=commune, postcode="59100")
    dossier = _dossier(state="opened")
    dossier.candidate.postcode = "59100"
    dossier.candidate.save(update_fields=["postcode"])
    far = SiteFactory(organisation=new_organisation()[0], name="Site de Lens", latitude=Decimal("50.43"))
    near = SiteFactory(organisation=new_organisation()[0], name="Site de Tourcoing", latitude=Decimal("50.72"))
    page = text(candidate_client(dossier).get(reverse("space:move", args=[dossier.pk])))
    assert page.index(near.name) < page.index(far.name)
    assert "km de chez moi" in page


def test_a_dossier_before_the_jury_cannot_move_and_says_so():
    dossier = _dossier(state="ready_for_jury")
    submit(make_jury(), dossier)
    site_b = SiteFactory(organisation=new_organisation()[0])
    client = candidate_client(dossier)
    page = text(client.get(reverse("space:move", args=[dossier.pk])))
    assert "Je ne peux pas changer d'organisme maintenant." in page
    assert "C'est possible jusqu'au jury, une fois mon dossier ouvert." in page
    refused = client.post(reverse("space:move_confirm", args=[dossier.pk, site_b.pk]), {"agree": "on"})
    assert refused.status_code == 409
    assert "Un dossier « Soumis au jury » ne peut plus changer d'organisme." in text(refused)
    assert not DossierTransfer.objects.exists()


def test_during_an_evaluation_the_candidate_moves_and_is_told_it_does_not_count():
    dossier = _dossier(state="prior_evaluation")
    org_b, _team = new_organisation()
    site_b = SiteFactory(organisation=org_b)
    client = candidate_client(dossier)
    page = text(client.get(reverse("space:move", args=[dossier.pk])))
    assert reverse("space:move_confirm", args=[dossier.pk, site_b.pk]) in page
    confirm = text(client.get(reverse("space:move_confirm", args=[dossier.pk, site_b.pk])))
    assert (
        "Si je passe une évaluation, elle s'arrête et ne compte pas. Je la repasse avec le nouvel organisme." in confirm
    )
    moved = client.post(reverse("space:move_confirm", args=[dossier.pk, site_b.pk]), {"agree": "on"})
    assert moved.status_code == 302
    dossier.refresh_from_db()
    assert (dossier.organisation, dossier.state) == (org_b, "opened")


def test_another_persons_dossier_is_a_404():
    mine = _dossier(state="opened")
    theirs = DossierFactory(state="opened", email="autre@exemple.fr", birth_date=datetime.date(1970, 1, 1))
    site_b = SiteFactory(organisation=new_organisation()[0])
    client = candidate_client(mine)
    assert client.get(reverse("space:move", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("space:move_confirm", args=[theirs.pk, site_b.pk])).status_code == 404
    assert client.post(reverse("space:move_confirm", args=[theirs.pk, site_b.pk]), {"agree": "on"}).status_code == 404
    assert not DossierTransfer.objects.exists()

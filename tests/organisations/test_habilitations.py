"""Habilitations instructed on the platform: an evaluator organisation applies, Certif'Pro grants or refuses, renews
without a gap, suspends (no new dossier, the current ones go on), reinstates, withdraws; the fees of each new
period are recorded once; an ending habilitation is warned in the queues and once by a notification."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from candidates.models import Dossier
from candidates.services import TransitionRefused, dossier_create, dossier_open
from directory.selectors import directory_sites
from evaluations.services import evaluation_start
from funding.models import FeeEntry, FeeKind
from funding.references import funding_references_load
from funding.services import fee_entries_catch_up
from journey.selectors import work_queue
from notifications.models import Notification
from notifications.services import notifications_daily
from organisations.habilitations import (
    HabilitationRefusal,
    habilitation_application_grant,
    habilitation_application_refuse,
    habilitation_apply,
    habilitation_reinstate,
    habilitation_renew,
    habilitation_suspend,
    habilitation_withdraw,
)
from organisations.models import (
    ApplicationKind,
    ApplicationState,
    AuditLog,
    Habilitation,
    HabilitationApplication,
    HabilitationStatus,
    Role,
)
from tests.clients import page_text
from tests.concurrency import race
from tests.factories import HabilitationFactory, MembershipFactory, OrganisationFactory, SiteFactory
from tests.journey import DossierFactory

TODAY = timezone.localdate
DAY = datetime.timedelta(days=1)
IDENTITY = {
    "civility": "mme",
    "first_name": "Hélène",
    "last_name": "Lefèvre",
    "birth_date": datetime.date(1985, 4, 12),
    "birth_place": "Roubaix",
    "registration_status": "job_seeker",
    "education_level": "3",
    "origin": "own_initiative",
}


@pytest.fixture
def admin_a(org_a):
    return MembershipFactory(organisation=org_a, role=Role.ORG_ADMIN)


@pytest.fixture
def certifpro(db):
    return MembershipFactory(organisation=OrganisationFactory(certifpro=True), role=Role.CERTIFPRO_ADMIN)


def apply(admin, *certifications, kind=ApplicationKind.FIRST, **fields):
    return habilitation_apply(
        by=admin,
        kind=kind,
        certifications=list(certifications),
        sites=fields.pop("sites", None) or [SiteFactory(organisation=admin.organisation)],
        requested_from=fields.pop("requested_from", TODAY()),
        requested_until=fields.pop("requested_until", TODAY() + 700 * DAY),
        **fields,
    )


def fees_of(habilitations):
    return FeeEntry.objects.filter(habilitation__in=habilitations)


def test_an_application_granted_gives_one_habilitation_per_certification_its_fees_once_and_a_notification(
    admin_a, certifpro, django_capture_on_commit_callbacks
):
    funding_references_load()
    application = apply(admin_a, "clea", "clea_numerique", note="Deux sites")
    assert application.state == ApplicationState.SUBMITTED

    until = TODAY() + 3 * 365 * DAY
    habilitations = habilitation_application_grant(
        application=application, by=certifpro, valid_from=TODAY(), valid_until=until
    )

    assert sorted(h.certification for h in habilitations) == ["clea", "clea_numerique"]
    assert all(
        (h.valid_from, h.valid_until, h.application_id) == (TODAY(), until, application.pk) for h in habilitations
    )
    assert Habilitation.objects.in_force().filter(organisation=admin_a.organisation).count() == 2
    # CléA numérique has an application fee (300 €) and one per establishment (150 €); CléA has none.
    assert sorted(fees_of(habilitations).values_list("kind", "amount_cents")) == [
        (FeeKind.APPLICATION, 30000),
        (FeeKind.ESTABLISHMENT, 15000),
    ]
    assert fee_entries_catch_up() == 0
    assert AuditLog.objects.filter(action="habilitation_application.grant", object_id=str(application.pk)).exists()
    told = Notification.objects.get(recipient=admin_a.user, kind="habilitation_decision")
    assert told.title == "Habilitations accordées : CléA, CléA numérique"
    with pytest.raises(HabilitationRefusal, match="instruite entre-temps"):
        habilitation_application_grant(application=application, by=certifpro, valid_from=TODAY(), valid_until=until)
    application = HabilitationApplication.objects.get(pk=application.pk)
    with pytest.raises(HabilitationRefusal, match="n'attend plus"):
        habilitation_application_grant(application=application, by=certifpro, valid_from=TODAY(), valid_until=until)


def test_refusing_needs_a_reason_which_the_organisation_reads(admin_a, certifpro, client_for):
    application = apply(admin_a, "clea")
    url = reverse("organisations:application_detail", args=[application.pk])
    response = client_for(certifpro).post(url, {"action": "refuse", "refuse-reason": "  "})
    assert "Ce champ est obligatoire." in page_text(response)
    with pytest.raises(HabilitationRefusal, match="motif du refus"):
        habilitation_application_refuse(application=application, by=certifpro, reason=" ")
    assert HabilitationApplication.objects.get(pk=application.pk).state == ApplicationState.SUBMITTED

    client_for(certifpro).post(url, {"action": "refuse", "refuse-reason": "Aucun évaluateur formé."})

    application = HabilitationApplication.objects.get(pk=application.pk)
    assert (application.state, application.decision_reason) == (ApplicationState.REFUSED, "Aucun évaluateur formé.")
    told = Notification.objects.get(recipient=admin_a.user, kind="habilitation_decision")
    assert "Motif : Aucun évaluateur formé." in told.body
    assert not Habilitation.objects.filter(organisation=admin_a.organisation).exists()


def test_a_renewal_follows_the_current_period_without_a_gap_and_owes_its_own_fees(admin_a, certifpro):
    funding_references_load()
    current = HabilitationFactory(
        organisation=admin_a.organisation, certification="clea_numerique", valid_until=TODAY() + 40 * DAY
    )
    with pytest.raises(HabilitationRefusal, match="déjà habilité"):
        apply(admin_a, "clea_numerique")
    application = apply(admin_a, "clea_numerique", kind=ApplicationKind.RENEWAL)

    [renewal] = habilitation_application_grant(
        application=application, by=certifpro, valid_from=TODAY(), valid_until=TODAY() + 1000 * DAY
    )

    assert (renewal.previous, renewal.valid_from) == (current, current.valid_until + DAY)
    assert fees_of([renewal]).count() == 2
    # Certif'Pro renews the renewal in turn, without an application; a period renewed once is not renewed again.
    again = habilitation_renew(habilitation=renewal, by=certifpro, valid_until=TODAY() + 1500 * DAY)
    assert (again.valid_from, again.application) == (renewal.valid_until + DAY, None)
    # No application, no application fee (nor does the daily catch-up add one): the new period's establishment fee.
    fee_entries_catch_up()
    assert list(fees_of([again]).values_list("kind", flat=True)) == [FeeKind.ESTABLISHMENT]
    with pytest.raises(HabilitationRefusal, match="déjà renouvelée"):
        habilitation_renew(habilitation=renewal, by=certifpro, valid_until=TODAY() + 2000 * DAY)


def test_a_suspension_stops_new_dossiers_but_the_current_ones_go_on(certifpro, client_for):
    current = DossierFactory(state="opened")
    organisation, team = current.organisation, current.team
    waiting = dossier_create(membership=team.counsellor, certification="clea", candidate_data=IDENTITY)
    habilitation = organisation.habilitations.get(certification="clea")
    admin = MembershipFactory(organisation=organisation, role=Role.ORG_ADMIN)

    habilitation = habilitation_suspend(habilitation=habilitation, by=certifpro, reason="Audit de conformité")

    with pytest.raises(TransitionRefused, match="pas d'habilitation en cours"):
        dossier_open(dossier=waiting, by=team.counsellor, consent_text="J'accepte.")
    form = client_for(team.counsellor).get(reverse("candidates:dossier_create")).context["form"]
    assert "clea" not in dict(form.fields["certification"].choices)
    site = SiteFactory(organisation=organisation)
    assert not directory_sites("clea").filter(pk=site.pk).exists()
    evaluation_start(dossier=current, by=team.evaluator, started_on=TODAY())
    assert Dossier.objects.get(pk=current.pk).state == "prior_evaluation"
    told = Notification.objects.get(recipient=admin.user, kind="habilitation_decision")
    assert told.title == "Habilitation suspendue : CléA"
    assert "les dossiers en cours se poursuivent. Motif : Audit de conformité" in told.body

    habilitation_reinstate(habilitation=habilitation, by=certifpro)
    assert directory_sites("clea").filter(pk=site.pk).exists()
    dossier_open(dossier=waiting, by=team.counsellor, consent_text="J'accepte.")
    assert Habilitation.objects.get(pk=habilitation.pk).status == HabilitationStatus.ACTIVE


def test_an_ending_habilitation_is_in_both_queues_and_notified_once_until_renewed(admin_a, certifpro):
    ending = HabilitationFactory(organisation=admin_a.organisation, valid_until=TODAY() + 30 * DAY)
    HabilitationFactory(organisation=admin_a.organisation, certification="clea_numerique")
    apply(admin_a, "clea_management")

    [item] = work_queue(admin_a).items
    assert (item.kind, item.url) == (
        "habilitation_expiring",
        reverse("organisations:habilitation_detail", args=[ending.pk]),
    )
    assert {item.kind: item.action for item in work_queue(certifpro).items} == {
        "habilitation_applications": "Instruire 1 demande d'habilitation",
        "habilitations_to_renew": "Renouveler 1 habilitation qui prend fin dans les 3 mois",
    }
    assert notifications_daily() == 1
    assert notifications_daily() == 0
    told = Notification.objects.get(recipient=admin_a.user, kind="habilitation_expiring")
    assert told.title == f"Votre habilitation CléA prend fin le {ending.valid_until:%d/%m/%Y}"

    # Its renewal applied for, awaiting Certif'Pro: nothing left for the organisation to do.
    renewal = apply(admin_a, "clea", kind=ApplicationKind.RENEWAL)
    assert work_queue(admin_a).items == []
    habilitation_application_refuse(application=renewal, by=certifpro, reason="Pièces manquantes")
    assert [item.kind for item in work_queue(admin_a).items] == ["habilitation_expiring"]
    habilitation_renew(habilitation=ending, by=certifpro, valid_until=TODAY() + 800 * DAY)
    assert work_queue(admin_a).items == []


def test_only_certifpro_instructs_and_an_admin_applies_for_its_own_organisation_only(
    admin_a, org_b, certifpro, make_member, client_for
):
    application = apply(admin_a, "clea")
    habilitation = HabilitationFactory(organisation=admin_a.organisation, certification="clea_numerique")
    detail = reverse("organisations:application_detail", args=[application.pk])
    admin = client_for(admin_a)
    assert admin.post(detail, {"action": "grant", "grant-valid_from": "2027-01-01"}).status_code == 403
    assert (
        admin.post(
            reverse("organisations:habilitation_detail", args=[habilitation.pk]),
            {"action": "suspend", "suspend-reason": "x"},
        ).status_code
        == 403
    )
    with pytest.raises(PermissionDenied):
        habilitation_suspend(habilitation=habilitation, by=admin_a, reason="x")
    with pytest.raises(PermissionDenied):
        apply(admin_a, "clea_management", sites=[SiteFactory(organisation=org_b)])
    for role in (Role.COUNSELLOR, Role.EVALUATOR):
        client = client_for(make_member(admin_a.organisation, role=role))
        assert client.get(reverse("organisations:habilitation_list")).status_code == 403
        assert client.get(detail).status_code == 403
    assert client_for(certifpro).get(reverse("organisations:application_create")).status_code == 403
    # Another organisation's administrator: 404, as for a missing one (tests/organisations/tenancy.py walks the rest).
    assert client_for(make_member(org_b, role=Role.ORG_ADMIN)).get(detail).status_code == 404


def test_the_apply_form_offers_the_organisation_s_sites_and_reports_a_refusal(admin_a, org_b, client_for):
    mine = SiteFactory(organisation=admin_a.organisation, name="Site de Roubaix")
    SiteFactory(organisation=org_b, name="Site d'ailleurs")
    HabilitationFactory(organisation=admin_a.organisation, certification="clea")
    client = client_for(admin_a)
    url = reverse("organisations:application_create")
    page = page_text(client.get(url))
    assert "Site de Roubaix" in page and "Site d'ailleurs" not in page

    data = {
        "kind": "first",
        "certifications": ["clea"],
        "sites": [mine.pk],
        "requested_from": f"{TODAY():%Y-%m-%d}",
        "requested_until": f"{TODAY() + 700 * DAY:%Y-%m-%d}",
    }
    assert "déjà habilité pour CléA" in page_text(client.post(url, data))
    response = client.post(url, {**data, "certifications": ["clea_numerique"]})
    application = HabilitationApplication.objects.get()
    assert response.url == reverse("organisations:application_detail", args=[application.pk])
    assert list(application.sites.all()) == [mine]


def test_certifpro_s_queue_filters_applications_by_certification_and_state(admin_a, org_b, certifpro, client_for):
    numerique = apply(admin_a, "clea_numerique")
    clea = apply(MembershipFactory(organisation=org_b, role=Role.ORG_ADMIN), "clea", "clea_management")
    habilitation_application_refuse(application=clea, by=certifpro, reason="Dossier incomplet")
    url = reverse("organisations:application_list")
    client = client_for(certifpro)

    def listed(query):
        return [application.pk for application in client.get(url, query).context["page"]]

    assert listed({}) == [numerique.pk, clea.pk]  # awaiting first
    assert listed({"certification": "clea"}) == [clea.pk]
    assert listed({"certification": "clea_numerique", "state": "submitted"}) == [numerique.pk]
    assert listed({"state": "refused", "kind": "first"}) == [clea.pk]


def test_certifpro_suspends_and_renews_from_the_habilitation_s_page(admin_a, certifpro, client_for):
    habilitation = HabilitationFactory(organisation=admin_a.organisation, valid_until=TODAY() + 20 * DAY)
    url = reverse("organisations:habilitation_detail", args=[habilitation.pk])
    client = client_for(certifpro)
    page = page_text(client.get(url))
    assert "Renouveler l'habilitation" in page and "Rétablir l'habilitation" not in page
    # What a withdrawal enforces, and only that: the dossiers past their prior evaluation's start go on.
    assert "un dossier ouvert ne peut plus commencer son évaluation préalable" in page
    assert "Les dossiers dont l'évaluation préalable a commencé se poursuivent." in page

    assert "Ce champ est obligatoire." in page_text(client.post(url, {"action": "suspend", "suspend-reason": ""}))
    client.post(url, {"action": "suspend", "suspend-reason": "Audit de conformité"})
    assert Habilitation.objects.get(pk=habilitation.pk).status == HabilitationStatus.SUSPENDED
    # A renewal granted while suspended would start active and lift the suspension by itself: refused.
    renew = {"action": "renew", "renew-valid_until": f"{TODAY() + 900 * DAY:%Y-%m-%d}"}
    page = page_text(client.get(url))
    assert "Renouveler l'habilitation" not in page and "Rétablir l'habilitation" in page
    assert "rétablissez-la avant de la renouveler" in page_text(client.post(url, renew))
    assert not Habilitation.objects.filter(previous=habilitation).exists()
    application = apply(admin_a, "clea", kind=ApplicationKind.RENEWAL)
    with pytest.raises(HabilitationRefusal, match="rétablissez-la"):
        habilitation_application_grant(
            application=application, by=certifpro, valid_from=TODAY(), valid_until=TODAY() + 900 * DAY
        )

    client.post(url, {"action": "reinstate", "reinstate-reason": ""})
    response = client.post(url, renew)
    renewal = Habilitation.objects.get(previous=habilitation)
    assert response.url == reverse("organisations:habilitation_detail", args=[renewal.pk])
    assert renewal.valid_from == habilitation.valid_until + DAY
    assert "Renouveler l'habilitation" not in page_text(client.get(url))


def test_the_demo_has_an_application_to_instruct_and_a_habilitation_ending_for_nord_s_admin(db):
    from organisations.demo import seed_foundation

    orgs = seed_foundation()
    seed_foundation()  # seeding again adds nothing

    nord = orgs["nord"]
    [application] = HabilitationApplication.objects.submitted()
    assert (application.organisation, application.certifications) == (nord, ["clea_management"])
    assert application.sites.count() == 1
    [ending] = Habilitation.objects.expiring()
    assert (ending.organisation, ending.certification) == (nord, "clea_numerique")
    camille = nord.memberships.get(user__email="conseillere@evaluateur-nord.demo", role=Role.ORG_ADMIN)
    assert [item.kind for item in work_queue(camille).items] == ["habilitation_expiring"]


def test_withdrawing_or_suspending_a_period_also_moves_the_renewal_already_granted(admin_a, certifpro):
    current = HabilitationFactory(organisation=admin_a.organisation, valid_until=TODAY() + 30 * DAY)
    renewal = habilitation_renew(habilitation=current, by=certifpro, valid_until=TODAY() + 800 * DAY)

    habilitation_suspend(habilitation=current, by=certifpro, reason="Audit de conformité")
    assert not Habilitation.objects.in_force(TODAY() + 60 * DAY).exists()
    habilitation_reinstate(habilitation=Habilitation.objects.get(pk=current.pk), by=certifpro)
    assert Habilitation.objects.in_force(TODAY() + 60 * DAY).get() == renewal

    habilitation_withdraw(habilitation=Habilitation.objects.get(pk=current.pk), by=certifpro, reason="Fraude")
    assert Habilitation.objects.get(pk=renewal.pk).status == HabilitationStatus.WITHDRAWN
    told = Notification.objects.filter(recipient=admin_a.user, title__startswith="Habilitations retirées")
    assert list(told.values_list("title", flat=True)) == ["Habilitations retirées : CléA"]
    assert not Habilitation.objects.in_force(TODAY() + 60 * DAY).exists()


def test_a_period_whose_renewal_was_withdrawn_is_ending_again_and_can_be_renewed_again(admin_a, certifpro):
    current = HabilitationFactory(organisation=admin_a.organisation, valid_until=TODAY() + 30 * DAY)
    renewal = habilitation_renew(habilitation=current, by=certifpro, valid_until=TODAY() + 800 * DAY)
    habilitation_withdraw(habilitation=renewal, by=certifpro, reason="Site fermé")
    assert list(Habilitation.objects.expiring()) == [current]
    application = apply(admin_a, "clea", kind=ApplicationKind.RENEWAL)

    [again] = habilitation_application_grant(
        application=application, by=certifpro, valid_from=TODAY(), valid_until=TODAY() + 900 * DAY
    )

    assert (again.previous, again.valid_from) == (current, current.valid_until + DAY)
    assert not Habilitation.objects.expiring().exists()
    with pytest.raises(HabilitationRefusal, match="déjà renouvelée"):
        habilitation_renew(habilitation=current, by=certifpro, valid_until=TODAY() + 900 * DAY)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite (the embedded mode) runs one writing transaction at a time"
)
@pytest.mark.django_db(transaction=True)
def test_a_grant_and_a_direct_renewal_at_once_make_one_renewal_and_a_refusal():
    admin = MembershipFactory(role=Role.ORG_ADMIN)
    certifpro = MembershipFactory(organisation=OrganisationFactory(certifpro=True), role=Role.CERTIFPRO_ADMIN)
    current = HabilitationFactory(organisation=admin.organisation, valid_until=TODAY() + 30 * DAY)
    application = apply(admin, "clea", kind=ApplicationKind.RENEWAL)
    until = TODAY() + 900 * DAY

    outcome = race(
        lambda: habilitation_application_grant(
            application=application, by=certifpro, valid_from=TODAY(), valid_until=until
        ),
        lambda: habilitation_renew(habilitation=current, by=certifpro, valid_until=until),
    )

    assert isinstance(outcome["second"], HabilitationRefusal), outcome
    assert Habilitation.objects.filter(previous=current).count() == 1


def test_a_renewal_instructed_after_its_period_ended_is_granted_from_the_date_certifpro_sets(admin_a, certifpro):
    current = HabilitationFactory(organisation=admin_a.organisation, valid_until=TODAY() + 10 * DAY)
    application = apply(admin_a, "clea", kind=ApplicationKind.RENEWAL)
    Habilitation.objects.filter(pk=current.pk).update(valid_from=TODAY() - 800 * DAY, valid_until=TODAY() - DAY)

    [granted] = habilitation_application_grant(
        application=application, by=certifpro, valid_from=TODAY(), valid_until=TODAY() + 900 * DAY
    )

    assert (granted.valid_from, granted.previous) == (TODAY(), None)
    assert Habilitation.objects.in_force().get() == granted

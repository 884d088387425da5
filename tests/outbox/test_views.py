"""The operators' page (issue 13): who sees it, what it lists, and the retry."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from evaluations.models import Attestation
from organisations.models import Role
from outbox.models import SideEffect, SideEffectState, overdue_after
from tests.audit import audit_rows_for
from tests.clients import page_text
from tests.factories import OrganisationFactory
from tests.journey import DossierFactory
from tests.outbox.support import DISK_FULL, failed_attestation, side_effect

pytestmark = pytest.mark.django_db

LIST = reverse("outbox:side_effect_list")
LATE = overdue_after() + datetime.timedelta(minutes=1)
RECENT = datetime.timedelta(seconds=30)


def retry_url(row: SideEffect) -> str:
    return reverse("outbox:side_effect_retry", args=[row.pk])


def shown(response) -> list[int]:
    return [row.pk for row in response.context["page"].object_list]


def flashed(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def certifpro(make_member):
    return make_member(role=Role.CERTIFPRO_ADMIN)


# -- Who sees the page -------------------------------------------------------------------------------------------


def test_certifpro_sees_every_organisation_s_side_effects_with_their_organisation(org_a, org_b, certifpro, client_for):
    mine, theirs = side_effect(org_a, label="Courriel A"), side_effect(org_b, label="Courriel B")
    national = side_effect(None, label="Relevé national")

    response = client_for(certifpro).get(LIST)

    assert response.status_code == 200
    assert set(shown(response)) == {mine.pk, theirs.pk, national.pk}
    body = page_text(response)
    assert "Évaluateur A" in body and "Évaluateur B" in body and "National" in body
    assert '<th scope="col">Organisme</th>' in body


def test_an_organisation_administrator_sees_only_its_own(org_a, org_b, make_member, client_for):
    mine, theirs = side_effect(org_a, label="Courriel A"), side_effect(org_b, label="Courriel B")
    side_effect(None, label="Relevé national")

    client = client_for(make_member(org_a, role=Role.ORG_ADMIN))
    response = client.get(LIST, {"state": "all"})

    assert shown(response) == [mine.pk]
    body = page_text(response)
    assert "Courriel B" not in body and "Relevé national" not in body
    assert response.context["counts"] == {"failed": 1, "pending": 0, "overdue": 0}
    # Its own organisation needs no column, and it has no other organisation to look for.
    assert '<th scope="col">Organisme</th>' not in body
    assert "organisation" not in response.context["filters"].fields
    assert shown(client.get(LIST, {"organisation": org_b.name})) == [mine.pk]
    assert theirs.pk not in shown(client.get(LIST, {"organisation": org_b.name}))


@pytest.mark.parametrize(
    "role", [Role.COUNSELLOR, Role.EVALUATOR, Role.TRAINER, Role.JURY_MEMBER, Role.FT_ADVISOR], ids=str
)
def test_other_roles_are_refused_the_page_and_the_retry(role, org_a, make_member, client_for):
    row = side_effect(org_a)
    client = client_for(make_member(org_a, role=role))

    assert client.get(LIST).status_code == 403
    assert client.post(retry_url(row)).status_code == 403
    row.refresh_from_db()
    assert (row.state, row.attempts) == (SideEffectState.FAILED, 5)


def test_an_anonymous_visitor_is_sent_to_the_login_page(org_a, client):
    row = side_effect(org_a)
    for response in (client.get(LIST), client.post(retry_url(row))):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_the_navigation_links_the_page_for_operators_only(org_a, certifpro, make_member, client_for):
    link = f'href="{LIST}"'
    assert link in page_text(client_for(certifpro).get(reverse("home")))
    assert link in page_text(client_for(make_member(org_a, role=Role.ORG_ADMIN)).get(reverse("home")))
    assert link not in page_text(client_for(make_member(org_a, role=Role.COUNSELLOR)).get(reverse("home")))
    # On the page itself, the link says so.
    assert f'{link} aria-current="page"' in page_text(client_for(certifpro).get(LIST))


# -- What it lists -----------------------------------------------------------------------------------------------


def test_by_default_it_lists_the_failed_then_the_overdue_and_counts_each_state(org_a, certifpro, client_for):
    old_failure = side_effect(org_a, label="Échec ancien", age=datetime.timedelta(days=2))
    new_failure = side_effect(org_a, label="Échec récent", age=datetime.timedelta(hours=1))
    overdue = side_effect(org_a, label="En retard", state=SideEffectState.PENDING, age=LATE)
    side_effect(org_a, label="Dans les temps", state=SideEffectState.PENDING, age=RECENT)
    side_effect(
        org_a,
        label="En pause",
        state=SideEffectState.PENDING,
        attempts=2,
        available_at=timezone.now() + datetime.timedelta(seconds=40),
    )
    side_effect(org_a, label="Déjà fait", state=SideEffectState.DONE)

    response = client_for(certifpro).get(LIST)

    # Failed first (newest first), then the pending ones due for too long; never the done ones, nor the pending
    # ones still in time or waiting for their backoff.
    assert shown(response) == [new_failure.pk, old_failure.pk, overdue.pk]
    assert response.context["counts"] == {"failed": 2, "pending": 3, "overdue": 1}
    body = " ".join(page_text(response).split())
    assert "<strong>2</strong> en échec" in body
    assert "<strong>3</strong> en attente</a> (dont 1 en retard)" in body
    assert "3 documents ou courriels à traiter : les échecs d'abord, puis les retards" in body
    assert "5 tentatives" in body
    assert body.count(">Relancer<") == 3
    # The state is written, not only coloured.
    assert 'class="badge badge--danger">En échec<' in body
    assert 'class="badge badge--warning">En retard<' in body
    # The worker's error, folded.
    assert '<details class="outbox-table__error"> <summary>Voir l\'erreur' in body
    assert DISK_FULL in body


@pytest.mark.parametrize(
    ("state", "labels"),
    [
        ("failed", ["Échec"]),
        ("pending", ["Dans les temps", "En retard"]),
        ("done", ["Déjà fait"]),
        ("all", ["Dans les temps", "En retard", "Échec", "Déjà fait"]),
    ],
)
def test_it_filters_by_state(state, labels, org_a, certifpro, client_for):
    side_effect(org_a, label="En retard", state=SideEffectState.PENDING, age=LATE)
    side_effect(org_a, label="Déjà fait", state=SideEffectState.DONE, age=datetime.timedelta(minutes=30))
    side_effect(org_a, label="Échec", age=datetime.timedelta(minutes=20))
    side_effect(org_a, label="Dans les temps", state=SideEffectState.PENDING, age=RECENT)

    response = client_for(certifpro).get(LIST, {"state": state})

    assert [row.label for row in response.context["page"].object_list] == labels


def test_a_done_row_shows_when_it_was_done_and_no_retry_button(org_a, certifpro, client_for):
    done = side_effect(org_a, label="Déjà fait", state=SideEffectState.DONE)

    body = page_text(client_for(certifpro).get(LIST, {"state": "done"}))

    assert f"Aucune : fait le {timezone.localtime(done.done_at):%d/%m/%Y %H:%M}" in body
    assert retry_url(done) not in body


def test_it_filters_by_kind(org_a, certifpro, client_for):
    email = side_effect(org_a, kind="email")
    certificate = side_effect(org_a, kind="certificate", label="Certificat de Léa Martin")

    client = client_for(certifpro)

    assert shown(client.get(LIST, {"kind": "certificate"})) == [certificate.pk]
    assert shown(client.get(LIST, {"kind": "email"})) == [email.pk]
    # The kinds by their French names, each app's own.
    kinds = dict(client.get(LIST).context["filters"].fields["kind"].choices)
    assert kinds["certificate"] == "Certificat"
    assert kinds["attestation"] == "Attestation de validation partielle"
    assert "Certificat de Léa Martin" in page_text(client.get(LIST)) and ">Certificat<" in page_text(client.get(LIST))


def test_certifpro_finds_an_organisation_by_name_or_siret(org_a, org_b, certifpro, client_for):
    mine, theirs = side_effect(org_a), side_effect(org_b)
    client = client_for(certifpro)

    assert shown(client.get(LIST, {"organisation": "VALUATEUR a"})) == [mine.pk]
    spaced_siret = " ".join([org_b.siret[:3], org_b.siret[3:6], org_b.siret[6:9], org_b.siret[9:]])
    assert shown(client.get(LIST, {"organisation": spaced_siret})) == [theirs.pk]
    response = client.get(LIST, {"organisation": "Nulle part"})
    assert shown(response) == []
    assert "Aucun document ni courriel ne correspond à ces critères." in page_text(response)


def test_an_unknown_filter_value_says_so_and_filters_nothing_else(org_a, certifpro, client_for):
    row = side_effect(org_a)

    response = client_for(certifpro).get(LIST, {"state": "perdu", "kind": "email"})

    assert response.status_code == 200
    assert shown(response) == [row.pk]
    assert "Sélectionnez un choix valide" in page_text(response)


def test_fifty_rows_a_page_and_the_filters_follow_the_pages(org_a, certifpro, client_for):
    rows = [side_effect(org_a, label=f"Courriel {n}", age=datetime.timedelta(minutes=n)) for n in range(51)]
    side_effect(org_a, kind="certificate", label="Certificat")
    client = client_for(certifpro)

    first = client.get(LIST, {"kind": "email"})
    assert shown(first) == [row.pk for row in rows[:50]]
    assert "Page 1 sur 2" in page_text(first)
    assert 'href="?kind=email&amp;page=2"' in first.content.decode()

    second = client.get(LIST, {"kind": "email", "page": "2"})
    assert shown(second) == [rows[50].pk]
    # A retry from page 2 brings the operator back to page 2 with the same filters.
    assert '<input type="hidden" name="query" value="kind=email&amp;page=2">' in second.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "Rien en attente : tous les documents et courriels ont été produits."),
        ({"state": "pending"}, "Rien en attente : tous les documents et courriels ont été produits."),
        ({"state": "failed"}, "Aucun échec : rien n'attend de relance."),
        ({"state": "all"}, "Aucun document ni courriel pour le moment."),
    ],
)
def test_the_empty_page_says_all_is_well(query, message, org_a, make_member, client_for):
    response = client_for(make_member(org_a, role=Role.ORG_ADMIN)).get(LIST, query)
    body = page_text(response)
    assert message in body
    assert "<table" not in body


def test_the_default_page_says_when_the_pending_ones_are_in_time(org_a, make_member, client_for):
    side_effect(org_a, state=SideEffectState.PENDING, age=RECENT)
    side_effect(org_a, state=SideEffectState.PENDING, age=RECENT)

    body = page_text(client_for(make_member(org_a, role=Role.ORG_ADMIN)).get(LIST))

    assert "Rien à traiter : aucun échec, et les 2 documents ou courriels en attente sont dans les temps." in body


# -- The retry ---------------------------------------------------------------------------------------------------


def test_retrying_a_failed_attestation_renders_it_and_records_who_asked(
    certifpro, client_for, django_capture_on_commit_callbacks
):
    row, dossier = failed_attestation()
    assert not Attestation.objects.filter(dossier=dossier).exists()
    client = client_for(certifpro)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(retry_url(row), {"query": "state=failed&page=1"})
        # Within the request, before its commit has been acted on: pending again, with a fresh count.
        row.refresh_from_db()
        assert (row.state, row.attempts) == (SideEffectState.PENDING, 0)

    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?state=failed&page=1"
    assert flashed(response) == [
        (
            "success",
            f"Relance de « Attestation du dossier {dossier.reference} » demandée : "
            "elle sera traitée dans quelques instants.",
        )
    ]
    # The commit queued the run, and the run produced the document.
    attestation = Attestation.objects.get(dossier=dossier)
    assert attestation.file.size > 0
    row.refresh_from_db()
    assert (row.state, row.attempts, row.result) == (SideEffectState.DONE, 1, str(attestation))
    [audit] = audit_rows_for(row)
    assert (audit.action, audit.actor, audit.organisation) == ("outbox.retry", certifpro.user, dossier.organisation)
    assert audit.details == {"kind": "attestation", "last_error": DISK_FULL}


def test_an_organisation_administrator_retries_its_own_attestation(
    org_a, make_member, client_for, django_capture_on_commit_callbacks
):
    row, dossier = failed_attestation(org_a)
    admin = make_member(org_a, role=Role.ORG_ADMIN)

    with django_capture_on_commit_callbacks(execute=True):
        client_for(admin).post(retry_url(row))

    assert Attestation.objects.filter(dossier=dossier).exists()
    assert audit_rows_for(row).get().actor == admin.user


def test_another_organisation_s_row_is_a_404_and_stays_failed(org_a, org_b, make_member, client_for):
    theirs = side_effect(org_b)

    response = client_for(make_member(org_a, role=Role.ORG_ADMIN)).post(retry_url(theirs))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert (theirs.state, theirs.attempts) == (SideEffectState.FAILED, 5)
    assert not audit_rows_for(theirs).exists()


def test_a_national_row_is_certifpro_s_to_retry(org_a, make_member, client_for):
    national = side_effect(None, label="Relevé national")
    assert client_for(make_member(org_a, role=Role.ORG_ADMIN)).post(retry_url(national)).status_code == 404


def test_retrying_a_done_row_shows_the_refusal_and_changes_nothing(org_a, certifpro, client_for):
    done = side_effect(org_a, state=SideEffectState.DONE, attempts=1)

    response = client_for(certifpro).post(retry_url(done), {"query": "state=done"}, follow=True)

    assert response.redirect_chain == [(f"{LIST}?state=done", 302)]
    assert "Cet effet est déjà fait : il n'y a rien à relancer." in page_text(response)
    assert 'class="message--error"' in page_text(response)
    done.refresh_from_db()
    assert (done.state, done.attempts) == (SideEffectState.DONE, 1)
    assert not audit_rows_for(done).exists()


def test_the_retry_keeps_only_the_list_s_own_parameters(org_a, certifpro, client_for):
    row = side_effect(org_a)

    response = client_for(certifpro).post(retry_url(row), {"query": "next=https://ailleurs.example/&kind=email"})

    assert response["Location"] == f"{LIST}?kind=email"


def test_the_retry_is_a_post(org_a, certifpro, client_for):
    row = side_effect(org_a)
    response = client_for(certifpro).get(retry_url(row))
    assert response.status_code == 302 and response.url == LIST
    row.refresh_from_db()
    assert row.state == SideEffectState.FAILED, "a GET retries nothing"


@pytest.mark.django_db(transaction=True)
def test_where_tasks_run_in_the_web_process_the_message_says_it_is_done(client_for, make_member):
    # The embedded mode (tasks run in the process, as in these tests): the retry's commit renders the attestation
    # within the request, and the message can say so.
    row, dossier = failed_attestation()
    assert not Attestation.objects.filter(dossier=dossier).exists()

    response = client_for(make_member(role=Role.CERTIFPRO_ADMIN)).post(retry_url(row))

    assert flashed(response) == [
        ("success", f"Relance de « Attestation du dossier {dossier.reference} » : c'est fait.")
    ]
    assert Attestation.objects.filter(dossier=dossier).exists()


@pytest.mark.django_db(transaction=True)
def test_a_retry_that_fails_again_says_when_it_will_be_tried_next(client_for, make_member):
    # An attestation asked for an evaluation that is not closed: the producer refuses it again.
    dossier = DossierFactory(organisation=OrganisationFactory(), state="prior_evaluation")
    row = side_effect(
        dossier.organisation,
        kind="attestation",
        label="Attestation impossible",
        arguments={"evaluation_id": dossier.evaluations.get().pk},
    )

    response = client_for(make_member(role=Role.CERTIFPRO_ADMIN)).post(retry_url(row))

    row.refresh_from_db()
    assert (row.state, row.attempts) == (SideEffectState.PENDING, 1)
    assert row.last_error.startswith("DoesNotExist")
    when = f"{timezone.localtime(row.available_at):%H:%M}"
    assert flashed(response) == [
        (
            "warning",
            "Relance de « Attestation impossible » : la tentative a échoué de nouveau ; "
            f"prochaine tentative automatique à {when}.",
        )
    ]


def test_a_row_never_tried_says_0_tentative_in_the_singular(org_a, certifpro, client_for):
    # French counts 0 in the singular: the project's catalogue (locale/fr) decides, not the English fallback.
    side_effect(org_a, label="Jamais tenté", state=SideEffectState.PENDING, attempts=0, age=LATE)

    body = " ".join(page_text(client_for(certifpro).get(LIST)).split())

    assert "0 tentative<" in body

"""The funding API: lines and their lifecycle, the funders' claim batches, the funders' list."""

import datetime

import pytest
from django.urls import reverse

from funding.models import BatchStatus, ClaimBatch, Funder, FundingLine, LineState
from funding.references import funding_references_load
from organisations.models import Role
from tests.funding.support import TODAY, batch_with_lines, draft_line, funder, granted_line, issued_batch, org_admin
from tests.journey import DossierFactory
from tests.juries.factories import make_certifpro

pytestmark = pytest.mark.django_db

LINES = "/api/v1/funding-lines/"
BATCHES = "/api/v1/funding-batches/"
FUNDERS = "/api/v1/funders/"


@pytest.fixture(autouse=True)
def _references(db) -> None:
    """The funders' list and the tariffs, as `manage.py load_tariffs` loads them (see tests/funding/conftest.py)."""
    funding_references_load()


def line_url(line: FundingLine, name: str = "detail") -> str:
    return reverse(f"api:funding-line-{name}", kwargs={"pk": line.pk})


def post(client, address: str, data: dict | None = None):
    return client.post(address, data or {}, content_type="application/json")


def patch(client, address: str, data: dict):
    return client.patch(address, data, content_type="application/json")


def _payload(dossier, **changes) -> dict:
    return {
        "dossier": dossier.pk,
        "step": "prior_evaluation",
        "funder": funder().pk,
        "requested_cents": 45000,
        **changes,
    }


def _period() -> dict[str, str]:
    return {"period_start": f"{TODAY() - datetime.timedelta(days=31):%Y-%m-%d}", "period_end": f"{TODAY():%Y-%m-%d}"}


# -- Lines: reading ----------------------------------------------------------------------------------------------


def test_the_counsellor_lists_the_organisations_lines_with_filters(client_for, org_a, org_b):
    dossier = DossierFactory(organisation=org_a, state="opened")
    draft = draft_line(dossier)
    requested = draft_line(dossier, code="cpf")
    client = client_for(dossier.team.counsellor)
    post(client, line_url(requested, "transition"), {"name": "request"})
    other_dossier = DossierFactory(organisation=org_a, state="opened")
    draft_line(other_dossier)
    draft_line(DossierFactory(organisation=org_b, state="opened"))

    body = client.get(LINES).json()
    assert len(body["results"]) == 3
    assert {line["organisation"] for line in body["results"]} == {org_a.name}
    by_dossier = client.get(LINES, {"dossier": dossier.pk}).json()["results"]
    assert {line["id"] for line in by_dossier} == {draft.pk, requested.pk}
    by_state = client.get(LINES, {"state": "requested"}).json()["results"]
    assert [line["id"] for line in by_state] == [requested.pk]
    by_funder = client.get(LINES, {"funder": funder("cpf").pk}).json()["results"]
    assert [line["id"] for line in by_funder] == [requested.pk]


def test_a_line_shows_its_amounts_in_cents_and_the_steps_offered(client_for, org_a):
    dossier = DossierFactory(organisation=org_a, state="opened")
    line = draft_line(dossier, cents=123450)
    body = client_for(dossier.team.counsellor).get(line_url(line)).json()
    assert (body["requested_cents"], body["requested_incl_vat_cents"]) == (123450, 148140)
    assert (body["state"], body["state_label"]) == ("draft", "Brouillon")
    assert body["funder_name"] == "France Travail"
    assert body["step_done_on"] is None
    assert [t["name"] for t in body["transitions"]] == ["request", "cancel"]
    assert body["transitions"][0]["label"] == "Demande envoyée au financeur"
    # Certif'Pro reads the line and is offered nothing.
    assert client_for(make_certifpro()).get(line_url(line)).json()["transitions"] == []


def test_an_invalid_line_filter_names_the_fields(client_for, org_a):
    dossier = DossierFactory(organisation=org_a, state="opened")
    response = client_for(dossier.team.counsellor).get(LINES, {"state": "nonsense", "funder": 987654})
    assert response.status_code == 400
    assert {error["field"] for error in response.json()["errors"]} == {"state", "funder"}
    assert "choix valide" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.COUNSELLOR, 200),
        (Role.ORG_ADMIN, 200),
        (Role.CERTIFPRO_ADMIN, 200),
        (Role.EVALUATOR, 403),
        (Role.TRAINER, 403),
        (Role.JURY_MEMBER, 403),
        (Role.FT_ADVISOR, 403),
    ],
)
def test_the_line_list_and_the_funders_by_role(role, status, client_for, make_member, org_a):
    client = client_for(make_member(None if role == Role.CERTIFPRO_ADMIN else org_a, role=role))
    assert client.get(LINES).status_code == status
    assert client.get(FUNDERS).status_code == status


@pytest.mark.parametrize("rows", [2, 5])
def test_the_line_list_costs_the_same_queries_whatever_the_rows(rows, client_for, org_a, django_assert_num_queries):
    for _ in range(rows):
        dossier = DossierFactory(organisation=org_a, state="partially_validated")
        granted_line(dossier)
    client = client_for(dossier.team.counsellor)
    client.get(LINES)
    # No count since the cursor pagination (issue 20): one query fewer.
    with django_assert_num_queries(4):
        assert len(client.get(LINES).json()["results"]) == rows


def test_a_line_of_another_organisation_gets_404(client_for, make_member, org_a, org_b):
    line = draft_line(DossierFactory(organisation=org_b, state="opened"))
    client = client_for(make_member(org_a, role=Role.COUNSELLOR))
    assert client.get(line_url(line)).status_code == 404
    assert patch(client, line_url(line), {"requested_cents": 1}).status_code == 404
    assert post(client, line_url(line, "transition"), {"name": "request"}).status_code == 404
    line.refresh_from_db()
    assert (line.state, line.requested_cents) == (LineState.DRAFT, 45000)


# -- Lines: writing ----------------------------------------------------------------------------------------------


def test_the_counsellor_creates_a_draft_line(client_for, org_a):
    dossier = DossierFactory(organisation=org_a, state="opened")
    response = post(
        client_for(dossier.team.counsellor),
        LINES,
        _payload(dossier, vat_rate="0", hours="3.5", funder_reference="FT-1", note="Accord oral"),
    )
    assert response.status_code == 201, response.content
    line = FundingLine.objects.get(pk=response.json()["id"])
    assert (line.state, line.dossier, line.organisation) == (LineState.DRAFT, dossier, org_a)
    assert (line.requested_cents, line.requested_incl_vat_cents) == (45000, 45000)
    assert line.events.count() == 1
    assert response.json()["hours"] == "3.5"


def test_creating_a_line_with_bad_input_names_the_fields(client_for, org_a, org_b):
    dossier = DossierFactory(organisation=org_a, state="opened")
    elsewhere = DossierFactory(organisation=org_b, state="opened")
    response = post(
        client_for(dossier.team.counsellor),
        LINES,
        _payload(elsewhere, step="lunch", requested_cents=0, vat_rate="120"),
    )
    assert response.status_code == 400
    errors = {error["field"]: error["message"] for error in response.json()["errors"]}
    assert set(errors) == {"dossier", "step", "requested_cents", "vat_rate"}
    # Another organisation's dossier: the same answer as one that does not exist.
    assert errors["dossier"] == "Aucun de vos dossiers ne porte cet identifiant."
    assert errors["requested_cents"].startswith("Assurez-vous que cette valeur est supérieure ou égale à")
    assert not FundingLine.objects.exists()


def test_a_closed_dossier_is_a_409_and_a_funder_no_longer_offered_is_not_a_choice(client_for, org_a):
    withdrawn = DossierFactory(organisation=org_a, state="withdrawn")
    client = client_for(withdrawn.team.counsellor)
    response = post(client, LINES, _payload(withdrawn))
    assert response.status_code == 409
    assert response.json() == {
        "code": "funding_refused",
        "message": "Le dossier est clos (« Abandonné ») : aucun financement ne peut y être ajouté.",
    }
    Funder.objects.filter(code="region").update(is_active=False)
    opened = DossierFactory(organisation=org_a, state="opened")
    response = post(client, LINES, _payload(opened, funder=funder("region").pk))
    # As on the screen, whose form offers the active funders only.
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("funder", "invalid_choice")
    assert not FundingLine.objects.exists()


@pytest.mark.parametrize(("role", "status"), [(Role.ORG_ADMIN, 201), (Role.EVALUATOR, 403)])
def test_who_creates_a_line(role, status, client_for, make_member, org_a):
    dossier = DossierFactory(organisation=org_a, state="opened")
    assert post(client_for(make_member(org_a, role=role)), LINES, _payload(dossier)).status_code == status


def test_certifpro_reads_but_does_not_write_lines(client_for, org_a):
    dossier = DossierFactory(organisation=org_a, state="opened")
    line = draft_line(dossier)
    client = client_for(make_certifpro())
    assert post(client, LINES, _payload(dossier)).status_code == 403
    assert patch(client, line_url(line), {"requested_cents": 100}).status_code == 403
    assert post(client, line_url(line, "transition"), {"name": "request"}).status_code == 403
    assert FundingLine.objects.get().state == LineState.DRAFT


def test_a_draft_is_edited_and_a_requested_line_is_not(client_for, org_a):
    dossier = DossierFactory(organisation=org_a, state="opened")
    line = draft_line(dossier)
    client = client_for(dossier.team.counsellor)
    response = patch(client, line_url(line), {"requested_cents": 50000, "note": "Montant revu"})
    assert response.status_code == 200, response.content
    assert (response.json()["requested_cents"], response.json()["requested_incl_vat_cents"]) == (50000, 60000)
    assert response.json()["funder"] == line.funder_id  # kept

    invalid = patch(client, line_url(line), {"requested_cents": "beaucoup"})
    assert invalid.status_code == 400
    assert invalid.json()["errors"][0]["field"] == "requested_cents"

    post(client, line_url(line, "transition"), {"name": "request"})
    refused = patch(client, line_url(line), {"requested_cents": 1})
    assert refused.status_code == 409
    assert refused.json()["message"] == "Seule une ligne en brouillon peut être modifiée."
    assert FundingLine.objects.get(pk=line.pk).requested_cents == 50000


def test_a_line_is_requested_granted_and_invoiced_through_transitions(client_for, org_a):
    dossier = DossierFactory(organisation=org_a, state="partially_validated")
    line = draft_line(dossier)
    client = client_for(dossier.team.counsellor)
    address = line_url(line, "transition")
    assert post(client, address, {"name": "request"}).json()["state"] == "requested"
    granted = post(
        client,
        address,
        {"name": "grant", "granted_cents": 40000, "funder_reference": "FT-9", "granted_on": "2026-01-05"},
    )
    assert granted.status_code == 200, granted.content
    assert (granted.json()["state"], granted.json()["granted_incl_vat_cents"]) == ("granted", 48000)
    assert granted.json()["granted_on"] == "2026-01-05"
    too_much = post(client, address, {"name": "invoice", "invoiced_cents": 40001})
    # A rule about what was typed: 400 on the field (issue 20), with the refusal's code.
    assert too_much.status_code == 400
    assert too_much.json()["errors"] == [
        {
            "field": "invoiced_cents",
            "code": "funding_refused",
            "message": "Le montant facturé ne peut dépasser le montant accordé.",
        }
    ]
    invoiced = post(client, address, {"name": "invoice"})
    assert (invoiced.json()["state"], invoiced.json()["invoiced_cents"]) == ("invoiced", 40000)
    assert invoiced.json()["remainder_cents"] == 48000  # what the funder owes, with its VAT
    assert invoiced.json()["transitions"] == []


def test_granting_more_than_requested_or_in_the_future_through_the_api_needs_a_reason(client_for, org_a):
    dossier = DossierFactory(organisation=org_a, state="opened")
    line = draft_line(dossier, cents=45000)
    client = client_for(dossier.team.counsellor)
    address = line_url(line, "transition")
    post(client, address, {"name": "request"})
    tomorrow = f"{TODAY() + datetime.timedelta(days=1):%Y-%m-%d}"
    body = {"name": "grant", "granted_cents": 45001, "funder_reference": "FT-9", "granted_on": tomorrow}

    refused = post(client, address, body)

    assert refused.status_code == 400
    errors = {error["field"]: error["message"] for error in refused.json()["errors"]}
    assert set(errors) == {"granted_cents", "granted_on", "override_reason"}
    assert errors["granted_cents"].startswith("Le montant accordé (450,01")
    assert FundingLine.objects.get(pk=line.pk).state == LineState.REQUESTED

    granted = post(client, address, {**body, "override_reason": "Avenant signé"})

    assert granted.status_code == 200, granted.content
    assert (granted.json()["state"], granted.json()["granted_cents"]) == ("granted", 45001)


def test_invoicing_before_the_step_happened_is_a_409_with_the_reason(client_for, org_a):
    dossier = DossierFactory(organisation=org_a, state="opened")
    line = granted_line(dossier)
    response = post(client_for(dossier.team.counsellor), line_url(line, "transition"), {"name": "invoice"})
    assert response.status_code == 409
    assert response.json() == {
        "code": "funding_refused",
        "message": "La ligne ne peut être facturée qu'une fois l'évaluation préalable clôturée.",
    }
    assert FundingLine.objects.get(pk=line.pk).state == LineState.GRANTED


def test_a_transition_with_bad_input_names_the_field_and_a_missing_reason_is_refused(client_for, org_a):
    dossier = DossierFactory(organisation=org_a, state="opened")
    line = draft_line(dossier)
    client = client_for(dossier.team.counsellor)
    unknown = post(client, line_url(line, "transition"), {"name": "pay"})
    assert unknown.status_code == 400
    assert [error["field"] for error in unknown.json()["errors"]] == ["name"]
    bad_date = post(client, line_url(line, "transition"), {"name": "grant", "granted_on": "demain"})
    assert bad_date.status_code == 400
    # The grant's screen form: every field at fault at once (the line has no funder reference yet).
    assert {error["field"] for error in bad_date.json()["errors"]} == {"granted_on", "funder_reference"}
    no_reason = post(client, line_url(line, "transition"), {"name": "cancel"})
    assert no_reason.status_code == 400
    assert [error["field"] for error in no_reason.json()["errors"]] == ["note"]
    cancelled = post(client, line_url(line, "transition"), {"name": "cancel", "note": "Autre financeur"})
    assert cancelled.json()["state"] == "cancelled"
    assert post(client, line_url(line, "transition"), {"name": "request"}).json()["message"] == (
        "Ce changement n'est pas possible pour une ligne « Annulé »."
    )


# -- Funders ------------------------------------------------------------------------------------------------------


def test_the_funders_offered_are_the_active_ones_in_their_order(client_for, org_a):
    Funder.objects.filter(code="region").update(is_active=False)
    dossier = DossierFactory(organisation=org_a, state="opened")
    body = client_for(dossier.team.counsellor).get(FUNDERS).json()
    codes = [f["code"] for f in body]
    assert codes[:2] == ["cpf", "france-travail"]
    assert "region" not in codes
    assert body[1]["reference_label"] == "N° de convention France Travail"


@pytest.mark.parametrize("extra", [0, 3])
def test_the_funder_list_costs_the_same_queries_whatever_the_rows(extra, client_for, org_a, django_assert_num_queries):
    for index in range(extra):
        Funder.objects.create(kind="region", name=f"Région {index}", code=f"region-{index}", reference_label="N°")
    client = client_for(org_admin(org_a))
    client.get(FUNDERS)
    expected = Funder.objects.count()
    with django_assert_num_queries(4):
        assert len(client.get(FUNDERS).json()) == expected


# -- Claim batches ------------------------------------------------------------------------------------------------


def test_the_administrator_requests_a_batch_that_a_worker_issues(client_for, org_a, django_capture_on_commit_callbacks):
    granted_line(DossierFactory(organisation=org_a, state="partially_validated"))
    client = client_for(org_admin(org_a))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = post(client, BATCHES, {"funder": funder().pk, **_period()})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["files"], body["funder_name"]) == ("queued", [], "France Travail")
    assert body["number"].startswith(f"LOT-{org_a.siret}-")
    assert len(queued) == 1
    pending = reverse("api:funding-batch-download", kwargs={"pk": body["id"], "fmt": "csv"})
    assert client.get(pending).status_code == 404

    for callback in queued:  # the worker's part
        callback()
    issued = client.get(reverse("api:funding-batch-detail", kwargs={"pk": body["id"]})).json()
    assert (issued["status"], issued["total_lines"], issued["progress_percent"]) == ("issued", 1, 100)
    assert issued["files"] == ["csv", "xlsx", "pdf"]


def test_without_a_funder_each_funder_with_lines_to_claim_gets_its_batch(
    client_for, org_a, django_capture_on_commit_callbacks
):
    granted_line(DossierFactory(organisation=org_a, state="partially_validated"))
    granted_line(DossierFactory(organisation=org_a, state="partially_validated"), code="cpf")
    client = client_for(org_admin(org_a))

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = post(client, BATCHES, _period())

    assert response.status_code == 201, response.content
    assert sorted(batch["funder_name"] for batch in response.json()) == ["France Travail", "Mon Compte Formation (CPF)"]
    assert {batch["status"] for batch in response.json()} == {"queued"}
    assert len(queued) == ClaimBatch.objects.count() == 2
    # Both in production now: nothing left to claim.
    again = post(client, BATCHES, _period())
    assert again.status_code == 409
    assert again.json()["message"] == "Aucune ligne à réclamer sur cette période (hors lots déjà en production)."


def test_the_batch_files_download_as_stored(client_for, org_a):
    batch = batch_with_lines(org_a, count=1)
    client = client_for(org_admin(org_a))
    for fmt, content_type in (("csv", "text/csv"), ("xlsx", "application/vnd.openxml"), ("pdf", "application/pdf")):
        response = client.get(reverse("api:funding-batch-download", kwargs={"pk": batch.pk, "fmt": fmt}))
        assert response["Content-Type"].startswith(content_type)
        assert b"".join(response.streaming_content) == getattr(batch, f"{fmt}_file").open("rb").read()
        assert batch.number in response["Content-Disposition"]
    assert client.get(f"{BATCHES}{batch.pk}/download/exe/").status_code == 404


def test_a_batch_with_nothing_to_claim_or_one_in_production_is_a_409(
    client_for, org_a, django_capture_on_commit_callbacks
):
    client = client_for(org_admin(org_a))
    empty = post(client, BATCHES, {"funder": funder().pk, **_period()})
    assert empty.status_code == 409
    assert empty.json()["message"] == "Aucune ligne à réclamer auprès de France Travail sur cette période."
    granted_line(DossierFactory(organisation=org_a, state="partially_validated"))
    with django_capture_on_commit_callbacks(execute=False):
        assert post(client, BATCHES, {"funder": funder().pk, **_period()}).status_code == 201
        busy = post(client, BATCHES, {"funder": funder().pk, **_period()})
    assert busy.status_code == 409
    assert busy.json()["code"] == "funding_refused"
    assert "déjà en cours de production" in busy.json()["message"]
    assert ClaimBatch.objects.get().status == BatchStatus.QUEUED


def test_requesting_a_batch_with_bad_input_names_the_fields(client_for, org_a):
    response = post(client_for(org_admin(org_a)), BATCHES, {"funder": 987654, "period_start": "hier"})
    assert response.status_code == 400
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"funder", "period_start", "period_end"}
    assert not ClaimBatch.objects.exists()


def test_certifpro_reads_every_batch_but_only_an_administrator_requests_one(client_for, org_a, org_b):
    mine, theirs = batch_with_lines(org_a, count=1), batch_with_lines(org_b, count=1)
    assert [b["id"] for b in client_for(org_admin(org_a)).get(BATCHES).json()["results"]] == [mine.pk]
    certifpro = client_for(make_certifpro())
    assert {b["id"] for b in certifpro.get(BATCHES).json()["results"]} == {mine.pk, theirs.pk}
    assert post(certifpro, BATCHES, {"funder": funder().pk, **_period()}).status_code == 403


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.ORG_ADMIN, 200),
        (Role.CERTIFPRO_ADMIN, 200),
        (Role.COUNSELLOR, 403),
        (Role.EVALUATOR, 403),
        (Role.JURY_MEMBER, 403),
    ],
)
def test_the_batch_list_by_role(role, status, client_for, make_member, org_a):
    client = client_for(make_member(None if role == Role.CERTIFPRO_ADMIN else org_a, role=role))
    assert client.get(BATCHES).status_code == status
    if role == Role.COUNSELLOR:
        assert post(client, BATCHES, {"funder": funder().pk, **_period()}).status_code == 403


def test_a_batch_of_another_organisation_gets_404(client_for, org_a, org_b):
    batch = batch_with_lines(org_b, count=1)
    client = client_for(org_admin(org_a))
    assert client.get(reverse("api:funding-batch-detail", kwargs={"pk": batch.pk})).status_code == 404
    download = reverse("api:funding-batch-download", kwargs={"pk": batch.pk, "fmt": "pdf"})
    assert client.get(download).status_code == 404


@pytest.mark.parametrize("rows", [2, 5])
def test_the_batch_list_costs_the_same_queries_whatever_the_rows(rows, client_for, org_a, django_assert_num_queries):
    for _ in range(rows):
        granted_line(DossierFactory(organisation=org_a, state="partially_validated"))
        issued_batch(org_a)
    client = client_for(org_admin(org_a))
    client.get(BATCHES)
    # No count since the cursor pagination (issue 20): one query fewer.
    with django_assert_num_queries(4):
        assert len(client.get(BATCHES).json()["results"]) == rows

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from candidates.models import DossierState
from clea_platform.certifications import Certification
from evaluations.models import CriterionResultValue, Evaluation, EvaluationKind, EvaluationStatus
from organisations.models import AuditLog, Role
from tests.clients import page_text
from tests.evaluations.support import complete_training, grid_post_data
from tests.journey import PRIOR_WITH_GAPS, DossierFactory, small_referentiel

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def grid_url(evaluation) -> str:
    return reverse("evaluations:grid", args=[evaluation.pk])


def close_url(evaluation) -> str:
    return reverse("evaluations:close", args=[evaluation.pk])


@pytest.fixture
def draft():
    """A prior evaluation just started (9 criteria, all "not assessed")."""
    return DossierFactory(state="prior_evaluation").evaluations.get()


@pytest.fixture
def evaluator(draft):
    return draft.dossier.team.evaluator


# -- Start -----------------------------------------------------------------------------------------------------


def test_the_evaluator_starts_the_prior_evaluation_of_an_opened_dossier(client_for):
    dossier = DossierFactory(state="opened")
    client = client_for(dossier.team.evaluator)
    url = reverse("evaluations:evaluation_start", args=[dossier.pk])

    page = client.get(url)
    assert page.status_code == 200
    assert "Commencer l'évaluation préalable" in page_text(page)
    assert "porte sur les 9 critères du référentiel" in page_text(page)
    assert page.context["form"]["started_on"].value() == TODAY()

    response = client.post(
        url,
        {"started_on": TODAY().isoformat(), "modality": "remote", "context": "Logistique, préparation de commandes"},
    )
    evaluation = dossier.evaluations.get()
    assert response.status_code == 302
    assert response.url == grid_url(evaluation)
    assert (evaluation.kind, evaluation.modality, evaluation.context) == (
        EvaluationKind.PRIOR,
        "remote",
        "Logistique, préparation de commandes",
    )
    assert evaluation.evaluator == dossier.team.evaluator.user
    dossier.refresh_from_db()
    assert dossier.state == DossierState.PRIOR_EVALUATION


def test_the_final_evaluation_page_lists_only_the_criteria_still_missing(client_for):
    dossier = DossierFactory(state="in_training")
    complete_training(dossier)
    client = client_for(dossier.team.final_evaluator)
    url = reverse("evaluations:evaluation_start", args=[dossier.pk])

    page = client.get(url)
    assert "Commencer l'évaluation finale" in page_text(page)
    assert [c.code for c in page.context["scope"]] == ["2.1.3", "2.1.4"]
    assert "Critère 2.1.3" in page_text(page) and "Critère 1.1.1" not in page_text(page)

    response = client.post(url, {"started_on": TODAY().isoformat(), "modality": "on_site", "context": ""})
    evaluation = dossier.evaluations.get(kind=EvaluationKind.FINAL)
    assert response.url == grid_url(evaluation)
    assert evaluation.results.count() == 2


def test_a_refused_start_keeps_the_input_with_the_reason(client_for):
    dossier = DossierFactory(state="in_training")  # training not declared completed
    client = client_for(dossier.team.final_evaluator)
    url = reverse("evaluations:evaluation_start", args=[dossier.pk])
    assert "pas encore déclarée terminée" in page_text(client.get(url))

    response = client.post(url, {"started_on": TODAY().isoformat(), "modality": "on_site", "context": "BTP"})

    assert response.status_code == 200
    assert "La formation doit être déclarée terminée" in page_text(response)
    assert 'value="BTP"' in response.content.decode()
    assert not dossier.evaluations.filter(kind=EvaluationKind.FINAL).exists()


def test_a_start_date_that_is_not_a_date_is_reported_in_french(client_for):
    dossier = DossierFactory(state="opened")
    response = client_for(dossier.team.evaluator).post(
        reverse("evaluations:evaluation_start", args=[dossier.pk]),
        {"started_on": "demain", "modality": "on_site", "context": "Propreté"},
    )
    assert response.status_code == 200
    assert "Saisissez une date valide." in page_text(response)
    assert 'value="Propreté"' in response.content.decode()
    assert not dossier.evaluations.exists()


def test_an_empty_start_form_says_what_is_missing(client_for):
    dossier = DossierFactory(state="opened")
    response = client_for(dossier.team.evaluator).post(reverse("evaluations:evaluation_start", args=[dossier.pk]), {})
    assert response.status_code == 200
    assert "Ce champ est obligatoire." in page_text(response)
    assert not dossier.evaluations.exists()


def test_no_evaluation_starts_at_another_step_and_the_draft_is_pointed_to(client_for, draft):
    response = client_for(draft.dossier.team.evaluator).get(
        reverse("evaluations:evaluation_start", args=[draft.dossier_id])
    )
    assert response.status_code == 200
    assert "Aucune évaluation ne peut commencer à l'étape « Évaluation préalable en cours »" in page_text(response)
    assert grid_url(draft) in page_text(response)
    assert '<form method="post" novalidate>' not in response.content.decode()


def test_a_counsellor_cannot_start_an_evaluation(client_for):
    dossier = DossierFactory(state="opened")
    url = reverse("evaluations:evaluation_start", args=[dossier.pk])
    assert client_for(dossier.team.counsellor).get(url).status_code == 403


# -- Grid ------------------------------------------------------------------------------------------------------


def test_the_grid_groups_the_criteria_by_domain_and_subdomain(client_for, draft, evaluator):
    response = client_for(evaluator).get(grid_url(draft))
    body = page_text(response)
    assert response.status_code == 200
    assert 'class="grid-eval"' in body
    assert body.index("Domaine 1. Communication en français</h2>") < body.index("1.1 Sous-domaine 1.1</h3>")
    assert body.index("1.2 Sous-domaine 1.2</h3>") < body.index("Domaine 2. Calcul</h2>")
    assert body.count('type="radio"') == 9 * 3
    assert body.count('name="result-') == 27
    assert "0 / 3 acquis (seuil : 2 requis)" in body.replace("<span data-acquired>", "").replace("</span>", "")
    assert "Enregistrer le brouillon" in body and "Clôturer l'évaluation" in body


def test_each_criterion_is_a_radio_group_named_by_its_code_and_title_under_headings(client_for, draft, evaluator):
    body = page_text(client_for(evaluator).get(grid_url(draft)))
    line = draft.results.select_related("criterion__subdomain__domain").get(criterion__code="1.1.1")
    criterion = line.criterion
    assert body.count('<fieldset class="criterion"') == 9
    fieldset = body[body.index(f'id="criterion-{criterion.pk}"') :]
    fieldset = fieldset[: fieldset.index("</fieldset>")]
    assert f'<span class="criterion__code">1.1.1</span> {criterion.title}</legend>' in fieldset
    assert fieldset.count('type="radio"') == 3
    # A heading per domain and sub-domain, the domains listed at the top with links to theirs.
    domain = criterion.subdomain.domain
    assert body.count('<h2 id="domain-') == 2 and body.count('<h3 id="subdomain-') == 3
    assert body.index(f'href="#domain-{domain.pk}"') < body.index(f'<h2 id="domain-{domain.pk}"')
    # The counter and the sub-domain's badge read out together.
    progress = body[
        body.index('aria-live="polite" aria-atomic="true"', body.index('id="contenu"')) :
    ]  # after base.html's own region
    assert progress.index("data-acquired") < progress.index("data-status") < progress.index("</p>")
    assert "colgroup" not in body and "<table" not in body


def test_saving_takes_the_evaluator_back_to_the_last_changed_criterion(client_for, draft, evaluator):
    client = client_for(evaluator)
    data = grid_post_data(draft)
    for key in data:
        if key.startswith("result-"):
            data[key] = CriterionResultValue.NOT_ASSESSED  # as stored: unchanged
    changed = draft.results.get(criterion__code="1.2.1")
    data[f"result-{changed.criterion_id}"] = CriterionResultValue.ACQUIRED

    response = client.post(grid_url(draft), data)

    assert response.status_code == 302 and response.url == f"{grid_url(draft)}#criterion-{changed.criterion_id}"
    assert f'id="criterion-{changed.criterion_id}"' in page_text(client.get(grid_url(draft)))
    # Nothing changed: nowhere in particular to go back to.
    assert client.post(grid_url(draft), data).url == grid_url(draft)


def test_the_evaluator_saves_a_draft(client_for, draft, evaluator):
    client = client_for(evaluator)
    data = grid_post_data(draft, acquired={"1.1.1", "1.1.2"}, comments={"1.1.1": "Consignes reformulées"})

    response = client.post(grid_url(draft), data)

    last = draft.results.get(criterion__code="2.1.4")  # every line changed: back on the last one
    assert response.status_code == 302 and response.url == f"{grid_url(draft)}#criterion-{last.criterion_id}"
    results = dict(draft.results.values_list("criterion__code", "result"))
    assert results["1.1.1"] == results["1.1.2"] == CriterionResultValue.ACQUIRED
    assert results["2.1.4"] == CriterionResultValue.NOT_ACQUIRED
    assert draft.results.get(criterion__code="1.1.1").comment == "Consignes reformulées"
    page = client.get(response.url)
    assert "Brouillon enregistré (9 critères modifiés)." in page_text(page)
    assert "2 / 2 acquis" in page_text(page).replace("<span data-acquired>", "").replace("</span>", "")
    assert ">Consignes reformulées</textarea>" in page_text(page)
    # One audit row for the draft, with the screen's address, naming the criteria changed and nothing of what
    # the evaluator wrote.
    row = AuditLog.objects.get(action="evaluation.save_results")
    assert (row.actor, row.object_id, row.ip_address) == (evaluator.user, str(draft.pk), "127.0.0.1")
    assert row.details == {"criteria": sorted(draft.results.values_list("criterion_id", flat=True))}
    client.post(grid_url(draft), data)  # the same values again: nothing changes, nothing recorded
    assert AuditLog.objects.filter(action="evaluation.save_results").count() == 1


def test_a_bad_line_keeps_everything_typed_and_says_which(client_for, draft, evaluator):
    data = grid_post_data(draft, acquired={"1.1.1"}, comments={"1.1.2": "À revoir"})
    broken = next(key for key in data if key.startswith("result-"))
    data[broken] = "peut-être"

    response = client_for(evaluator).post(grid_url(draft), data)

    assert response.status_code == 200
    assert "La grille n'a pas été enregistrée" in page_text(response)
    assert "Sélectionnez un choix valide" in page_text(response)
    assert ">À revoir</textarea>" in page_text(response)
    assert set(draft.results.values_list("result", flat=True)) == {CriterionResultValue.NOT_ASSESSED}


def test_a_posted_criterion_outside_the_scope_is_refused(client_for, draft, evaluator):
    data = grid_post_data(draft)
    data["result-987654"] = CriterionResultValue.ACQUIRED
    response = client_for(evaluator).post(grid_url(draft), data)
    assert response.status_code == 200
    assert "ne font pas partie de cette évaluation" in page_text(response)
    assert set(draft.results.values_list("result", flat=True)) == {CriterionResultValue.NOT_ASSESSED}


def test_a_counsellor_reads_the_grid_but_cannot_save_it(client_for, draft):
    client = client_for(draft.dossier.team.counsellor)
    page = client.get(grid_url(draft))
    assert page.status_code == 200
    assert 'type="radio"' not in page.content.decode()
    assert "consultation seule" in page_text(page)
    assert client.post(grid_url(draft), grid_post_data(draft, acquired={"1.1.1"})).status_code == 403
    assert client.post(close_url(draft), {"ended_on": TODAY().isoformat(), "confirm": "on"}).status_code == 403
    assert not draft.results.filter(result=CriterionResultValue.ACQUIRED).exists()


def test_a_juror_reads_the_grids_of_the_dossiers_of_their_session_only(client_for):
    from juries.services import dossier_submit_to_jury
    from tests.juries.factories import make_jury

    dossier = DossierFactory(state="ready_for_jury")
    other = DossierFactory(state="ready_for_jury")
    jury = make_jury()
    dossier_submit_to_jury(dossier=dossier, session=jury.session, by=dossier.team.counsellor)
    juror = client_for(jury.member_membership(jury.employee))

    evaluation = dossier.evaluations.get()
    page = juror.get(grid_url(evaluation))
    assert page.status_code == 200
    assert 'type="radio"' not in page.content.decode()
    assert juror.get(reverse("evaluations:summary", args=[evaluation.pk])).status_code == 200
    assert juror.post(grid_url(evaluation), grid_post_data(evaluation)).status_code == 403
    assert juror.get(grid_url(other.evaluations.get())).status_code == 404


def test_a_trainer_cannot_read_the_grid(client_for, draft):
    assert client_for(draft.dossier.team.trainer).get(grid_url(draft)).status_code == 403


def test_the_evaluator_closes_the_evaluation_and_sees_the_outcome(client_for, draft, evaluator):
    client = client_for(evaluator)
    client.post(grid_url(draft), grid_post_data(draft, acquired=PRIOR_WITH_GAPS))

    response = client.post(
        close_url(draft), {"ended_on": TODAY().isoformat(), "duration_hours": "3.5", "confirm": "on"}
    )

    assert response.status_code == 302 and response.url == grid_url(draft)
    draft.refresh_from_db()
    assert draft.status == EvaluationStatus.CLOSED
    assert str(draft.duration_hours) == "3.5"
    assert draft.dossier.state == DossierState.PARTIALLY_VALIDATED
    page = client.get(response.url)
    body = page_text(page)
    assert "Évaluation clôturée : 1 domaine validé sur 2." in body
    assert "Résultat de l'évaluation" in body
    assert "1 domaine validé sur 2." in body
    assert "Validation partielle" in body
    # Read-only from now on.
    assert 'type="radio"' not in body and "Enregistrer le brouillon" not in body
    assert client.post(grid_url(draft), grid_post_data(draft)).status_code == 200
    assert draft.results.filter(result=CriterionResultValue.ACQUIRED).count() == len(PRIOR_WITH_GAPS)


def test_saving_a_closed_evaluation_says_it_is_closed(client_for, draft, evaluator):
    client = client_for(evaluator)
    client.post(close_url(draft), {"ended_on": TODAY().isoformat(), "confirm": "on"})
    response = client.post(grid_url(draft), grid_post_data(draft, acquired={"1.1.1"}))
    assert "Cette évaluation est clôturée" in page_text(response)
    assert not draft.results.filter(result=CriterionResultValue.ACQUIRED).exists()


def test_an_end_date_before_the_start_keeps_the_input_with_a_french_error(client_for, draft, evaluator):
    ended_on = draft.started_on - datetime.timedelta(days=2)
    response = client_for(evaluator).post(
        close_url(draft), {"ended_on": ended_on.isoformat(), "duration_hours": "4", "confirm": "on"}
    )
    assert response.status_code == 200
    body = page_text(response)
    assert "La date de fin précède la date de début de l'évaluation" in body
    assert f'value="{ended_on.isoformat()}"' in body
    assert 'name="duration_hours" value="4"' in body
    draft.refresh_from_db()
    assert draft.status == EvaluationStatus.DRAFT


def test_closing_needs_the_confirmation(client_for, draft, evaluator):
    response = client_for(evaluator).post(close_url(draft), {"ended_on": TODAY().isoformat()})
    assert response.status_code == 200
    assert "Cochez la case pour confirmer la clôture." in page_text(response)
    draft.refresh_from_db()
    assert not draft.is_closed


def test_closing_with_everything_acquired_sends_the_dossier_to_the_jury(client_for, draft, evaluator):
    client = client_for(evaluator)
    every_code = set(draft.results.values_list("criterion__code", flat=True))
    client.post(grid_url(draft), grid_post_data(draft, acquired=every_code))
    client.post(close_url(draft), {"ended_on": TODAY().isoformat(), "confirm": "on"})
    page = client.get(grid_url(draft))
    assert "le dossier est prêt pour le jury" in page_text(page)
    draft.dossier.refresh_from_db()
    assert draft.dossier.state == DossierState.READY_FOR_JURY


def grid_queries(client, evaluation) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(grid_url(evaluation)).status_code == 200
    return len(queries)


def test_the_grid_of_the_107_clea_criteria_takes_as_many_queries_as_a_small_one(client_for, django_assert_num_queries):
    small_referentiel(Certification.CLEA_MANAGEMENT)  # stays current for CléA management: the loader keeps it
    call_command("load_referentiels", stdout=io.StringIO())
    clea = DossierFactory(state="prior_evaluation").evaluations.get()
    small = DossierFactory(state="prior_evaluation", certification=Certification.CLEA_MANAGEMENT).evaluations.get()
    assert (clea.results.count(), small.results.count()) == (107, 9)
    clea_client, small_client = client_for(clea.dossier.team.evaluator), client_for(small.dossier.team.evaluator)

    assert grid_queries(clea_client, clea) == grid_queries(small_client, small)
    with django_assert_num_queries(grid_queries(small_client, small)):
        page = clea_client.get(grid_url(clea))
    assert page_text(page).count('type="radio"') == 107 * 3
    assert "7.4" in page_text(page)


@pytest.mark.usefixtures("fresh_rate_limit")  # a private cache: another test's grid of the same content is a hit
def test_the_grid_body_is_rendered_once_per_content_and_never_stale(client_for, draft, evaluator):
    """Issue 22: an unbound grid's body is kept in the cache under a digest of what it shows; the same grid again
    reads neither the référentiel's tree nor the lines as models, and any change is another key."""
    client = client_for(evaluator)
    first = grid_queries(client, draft)
    with CaptureQueriesContext(connection) as queries:
        again = client.get(grid_url(draft))
    assert len(queries) == first - 4  # the lines and the tree (3): only the lines' plain values remain
    assert page_text(again).count('type="radio"') == 9 * 3

    client.post(grid_url(draft), grid_post_data(draft, acquired={"1.1.1"}, comments={"1.1.1": "Bien compris"}))
    page = page_text(client.get(grid_url(draft)))
    line = draft.results.get(criterion__code="1.1.1")
    assert f'id="r{line.criterion_id}-acquired" name="result-{line.criterion_id}" value="acquired" checked' in page
    assert ">Bien compris</textarea>" in page
    # A comment removed behind the grid's back (the privacy purge updates rows in bulk) is gone from the page.
    draft.results.update(comment="")
    assert "Bien compris" not in page_text(client.get(grid_url(draft)))


# -- Summary ---------------------------------------------------------------------------------------------------


def test_the_summary_shows_the_strengths_first_then_what_remains(client_for, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        dossier = DossierFactory(state="partially_validated", first_name="Inès")
    evaluation = dossier.evaluations.get()
    response = client_for(dossier.team.counsellor).get(reverse("evaluations:summary", args=[evaluation.pk]))
    body = page_text(response)
    assert response.status_code == 200
    assert "Synthèse de l'évaluation préalable" in body
    assert "Inès" in body
    assert "data-print" in body and "js/print-button.js" in body  # the print button, wired by a static script
    strengths, remains = body.index("Vos acquis"), body.index("Ce qui reste à acquérir")
    assert strengths < body.index("Communication en français") < remains
    assert strengths < body.index("2.1.1 Critère 2.1.1") < remains  # acquired, in a sub-domain still to validate
    assert remains < body.index("2.1.3 Critère 2.1.3")
    assert "2 / 4 critères acquis ; 3 requis" in body
    assert reverse("evaluations:attestation_download", args=[dossier.attestations.get().pk]) in body


def test_the_summary_of_a_final_evaluation_counts_the_earlier_acquisitions(client_for):
    dossier = DossierFactory(state="in_training")
    complete_training(dossier)
    client = client_for(dossier.team.final_evaluator)
    client.post(
        reverse("evaluations:evaluation_start", args=[dossier.pk]),
        {"started_on": TODAY().isoformat(), "modality": "on_site"},
    )
    final = dossier.evaluations.get(kind=EvaluationKind.FINAL)
    client.post(grid_url(final), grid_post_data(final, acquired={"2.1.3"}))

    body = page_text(client.get(reverse("evaluations:summary", args=[final.pk])))

    assert "Synthèse provisoire" in body
    assert "Vous avez validé tous les domaines" in body
    assert "Ce qui reste à acquérir" not in body


# -- Dashboard -------------------------------------------------------------------------------------------------


def dashboard_queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    return len(queries), page_text(response)


def test_the_evaluator_dashboard_lists_the_dossiers_waiting_and_own_drafts(org_a, org_b, client_for):
    opened = DossierFactory(state="opened", organisation=org_a, last_name="Attente")
    trained = DossierFactory(state="in_training", organisation=org_a, last_name="Formée")
    complete_training(trained)
    still_training = DossierFactory(state="in_training", organisation=org_a, last_name="Enformation")
    mine = DossierFactory(state="prior_evaluation", organisation=org_a, last_name="Brouillon").evaluations.get()
    DossierFactory(state="opened", organisation=org_b, last_name="Ailleurs")

    _count, body = dashboard_queries(client_for(opened.team.evaluator))

    assert "ATTENTE" in body and "FORMÉE" in body
    assert "ENFORMATION" not in body and "AILLEURS" not in body
    assert reverse("evaluations:evaluation_start", args=[opened.pk]) in body
    assert reverse("evaluations:evaluation_start", args=[trained.pk]) in body
    assert reverse("evaluations:evaluation_start", args=[still_training.pk]) not in body
    assert grid_url(mine) in body
    # Another evaluator of the organisation does not see this evaluator's drafts.
    _count, other = dashboard_queries(client_for(opened.team.final_evaluator))
    assert grid_url(mine) not in other and reverse("evaluations:evaluation_start", args=[opened.pk]) in other


def test_the_evaluator_dashboard_has_an_empty_state(org_a, make_member, client_for):
    _count, body = dashboard_queries(client_for(make_member(org_a, role=Role.EVALUATOR)))
    assert "Rien à faire pour l'instant." in body


def test_the_evaluator_dashboard_takes_as_many_queries_with_1_or_5_dossiers(org_a, client_for):
    first = DossierFactory(state="opened", organisation=org_a)
    evaluator = first.team.evaluator
    client = client_for(evaluator)
    with_one, _body = dashboard_queries(client)
    for _ in range(4):
        DossierFactory(state="opened", organisation=org_a)
    DossierFactory(state="prior_evaluation", organisation=org_a)  # a draft of the same evaluator
    with_five, body = dashboard_queries(client)
    assert body.count(reverse("evaluations:evaluation_start", args=[first.pk])) == 1
    assert with_five == with_one
    assert Evaluation.objects.drafts().filter(evaluator=evaluator.user).count() == 1


# -- Errors summarised at the top of the grid (issue 14) --------------------------------------------------------


def _summary(body: str) -> str:
    start = body.index("data-error-summary")
    return body[start : body.index("</ul>", start)]


def test_a_refused_close_is_summarised_above_the_grid_with_links_to_the_fields(client_for, draft, evaluator):
    future = TODAY() + datetime.timedelta(days=1)

    response = client_for(evaluator).post(close_url(draft), {"ended_on": future.isoformat()})

    body = page_text(response)
    assert response.status_code == 200
    # Above the grid, not at its foot.
    assert body.index("data-error-summary") < body.index('class="grid-eval"')
    summary = _summary(body)
    assert "L'évaluation n'est pas clôturée" in summary
    assert '<a href="#id_ended_on">Date de fin : La date de fin ne peut pas être dans le futur.</a>' in summary
    # Each field's error named after its label, as on every other form's summary.
    assert '<a href="#id_confirm">Je confirme la clôture : ' in summary
    assert "modifiés. : Cochez la case pour confirmer la clôture.</a>" in summary
    assert 'tabindex="-1"' in body[body.index("data-error-summary") - 200 : body.index("data-error-summary")]
    assert "js/error_summary.js" in body
    assert "<script>" not in body  # the grid's script is a static file (CSP)


def test_a_grid_left_unanswered_is_summarised_with_links_to_the_rows(client_for, draft, evaluator):
    data = grid_post_data(draft)
    line = draft.results.select_related("criterion").order_by("criterion__code").first()
    del data[f"result-{line.criterion_id}"]

    response = client_for(evaluator).post(grid_url(draft), data)

    summary = _summary(page_text(response))
    assert "La grille n'a pas été enregistrée" in summary
    assert f'<a href="#r{line.criterion_id}-acquired">{line.criterion.code} : ' in summary


def test_a_page_without_errors_has_no_summary(client_for, draft, evaluator):
    body = page_text(client_for(evaluator).get(grid_url(draft)))

    assert "data-error-summary" not in body


def test_a_final_evaluation_dated_before_the_training_ended_is_refused_on_its_date(client_for):
    dossier = DossierFactory(state="in_training")
    complete_training(dossier)
    url = reverse("evaluations:evaluation_start", args=[dossier.pk])
    yesterday = TODAY() - datetime.timedelta(days=1)

    response = client_for(dossier.team.final_evaluator).post(
        url, {"started_on": yesterday.isoformat(), "modality": "on_site", "context": "Logistique"}
    )

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["started_on"]
    assert "ne peut pas commencer avant la fin de la formation" in page_text(response)
    assert 'value="Logistique"' in response.content.decode()
    assert not dossier.evaluations.filter(kind=EvaluationKind.FINAL).exists()


def test_an_evaluation_dated_in_the_future_is_refused_on_its_date(client_for):
    dossier = DossierFactory(state="opened")
    url = reverse("evaluations:evaluation_start", args=[dossier.pk])
    tomorrow = TODAY() + datetime.timedelta(days=1)

    response = client_for(dossier.team.evaluator).post(url, {"started_on": tomorrow.isoformat(), "modality": "on_site"})

    assert response.context["form"].errors == {"started_on": ["La date de début ne peut pas être dans le futur."]}
    assert not dossier.evaluations.exists()


def test_the_grid_body_cache_key_changes_when_a_deploy_changes_the_wording(settings, tmp_path):
    """A new catalogue (locale/*/LC_MESSAGES/django.mo) changes the grid's labels: its cached body is another key."""
    from evaluations.views import _grid_body_template_digest

    _grid_body_template_digest.cache_clear()
    before = _grid_body_template_digest()
    catalogue = tmp_path / "fr" / "LC_MESSAGES" / "django.mo"
    catalogue.parent.mkdir(parents=True)
    catalogue.write_bytes(b"another wording")
    settings.LOCALE_PATHS = [tmp_path]
    _grid_body_template_digest.cache_clear()
    try:
        assert _grid_body_template_digest() != before
    finally:
        _grid_body_template_digest.cache_clear()

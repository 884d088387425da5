"""« Prochaines étapes »: in every step, the dossier page says what comes next and who does it, even when it is not
the reader, and the reader's own actions stay below it."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from candidates.models import DossierState
from journey.next_steps import NEXT_STEPS
from organisations.models import Role
from tests.clients import page_text
from tests.evaluations.support import complete_training
from tests.factories import MembershipFactory
from tests.journey import DossierFactory
from tests.juries.factories import make_jury, submit

pytestmark = pytest.mark.django_db


def test_every_step_has_its_rule():
    assert set(NEXT_STEPS) == set(DossierState.values)


@pytest.fixture
def read(client_for):
    def read(dossier, membership) -> tuple[object, str]:
        response = client_for(membership).get(reverse("journey:dossier_detail", args=[dossier.pk]))
        assert response.status_code == 200
        return response.context["next_step"], page_text(response)

    return read


def admin_of(dossier):
    return MembershipFactory(organisation=dossier.organisation, role=Role.ORG_ADMIN)


def test_information_the_counsellor_opens(read):
    dossier = DossierFactory(state="information")
    step, text = read(dossier, admin_of(dossier))
    assert step.step.startswith("Ouverture du dossier")
    assert step.by == f"{dossier.counsellor.get_full_name()} (accompagnement)" and not step.is_reader
    mine, text = read(dossier, dossier.team.counsellor)
    assert mine.is_reader and "(vous)" in text and "Ouvrir le dossier" in text


def test_opened_the_organisations_evaluators_start_the_prior_evaluation(read):
    dossier = DossierFactory(state="opened")
    step, _text = read(dossier, dossier.team.counsellor)
    assert (step.step, step.by) == ("Évaluation préalable", f"l'équipe d'évaluation de {dossier.organisation.name}")
    assert step.note == ""


@pytest.mark.parametrize("state", ["prior_evaluation", "final_evaluation"])
def test_an_evaluation_in_progress_is_closed_by_its_evaluator(state, read):
    dossier = DossierFactory(state=state)
    draft = dossier.evaluations.get(status="draft")
    step, _text = read(dossier, dossier.team.counsellor)
    kind = "évaluation préalable" if state == "prior_evaluation" else "évaluation finale"
    assert step.step == f"Clôture de l'{kind} commencée le {draft.started_on:%d/%m/%Y}, depuis sa grille"
    assert step.by == f"{draft.evaluator.get_full_name()} (évaluation)"
    mine, _text = read(dossier, evaluator_of(draft))
    assert mine.is_reader


def evaluator_of(evaluation):
    return evaluation.dossier.organisation.memberships.get(user=evaluation.evaluator, role=Role.EVALUATOR)


def test_partially_validated_the_counsellor_defines_the_training(read):
    dossier = DossierFactory(state="partially_validated")
    step, _text = read(dossier, dossier.team.evaluator)
    assert (step.step, step.by) == (
        "Définition du parcours de formation",
        f"{dossier.counsellor.get_full_name()} (accompagnement)",
    )


def test_in_training_the_plans_trainer_then_the_evaluators(read):
    dossier = DossierFactory(state="in_training")
    plan = dossier.training_plans.get()
    step, _text = read(dossier, dossier.team.counsellor)
    assert step.by == f"{plan.trainer.get_full_name()} (formation), {plan.organisation.name}"
    assert f"fin prévue le {plan.ends_on:%d/%m/%Y}" in step.step
    complete_training(dossier)
    step, _text = read(dossier, dossier.team.counsellor)
    assert (step.step, step.by) == ("Évaluation finale", f"l'équipe d'évaluation de {dossier.organisation.name}")


def test_ready_for_jury_the_counsellor_submits(read):
    dossier = DossierFactory(state="ready_for_jury")
    step, _text = read(dossier, dossier.team.evaluator)
    assert step.step == "Soumission à une session de jury"
    assert step.by == f"{dossier.counsellor.get_full_name()} (accompagnement)"


def test_submitted_the_jury_session_decides_on_its_date(read):
    dossier = DossierFactory(state="ready_for_jury")
    jury = make_jury()
    submit(jury, dossier)
    step, text = read(dossier, dossier.team.counsellor)
    when = timezone.localtime(jury.session.date)
    assert step.by == f"le jury du {when:%d/%m/%Y à %H:%M} ({jury.session.place})"
    assert "Décision du jury paritaire" in text


@pytest.mark.parametrize("state", ["withdrawn"])
def test_a_closed_dossier_has_no_next_step(state, read):
    dossier = DossierFactory(state=state)
    step, _text = read(dossier, dossier.team.counsellor)
    assert step.by == "" and step.step.startswith("Aucune : ce dossier est clos")

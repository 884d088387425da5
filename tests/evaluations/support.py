"""Small steps the evaluation tests share (the journey factories live in tests/journey.py)."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from candidates.models import Dossier
from evaluations.models import CriterionResultValue, Evaluation
from training.models import TrainingPlan
from training.services import training_plan_complete, training_session_add


def complete_training(dossier: Dossier) -> TrainingPlan:
    """The trainer records a session done and declares the current plan completed."""
    plan = TrainingPlan.objects.filter(dossier=dossier).order_by("-cycle").first()
    training_session_add(
        plan=plan,
        by=dossier.team.trainer,
        date=timezone.localdate(),
        duration_hours=Decimal("3"),
        topic="Calcul",
        done=True,
    )
    return training_plan_complete(plan=plan, by=dossier.team.trainer, shortfall_reason="Objectifs atteints.")


def grid_post_data(evaluation: Evaluation, acquired: set[str] = frozenset(), comments: dict[str, str] | None = None):
    """The grid form as a browser posts it: one checked radio and one comment box per line."""
    comments = comments or {}
    data = {}
    for line in evaluation.results.select_related("criterion"):
        code = line.criterion.code
        data[f"result-{line.criterion_id}"] = (
            CriterionResultValue.ACQUIRED if code in acquired else CriterionResultValue.NOT_ACQUIRED
        )
        data[f"comment-{line.criterion_id}"] = comments.get(code, "")
    return data


# -- Pix results files (issue 21) --------------------------------------------------------------------------------

HEADER = (
    "Numéro de certification;Prénom;Nom;Date de naissance;Lieu de naissance;Identifiant Externe;Statut;"
    "Nombre de Pix;1.1;1.2;1.3;2.1;2.2;2.3;2.4;3.1;3.2;3.3;3.4;4.1;4.2;4.3;5.1;5.2;"
    "Commentaire jury pour l’organisation;Session;Centre de certification;Date de passage de la certification"
)
# The provisional mapping: domain 1 needs 5.2, 3.1 and 1.2, domain 2 needs 1.1 and 1.3 (at 0 here: not reached).
LEVELS_WITHOUT_DOMAIN_2 = "0;3;0;2;2;2;1;3;-;-;-;2;2;-;1;2"


def line(number, first, last, born, levels=LEVELS_WITHOUT_DOMAIN_2, status="Validée", taken=None, sep=";"):
    # Taken today by default: never before the dossier's opening (the factories open dossiers today).
    taken = taken or f"{timezone.localdate():%d/%m/%Y}"
    cells = [number, first, last, born, "Lille", "", status, "250", *levels.split(";"), "", "42", "Centre", taken]
    return sep.join(cells)


def pix_file(*lines, sep=";", bom=True, encoding="utf-8"):
    text = "\n".join([HEADER.replace(";", sep), *lines]) + "\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)

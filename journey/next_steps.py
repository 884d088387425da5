"""« Prochaines étapes » on the dossier page: what comes next and who does it, even when it is not the reader.

One rule per step of the dossier (NEXT_STEPS), each reading what the page has already loaded: the counsellor, the
current plan and its trainer, the evaluation in progress and its evaluator, the jury session the dossier is before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from candidates.models import Dossier, DossierState
from organisations.models import Membership, Role, User

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from evaluations.models import Evaluation
    from juries.models import JurySession
    from training.models import TrainingPlan

S = DossierState


@dataclass(frozen=True)
class Facts:
    """What the rules read, loaded by the page: no rule queries anything but the habilitation of an opened dossier."""

    dossier: Dossier
    reader: Membership
    plans: list[TrainingPlan]  # the latest cycle first
    evaluations: list[Evaluation]
    session: JurySession | None  # the session the dossier is submitted to, if any


@dataclass(frozen=True)
class NextStep:
    step: str
    # Who acts: a person and their role, a team, a jury; empty once the journey is over.
    by: str = ""
    # The reader is that person.
    is_reader: bool = False
    # Why the step waits, when it cannot be taken yet.
    note: str = ""


def _person(user: User, role: str, facts: Facts) -> tuple[str, bool]:
    label = f"{user.get_full_name()} ({Role(role).label.lower()})"
    return label, facts.reader.user_id == user.pk and facts.reader.role == role


def _team(facts: Facts) -> str:
    return _("l'équipe d'évaluation de %(organisation)s") % {"organisation": facts.dossier.organisation.name}


def _counsellor_step(step: StrOrPromise) -> Callable[[Facts], NextStep]:
    def rule(facts: Facts) -> NextStep:
        by, is_reader = _person(facts.dossier.counsellor, Role.COUNSELLOR, facts)
        return NextStep(str(step), by, is_reader)

    return rule


def _evaluation_in_progress(facts: Facts) -> NextStep:
    draft = next((e for e in facts.evaluations if e.is_draft), None)
    if draft is None:  # a dossier predating the evaluations' records
        return NextStep(_("Clôture de l'évaluation en cours"), _team(facts))
    by, is_reader = _person(draft.evaluator, Role.EVALUATOR, facts)
    step = _("Clôture de l'%(kind)s commencée le %(date)s, depuis sa grille") % {
        "kind": draft.get_kind_display().lower(),
        "date": f"{draft.started_on:%d/%m/%Y}",
    }
    return NextStep(step, by, is_reader)


def _opened(facts: Facts) -> NextStep:
    note = ""
    if not facts.dossier.habilitation_covering():
        note = _("L'organisme n'a pas d'habilitation en cours pour cette certification.")
    return NextStep(_("Évaluation préalable"), _team(facts), note=note)


def _in_training(facts: Facts) -> NextStep:
    plan = facts.plans[0] if facts.plans else None
    if plan is not None and not plan.is_completed:
        by, is_reader = _person(plan.trainer, Role.TRAINER, facts)
        step = _("Formation (parcours %(cycle)s, fin prévue le %(date)s), puis la déclaration de sa fin") % {
            "cycle": plan.cycle,
            "date": f"{plan.ends_on:%d/%m/%Y}",
        }
        return NextStep(step, f"{by}, {plan.organisation.name}", is_reader)
    if not facts.dossier.within_window():
        return NextStep(_("Aucune : le délai de 5 ans après l'évaluation préalable est écoulé, le dossier va expirer."))
    return NextStep(_("Évaluation finale"), _team(facts))


def _submitted(facts: Facts) -> NextStep:
    session = facts.session
    if session is None:
        return NextStep(_("Décision du jury paritaire"), _("un jury paritaire"))
    where = _("à distance") if session.is_online else session.place
    by = _("le jury du %(date)s (%(where)s)") % {
        "date": f"{timezone.localtime(session.date):%d/%m/%Y à %H:%M}",
        "where": where,
    }
    return NextStep(_("Décision du jury paritaire : certification, ajournement ou refus"), by)


def _over(text: StrOrPromise) -> Callable[[Facts], NextStep]:
    return lambda facts: NextStep(str(text))


NEXT_STEPS: dict[str, Callable[[Facts], NextStep]] = {
    S.INFORMATION: _counsellor_step(
        gettext_lazy("Ouverture du dossier, après l'entretien d'information et avec l'accord de la personne candidate")
    ),
    S.OPENED: _opened,
    S.PRIOR_EVALUATION: _evaluation_in_progress,
    S.PARTIALLY_VALIDATED: _counsellor_step(gettext_lazy("Définition du parcours de formation")),
    S.IN_TRAINING: _in_training,
    S.FINAL_EVALUATION: _evaluation_in_progress,
    S.READY_FOR_JURY: _counsellor_step(gettext_lazy("Soumission à une session de jury")),
    S.SUBMITTED_TO_JURY: _submitted,
    S.CERTIFIED: _over(gettext_lazy("Aucune : la certification est délivrée, le parcours est terminé.")),
    S.REFUSED: _over(gettext_lazy("Aucune : ce dossier est clos, plus aucune étape n'est possible.")),
    S.WITHDRAWN: _over(gettext_lazy("Aucune : ce dossier est clos, plus aucune étape n'est possible.")),
    S.EXPIRED: _over(gettext_lazy("Aucune : ce dossier est clos, plus aucune étape n'est possible.")),
}


def next_step(facts: Facts) -> NextStep:
    return NEXT_STEPS[facts.dossier.state](facts)


def reader_note(dossier: Dossier, membership: Membership) -> str:
    """What the page says to a reader with no action of their own on the dossier."""
    if membership.is_certifpro:
        return _("Certif'Pro consulte les dossiers sans intervenir dans leur parcours.")
    if not dossier.is_open:
        return ""
    return _("Vous n'avez rien à faire sur ce dossier pour l'instant.")

"""Reads of the organisation's dossiers for the screens: the counsellor's home page panel, and the steps a
membership is offered on a dossier (the dossier page and the API's transitions)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count
from django_fsm import Transition

from candidates.models import Dossier, DossierNote, DossierState
from organisations.models import Membership
from organisations.transitions import transitions_named

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


# Dicts rather than dataclasses: the home page's tests read them by key.
class StateCount(TypedDict):
    state: str
    label: StrOrPromise  # the choice's lazy label, translated when rendered
    count: int


class DossierBoard(TypedDict):
    total: int
    by_state: list[StateCount]


def dossier_board(membership: Membership) -> DossierBoard:
    """The dossiers the membership sees, counted per step in the journey's order with the empty steps left out
    (one aggregate query). The deadlines close at hand are in the counsellor's "À faire" (journey.selectors)."""
    counts = dict(Dossier.objects.visible_to(membership).order_by().values_list("state").annotate(n=Count("id")))
    return {
        "total": sum(counts.values()),
        "by_state": [
            {"state": value, "label": label, "count": counts[value]}
            for value, label in DossierState.choices
            if counts.get(value)
        ],
    }


# Conditions that a step's own page fulfils: the "open" page collects the candidate's consent, and the birth
# place and education level a referral left blank, so that step is offered while they are still missing
# (django-fsm, which checks every condition, would hide it).
FULFILLED_ON_ITS_PAGE = {"open": {"has_consent", "candidate_complete"}}


def offered_transitions(dossier: Dossier, membership: Membership) -> list[Transition]:
    """The transitions the membership may take now, counting the conditions their page fulfils as met."""
    # django-fsm-2 adds the method at class creation, and types a permission's user as a Django user.
    offered = list(dossier.get_available_user_state_transitions(membership))  # type: ignore[attr-defined]
    taken = {transition.name for transition in offered}
    for name, fulfilled in FULFILLED_ON_ITS_PAGE.items():
        transition = next((t for t in transitions_named(dossier, name) if t.source == dossier.state), None)
        if name in taken or transition is None or not transition.has_perm(dossier, membership):  # type: ignore[arg-type]
            continue
        if all(condition(dossier) for condition in transition.conditions if condition.__name__ not in fulfilled):
            offered.append(transition)
    return offered


@dataclass(frozen=True)
class EarlierNote:
    """A note of an earlier information interview of the same person in the same organisation."""

    reference: str
    at: datetime.datetime
    author: str
    text: str


def earlier_information_notes(membership: Membership, dossier: Dossier) -> list[EarlierNote]:
    """« Information précédente »: the notes of the person's earlier information interviews in this organisation,
    from the dossiers closed without opening (sans suite, or abandoned at the information step), newest first. The
    same person is the same folded names and birth date, as the one-dossier rule decides. One query."""
    candidate = dossier.candidate
    notes = (
        DossierNote.objects.visible_to(membership)
        .filter(
            organisation_id=dossier.organisation_id,
            dossier__candidate__identity_key=candidate.identity_key,
            dossier__candidate__birth_date=candidate.birth_date,
            dossier__state=DossierState.WITHDRAWN,
            dossier__consent_at__isnull=True,
            dossier__anonymised_at__isnull=True,
        )
        .exclude(dossier_id=dossier.pk)
        .select_related("dossier", "author")
        .order_by("-at", "-id")
    )
    return [
        EarlierNote(
            reference=note.dossier.reference or "", at=note.at, author=note.author.get_full_name(), text=note.text
        )
        for note in notes[:EARLIER_NOTES_SHOWN]
    ]


# Enough to remind the counsellor of what was said; the earlier dossier keeps them all.
EARLIER_NOTES_SHOWN = 10

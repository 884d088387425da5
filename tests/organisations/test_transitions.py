"""The one way to move a state machine (organisations/transitions.py), on real dossiers and funding lines:
the role check, the lock, the transition with its event and audit rows, and the labels."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from candidates.models import Dossier, DossierEvent, DossierState
from candidates.services import DossierConflict, TransitionRefused, dossier_open
from funding.models import FundingLine
from organisations.transitions import role_may, transition_apply, transition_label, transition_lock
from tests.audit import audit_rows_for
from tests.journey import DossierFactory

S = DossierState


def _conflict(locked: Dossier) -> DossierConflict:
    return DossierConflict(f"now {locked.state}")


def _refused(dossier: Dossier, name: str) -> TransitionRefused:
    return TransitionRefused(f"no {name} from {dossier.state}")


def _written(dossier: Dossier) -> tuple[int, int]:
    return DossierEvent.objects.filter(dossier=dossier).count(), audit_rows_for(dossier).count()


def _consented(dossier: Dossier) -> Dossier:
    """The dossier locked, with the consent that opening it requires."""
    locked = transition_lock(dossier, changed=_conflict)
    locked.consent_at, locked.consent_text = timezone.now(), "J'accepte."
    return locked


# -- role_may ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_role_may_reads_the_permission_even_where_the_transition_does_not_leave_the_current_state():
    dossier = DossierFactory(opened=True)
    assert dossier.state == S.OPENED
    # "open" only leaves "information": the counsellor is told the step is not possible, not refused access.
    assert role_may(dossier, "open", dossier.team.counsellor)
    assert not role_may(dossier, "open", dossier.team.evaluator)


@pytest.mark.django_db
def test_role_may_refuses_a_transition_the_model_does_not_declare():
    dossier = DossierFactory()
    assert not role_may(dossier, "fly_to_the_moon", dossier.team.counsellor)


# -- transition_lock --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_transition_lock_refuses_with_the_given_exception_when_the_state_moved_since_loading():
    dossier = DossierFactory()
    stale = Dossier.objects.get(pk=dossier.pk)
    dossier_open(dossier=dossier, by=dossier.team.counsellor, consent_text="J'accepte.")

    with pytest.raises(DossierConflict, match="now opened"), transaction.atomic():
        transition_lock(stale, changed=_conflict)
    with transaction.atomic():
        assert transition_lock(Dossier.objects.get(pk=dossier.pk), changed=_conflict).state == S.OPENED


@pytest.mark.django_db(transaction=True)
def test_transition_lock_outside_a_transaction_is_a_programming_error():
    dossier = DossierFactory()
    with pytest.raises(RuntimeError, match="inside a transaction"):
        transition_lock(dossier, changed=_conflict)


# -- transition_apply -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_transition_apply_saves_and_writes_one_event_and_one_audit_row():
    dossier = DossierFactory()
    counsellor = dossier.team.counsellor
    before = _written(dossier)
    with transaction.atomic():
        transition_apply(
            _consented(dossier), "open", by=counsellor, refused=_refused, action="dossier", note="Consentement"
        )

    assert Dossier.objects.get(pk=dossier.pk).state == S.OPENED
    assert _written(dossier) == (before[0] + 1, before[1] + 1)
    event = DossierEvent.objects.filter(dossier=dossier).latest("id")
    assert (event.transition, event.from_state, event.to_state, event.actor, event.note) == (
        "open",
        S.INFORMATION,
        S.OPENED,
        counsellor.user,
        "Consentement",
    )
    audit = audit_rows_for(dossier).latest("id")
    assert (audit.action, audit.actor, audit.organisation_id, audit.details) == (
        "dossier.open",
        counsellor.user,
        dossier.organisation_id,
        {"from": S.INFORMATION, "to": S.OPENED},
    )


@pytest.mark.django_db
def test_the_platform_acts_without_a_role_and_without_an_actor():
    dossier = DossierFactory()
    with transaction.atomic():
        transition_apply(_consented(dossier), "open", by=None, refused=_refused, action="dossier")
    assert DossierEvent.objects.filter(dossier=dossier).latest("id").actor is None
    assert audit_rows_for(dossier).latest("id").actor is None


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["information", "opened"])
def test_transition_apply_raises_the_apps_refusal_and_writes_nothing_when_the_state_machine_refuses(state):
    # Without consent "open" is refused by its condition; once opened, by its source.
    dossier = DossierFactory(state=state)
    before = _written(dossier)
    # Caught inside the transaction, which then commits: whatever the helper wrote before refusing would stay.
    with transaction.atomic():
        locked = transition_lock(dossier, changed=_conflict)
        with pytest.raises(TransitionRefused, match=f"no open from {state}"):
            transition_apply(locked, "open", by=dossier.team.counsellor, refused=_refused, action="dossier")
    assert Dossier.objects.get(pk=dossier.pk).state == state
    assert _written(dossier) == before


@pytest.mark.django_db
def test_transition_apply_denies_a_role_the_transition_does_not_allow_and_writes_nothing():
    dossier = DossierFactory()
    before = _written(dossier)
    with transaction.atomic():
        locked = _consented(dossier)
        with pytest.raises(PermissionDenied):
            transition_apply(locked, "open", by=dossier.team.evaluator, refused=_refused, action="dossier")
    assert locked.state == S.INFORMATION
    assert Dossier.objects.get(pk=dossier.pk).state == S.INFORMATION
    assert _written(dossier) == before


# -- transition_label -------------------------------------------------------------------------------------------


def test_transition_label_is_the_french_label_the_transition_declares():
    assert transition_label(FundingLine, "grant") == "Enregistrer l'accord"
    assert transition_label(FundingLine, "cancel") == "Annuler la ligne"
    # An automatic transition declares no label, nor does an unknown name: the name itself.
    assert transition_label(FundingLine, "pay") == "pay"
    assert transition_label(FundingLine, "fly_to_the_moon") == "fly_to_the_moon"

"""One way to move a state machine: lock the row, check the role, apply, write the event and the audit row.

Every state machine of the platform (dossier, funding line, jury session, referral, habilitation and its
application) is a django-fsm-2 field named `state` (or the one a model names in `state_field_name`) on a model
that also has an `organisation_id` (whose audit trail it joins) and a `record_event()` method writing its own
event row. Each app's service names its transition and its arguments; this module does the rest, through
django-fsm-2's public API only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django_fsm import Transition, TransitionNotAllowed

from organisations.services import audit_record

if TYPE_CHECKING:
    from django.http import HttpRequest

    from organisations.models import Membership, User


class StateMachine(Protocol):
    pk: Any
    organisation_id: Any

    # Read only here: the transitions move it (a field, or a property over `state_field_name`'s field).
    @property
    def state(self) -> Any: ...

    def save(self, *args: Any, **kwargs: Any) -> None: ...

    def record_event(
        self, *, transition: str, from_state: str, to_state: str, actor: User | None, note: str
    ) -> models.Model | None: ...


M = TypeVar("M", bound=StateMachine)


def transition_lock(obj: M, *, changed: Callable[[M], Exception], related: tuple[str, ...] = ()) -> M:
    """The object's row, locked for this transaction (`changed(locked)` is raised when its state moved since
    `obj` was loaded: another tab, a colleague, a scheduled job; refuse rather than lose). `related`: foreign keys
    read with it in the same query (select_related), which the lock leaves unlocked."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("transition_lock must run inside a transaction")
    # StateMachine is a protocol, so mypy cannot see that type(obj) is a model class with a manager.
    rows = type(obj)._default_manager.select_for_update(of=("self",))  # type: ignore[attr-defined]
    locked = (rows.select_related(*related) if related else rows).get(pk=obj.pk)
    if locked.state != obj.state:
        raise changed(locked)
    return locked


def _field_name(model: Any) -> str:
    """The state machine's field: `state`, or what the model names in `state_field_name` (a habilitation's
    `status` predates this module; the model then reads it back as its `state` property)."""
    return str(getattr(model, "state_field_name", "state"))


def transitions_named(obj: StateMachine, name: str) -> list[Transition]:
    """The declared transitions called `name`, the one leaving the current state first."""
    # django-fsm-2 adds get_all_<field>_transitions() to the model class at runtime: no static type to see.
    declared = getattr(obj, f"get_all_{_field_name(obj)}_transitions")()
    named = [t for t in declared if t.name == name]
    return sorted(named, key=lambda t: t.source not in (obj.state, "*", "+"))


def role_may(obj: StateMachine, name: str, membership: Membership) -> bool:
    """Whether the membership's role may take this transition, whatever the state and the conditions.

    A step that does not exist from the current state is the state machine's refusal, not the role's: the
    permission is read from any of the transition's sources (they share it), so that someone closing an
    already closed object is told why rather than refused access.
    """
    named = transitions_named(obj, name)
    # Our permissions are callables of (instance, membership); django-fsm-2 types them for a Django user.
    return bool(named) and bool(named[0].has_perm(obj, membership))  # type: ignore[arg-type]


def transition_label(model: type[models.Model], name: str) -> str:
    """The user-facing label a transition declares in `custom` ("grant" → "Enregistrer l'accord")."""
    # get_field() is typed as any field or relation; `state` is the FSMField.
    for t in model._meta.get_field(_field_name(model)).get_all_transitions(model):  # type: ignore[union-attr]
        if t.name == name:
            return str(t.custom.get("label", name))
    return name


def transition_apply(
    locked: M,
    name: str,
    *,
    by: Membership | None,
    refused: Callable[[M, str], Exception],
    actor: User | None = None,
    note: str = "",
    action: str,
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
    **kwargs: Any,
) -> M:
    """Apply transition `name` to an object locked by `transition_lock` and record it.

    `by` is the acting membership, whose role the transition's permission must allow (PermissionDenied
    otherwise); None when the platform acts (a scheduled job, a cascade the caller already authorised).
    `refused(locked, name)` builds the app's BusinessRefusal when the state machine refuses the step now.
    `actor` defaults to `by`'s user. Writes the object's event row and an audit row `<action>.<name>`.
    """
    if by is not None and not role_may(locked, name, by):
        raise PermissionDenied
    if actor is None and by is not None:
        actor = by.user
    source = locked.state
    try:
        getattr(locked, name)(**kwargs)
    except TransitionNotAllowed as exc:
        raise refused(locked, name) from exc
    locked.save()
    locked.record_event(transition=name, from_state=source, to_state=locked.state, actor=actor, note=note)
    audit_record(
        action=f"{action}.{name}",
        actor=actor,
        organisation=locked.organisation_id,
        obj=locked,  # type: ignore[arg-type]  # a StateMachine is a model; the protocol cannot say so
        request=request,
        details={"from": source, "to": locked.state, **(details or {})},
    )
    return locked

"""Jury sessions created before the event log get their history rebuilt from the append-only audit log
(juries/migrations/0003_session_events.py): schema before, audit rows, migration, the events they imply."""

import datetime

import pytest
from django.utils import timezone

from juries.models import JurySessionEvent, SessionState
from organisations.models import Role
from tests.factories import MembershipFactory, OrganisationFactory
from tests.migrations_support import migrated_to

# The last migration before the event log. No other app's migration depends on juries 0003, so it is the only
# one unapplied.
BEFORE_EVENTS = ("juries", "0002_session_state_label")

S = SessionState


def _history(session_pk: int) -> list[tuple]:
    events = JurySessionEvent.objects.filter(session_id=session_pk).order_by("at", "id")
    return [(e.transition, e.from_state, e.to_state, e.actor_id, e.at, e.note) for e in events]


@pytest.mark.django_db(transaction=True)
def test_existing_sessions_get_their_history_from_the_audit_log():
    body = OrganisationFactory(jury_body=True)
    admin = MembershipFactory(organisation=body, role=Role.ORG_ADMIN).user
    president = MembershipFactory(organisation=body, role=Role.JURY_MEMBER).user
    # Whole seconds: the same value back from every backend.
    created_at = timezone.now().replace(microsecond=0) - datetime.timedelta(days=20)
    convened_at = created_at + datetime.timedelta(days=1)
    deliberating_at = created_at + datetime.timedelta(days=10)
    closed_at = deliberating_at + datetime.timedelta(hours=3)
    lonely_created_at = created_at + datetime.timedelta(days=2)
    session_fields = {
        "organisation_id": body.pk,
        "region": body.region,
        "date": created_at + datetime.timedelta(days=10),
        "place": "Lille",
    }
    # Every other app as it is now, juries as it was before the event log. Leaving the block migrates to the
    # latest state: the backfill under test.
    with migrated_to([BEFORE_EVENTS]) as old_apps:
        with pytest.raises(LookupError):
            old_apps.get_model("juries", "JurySessionEvent")
        JurySession = old_apps.get_model("juries", "JurySession")
        AuditLog = old_apps.get_model("organisations", "AuditLog")
        content_type = old_apps.get_model("contenttypes", "ContentType").objects.get(
            app_label="juries", model="jurysession"
        )

        closed = JurySession.objects.create(**session_fields, state=S.CLOSED, closed_at=closed_at)
        lonely = JurySession.objects.create(**session_fields, state=S.PLANNED)
        # created_at is auto_now_add: only an update sets the past.
        JurySession.objects.filter(pk=closed.pk).update(created_at=created_at)
        JurySession.objects.filter(pk=lonely.pk).update(created_at=lonely_created_at)
        for action, actor, at in [
            ("jury_session.create", admin, created_at + datetime.timedelta(seconds=1)),
            # Not a transition: no event.
            ("jury_session.seats", admin, created_at + datetime.timedelta(minutes=5)),
            ("jury_session.convene", admin, convened_at),
            ("jury_session.start_deliberation", president, deliberating_at),
            ("jury_session.close", president, closed_at),
        ]:
            AuditLog.objects.create(
                action=action,
                actor_id=actor.pk,
                organisation_id=body.pk,
                object_type=content_type,
                object_id=str(closed.pk),
                created_at=at,
            )

    # The creation happened when the row was inserted (its audit row lands a moment later), by the audit row's
    # actor; each transition when and by whom the audit log says.
    assert _history(closed.pk) == [
        ("", "", S.PLANNED, admin.pk, created_at, ""),
        ("convene", S.PLANNED, S.CONVENED, admin.pk, convened_at, ""),
        ("start_deliberation", S.CONVENED, S.DELIBERATING, president.pk, deliberating_at, ""),
        ("close", S.DELIBERATING, S.CLOSED, president.pk, closed_at, ""),
    ]
    # No audit row at all: its creation, by nobody we know of.
    assert _history(lonely.pk) == [("", "", S.PLANNED, None, lonely_created_at, "")]

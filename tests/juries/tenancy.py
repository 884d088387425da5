"""The juries URLs that take an id, each made for the organisation under test.

The harness hands an evaluator organisation: for the session URLs it becomes a jury body (its org_admin manages
the sessions, each made in the state where the step is allowed). The jurors' URLs on a submitted dossier
(review, conflict, decision) belong to the jurors seated in the session: the owner is one of them (a fresh
juror of the body has no seat and sees nothing, like an outsider). The certificate belongs to the dossier's
evaluator organisation: its counsellor downloads it. Revocation is Certif'Pro's, national: see NOT_TENANT_URLS.
"""

from __future__ import annotations

from typing import Any

from juries.models import Certificate, DecisionKind, JurySession, SessionMinutes, Submission
from juries.services import conflict_declare, decision_record, jury_session_convene, minutes_generate
from organisations.models import Organisation, OrganisationKind, Role
from tests.documents import regenerated
from tests.journey import DossierFactory
from tests.juries.factories import (
    Jury,
    certified,
    close,
    deliberating,
    everyone_present,
    make_jury,
    session_day,
    submit,
)
from tests.tenancy_registry import Row, Target, TenantList, TenantURL, marker


def jury_of(org: Organisation) -> Jury:
    org.kind = OrganisationKind.JURY_BODY
    org.save(update_fields=["kind"])
    return make_jury(body=org)


def session_of(org: Organisation) -> dict[str, Any]:
    return {"pk": jury_of(org).session.pk}


def convened_session_of(org: Organisation) -> dict[str, Any]:
    jury = jury_of(org)
    jury_session_convene(session=jury.session, by=jury.admin)
    return {"pk": jury.session.pk}


def session_on_its_day_of(org: Organisation) -> Target:
    """A convened session of `org` on its day, with the attendance its opening takes (everyone present)."""
    jury = jury_of(org)
    session = session_day(jury_session_convene(session=jury.session, by=jury.admin))
    present = [{"member": member_id, "attendance": status} for member_id, status in everyone_present(session).items()]
    return Target({"pk": session.pk}, data={"attendance": present})


def session_on_its_day_for_the_screen(org: Organisation) -> Target:
    """The same session, with the attendance as the screen "Ouvrir la délibération" posts it: one radio group
    per member convened (AttendanceForm), everyone present."""
    target = session_on_its_day_of(org)
    present = {f"member_{row['member']}": row["attendance"] for row in target.data["attendance"]}
    return Target(target.kwargs, data=present)


def deliberating_session_of(org: Organisation) -> dict[str, Any]:
    # No dossier was submitted: every dossier has its decision, the session may close.
    jury = jury_of(org)
    deliberating(jury)
    return {"pk": jury.session.pk}


def closed_session_of(org: Organisation) -> dict[str, Any]:
    jury = jury_of(org)
    deliberating(jury)
    close(jury)
    minutes_generate(session_id=jury.session.pk)
    return {"pk": jury.session.pk}


def submission_before_juror_of(org: Organisation) -> Target:
    """A dossier submitted to a session of `org`, read by a juror seated in it (the employees' member)."""
    jury = jury_of(org)
    submission = submit(jury, DossierFactory(state="ready_for_jury"))
    return Target({"pk": submission.pk}, actor=jury.member_membership(jury.employee))


def submission_before_president_of(org: Organisation) -> tuple[Submission, Target]:
    """A dossier of a deliberating session of `org`: its president records the decision."""
    jury = jury_of(org)
    [submission] = deliberating(jury, DossierFactory(state="ready_for_jury"))
    return submission, Target({"pk": submission.pk}, actor=jury.president)


def decision_on_dossier_of(org: Organisation) -> dict[str, Any]:
    jury = make_jury()
    [submission] = deliberating(jury, DossierFactory(organisation=org, state="ready_for_jury"))
    decision = decision_record(submission=submission, by=jury.president, kind=DecisionKind.REFUSED, reason="Motif")
    return {"pk": decision.pk}


def certificate_of(org: Organisation) -> dict[str, Any]:
    _jury, _submission, certificate = certified(organisation=org)
    return {"pk": certificate.pk}


def certificate_to_regenerate(org: Organisation) -> Target:
    return Target({"kind": "certificate", **certificate_of(org)}, data={"reason": "Gabarit corrigé"})


def minutes_to_regenerate(org: Organisation) -> Target:
    minutes = SessionMinutes.objects.get(session_id=closed_session_of(org)["pk"])
    return Target({"kind": "minutes", "pk": minutes.pk}, data={"reason": "Gabarit corrigé"})


def earlier_certificate_of(org: Organisation) -> dict[str, Any]:
    return {"pk": regenerated(Certificate.objects.get(pk=certificate_of(org)["pk"])).pk}


def earlier_minutes_of(org: Organisation) -> dict[str, Any]:
    return {"pk": regenerated(SessionMinutes.objects.get(session_id=closed_session_of(org)["pk"])).pk}


TENANT_URLS = [
    TenantURL(
        "juries:submit",
        Role.COUNSELLOR,
        lambda org: {"dossier_pk": DossierFactory(organisation=org, state="ready_for_jury").pk},
    ),
    TenantURL("juries:session_detail", Role.ORG_ADMIN, session_of),
    TenantURL("juries:session_seats", Role.ORG_ADMIN, session_of),
    TenantURL("juries:session_convene", Role.ORG_ADMIN, session_of, method="post"),
    TenantURL("juries:session_deliberate", Role.ORG_ADMIN, convened_session_of),
    # The POST that opens the deliberation, not only the page with its attendance form.
    TenantURL("juries:session_deliberate", Role.ORG_ADMIN, session_on_its_day_for_the_screen, method="post"),
    TenantURL("juries:session_close", Role.ORG_ADMIN, deliberating_session_of, method="post"),
    TenantURL("juries:minutes_download", Role.ORG_ADMIN, closed_session_of),
    TenantURL("juries:review", Role.JURY_MEMBER, submission_before_juror_of),
    TenantURL(
        "juries:conflict_declare",
        Role.JURY_MEMBER,
        submission_before_juror_of,
        method="post",
        data={"conflict-statement": "J'ai formé ce candidat."},
    ),
    TenantURL(
        "juries:decide",
        Role.JURY_MEMBER,
        lambda org: submission_before_president_of(org)[1],
        method="post",
        data={"decision-kind": DecisionKind.AWARDED},
    ),
    TenantURL("juries:certificate_download", Role.COUNSELLOR, certificate_of),
    # A new version of a document (issue 13): the certificate's evaluator organisation, the minutes' jury body.
    TenantURL("documents:regenerate", Role.ORG_ADMIN, certificate_to_regenerate, method="post"),
    TenantURL("documents:regenerate", Role.ORG_ADMIN, minutes_to_regenerate, method="post"),
    TenantURL("documents:version_download", Role.ORG_ADMIN, earlier_certificate_of),
    TenantURL("documents:version_download", Role.ORG_ADMIN, earlier_minutes_of),
]


def _session_row(org: Organisation, *, juror: bool = False) -> Row:
    jury = jury_of(org)
    place = marker(org, "salle")
    JurySession.objects.filter(pk=jury.session.pk).update(place=place)
    return Row(place, actor=jury.president if juror else None)


def _conflict_row(org: Organisation) -> Row:
    target = submission_before_juror_of(org)
    submission = Submission.objects.get(pk=target.kwargs["pk"])
    statement = marker(org, "lien")
    conflict_declare(submission=submission, by=target.actor, statement=statement)
    return Row(statement, actor=target.actor)


# The jury body's administrator lists its sessions; a juror, the sessions they sit on and their own conflicts.
TENANT_LISTS = [
    TenantList("juries:session_list", Role.ORG_ADMIN, _session_row),
    TenantList("juries:session_list", Role.JURY_MEMBER, lambda org: _session_row(org, juror=True)),
    TenantList("juries:my_conflicts", Role.JURY_MEMBER, _conflict_row),
]

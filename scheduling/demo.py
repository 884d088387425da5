"""Demo data: assignments and appointments this week and next (relative to today), so that every demo counsellor,
evaluator and trainer has an agenda to show. Idempotent: an organisation that has appointments already is left
alone."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from candidates.models import Candidate, Civility, Dossier, EducationLevel, Origin, RegistrationStatus
from candidates.services import dossier_create
from clea_platform.certifications import Certification
from organisations.models import Membership, Organisation, Role, Site
from scheduling.availability import site_availability_refresh
from scheduling.models import Appointment, AppointmentModality, AppointmentPurpose, AssignmentPurpose
from scheduling.services import appointment_book, appointment_cancel, appointment_rebook, assignment_set


def _workday(offset: int) -> datetime.date:
    """The `offset`-th working day after today (1: the next one)."""
    day = timezone.localdate()
    while offset:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5:
            offset -= 1
    return day


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _dossier(organisation: Organisation, first_name: str, last_name: str) -> Dossier | None:
    return Dossier.objects.filter(
        organisation=organisation, candidate__first_name=first_name, candidate__last_name=last_name
    ).first()


@transaction.atomic
def seed_scheduling(orgs: dict[str, Organisation]) -> int:
    """Returns how many appointments were booked."""
    nord, sud = orgs["nord"], orgs["sud"]
    booked = 0
    if not Appointment.objects.filter(organisation=nord).exists():
        booked += _seed_nord(nord)
    if not Appointment.objects.filter(organisation=sud).exists():
        booked += _seed_sud(sud)
    return booked


def _seed_nord(nord: Organisation) -> int:
    counsellor = Membership.objects.get(user__email="conseillere@evaluateur-nord.demo", role=Role.COUNSELLOR)
    evaluator = Membership.objects.get(user__email="evaluateur@evaluateur-nord.demo", role=Role.EVALUATOR)
    trainer = Membership.objects.get(user__email="formatrice@formation-nord.demo", role=Role.TRAINER)
    site = Site.objects.filter(organisation=nord, is_active=True).order_by("pk").first()
    nadia, kevin = _dossier(nord, "Nadia", "Benali"), _dossier(nord, "Kevin", "Lambert")
    sandrine, mohamed = _dossier(nord, "Sandrine", "Morel"), _dossier(nord, "Mohamed", "Diallo")
    julie, patrick = _dossier(nord, "Julie", "Fontaine"), _dossier(nord, "Patrick", "Girard")
    if None in (site, nadia, kevin, sandrine, mohamed, julie, patrick):
        return 0
    on_site = {"modality": AppointmentModality.SITE, "site": site}
    remote = {"modality": AppointmentModality.REMOTE, "remote_details": "https://visio.evaluateur-nord.demo/clea"}
    # Its sites' availability in the directory comes from these bookings.
    nord.uses_platform_agenda = True
    nord.save(update_fields=["uses_platform_agenda"])
    assignment_set(dossier=kevin, purpose=AssignmentPurpose.PRIOR_EVALUATION, assignee=evaluator, by=counsellor)
    assignment_set(dossier=mohamed, purpose=AssignmentPurpose.TRAINING, assignee=trainer, by=counsellor)
    this_week, next_week = _workday(1), _workday(6)
    # The information meeting, cancelled by the candidate and rebooked next week.
    first = appointment_book(
        dossier=nadia,
        purpose=AppointmentPurpose.INFORMATION,
        with_membership=counsellor,
        starts_at=_at(this_week, 10),
        duration_minutes=60,
        by=counsellor,
        **on_site,
    )
    appointment_cancel(appointment=first, by=counsellor, reason="La candidate a demandé un autre jour.")
    appointment_rebook(appointment=first, by=counsellor, starts_at=_at(next_week, 10))
    # (dossier, purpose, person met, start, minutes, place, booked by): the trainer books a session herself and the
    # counsellor the next one, so that each hears of the other's booking (notifications never tell the booker).
    plans = [
        (kevin, AppointmentPurpose.PRIOR_EVALUATION, evaluator, _at(_workday(2), 9), 180, on_site, counsellor),
        (sandrine, AppointmentPurpose.PRIOR_EVALUATION, evaluator, _at(this_week, 14), 120, on_site, counsellor),
        (patrick, AppointmentPurpose.FINAL_EVALUATION, evaluator, _at(_workday(7), 9), 150, on_site, counsellor),
        (julie, AppointmentPurpose.TRAINING_SESSION, trainer, _at(this_week, 14), 120, remote, trainer),
        (julie, AppointmentPurpose.TRAINING_SESSION, trainer, _at(next_week, 14), 120, remote, counsellor),
        (nadia, AppointmentPurpose.INFORMATION, counsellor, _at(_workday(2), 16), 45, remote, counsellor),
    ]
    for dossier, purpose, person, starts_at, minutes, place, booker in plans:
        appointment_book(
            dossier=dossier,
            purpose=purpose,
            with_membership=person,
            starts_at=starts_at,
            duration_minutes=minutes,
            by=booker,
            **place,
        )
    site_availability_refresh(site)
    return 2 + len(plans)


def _seed_sud(sud: Organisation) -> int:
    """The southern counsellor's information meetings, for a dossier of their own."""
    counsellor = Membership.objects.get(user__email="conseiller@evaluateur-sud.demo", role=Role.COUNSELLOR)
    site = Site.objects.filter(organisation=sud, is_active=True).order_by("pk").first()
    if site is None:
        return 0
    birth = datetime.date(1987, 5, 4)
    candidate = Candidate.objects.filter(organisation=sud, first_name="Lucas", last_name="Fabre").first()
    dossier = (
        candidate.dossiers.first()
        if candidate
        else dossier_create(
            membership=counsellor,
            certification=Certification.CLEA,
            candidate_data={
                "civility": Civility.M,
                "first_name": "Lucas",
                "last_name": "Fabre",
                "birth_date": birth,
                "birth_place": "Marseille",
                "registration_status": RegistrationStatus.JOB_SEEKER,
                "education_level": EducationLevel.LEVEL_3,
                "origin": Origin.OWN_INITIATIVE,
                "email": "lucas.fabre@candidat.demo",
            },
        )
    )
    for offset, hour in ((1, 11), (6, 11)):
        appointment_book(
            dossier=dossier,
            purpose=AppointmentPurpose.INFORMATION,
            with_membership=counsellor,
            starts_at=_at(_workday(offset), hour),
            duration_minutes=60,
            modality=AppointmentModality.SITE,
            site=site,
            by=counsellor,
        )
    return 2

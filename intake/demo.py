"""Demo data: two people who asked a Nord site for an information interview from the directory, one waiting for a
proposal, one with a meeting proposed in the counsellor's agenda. Seeded after the agendas (scheduling.demo seeds
only an organisation without appointments)."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from clea_platform.certifications import Certification
from intake.models import InterviewRequest, new_token
from intake.services import interview_request_confirm, interview_request_propose, interview_request_submit
from organisations.models import Membership, Organisation, Role, Site

# (first name, last name, preferred times, whether the organisation already proposed a meeting)
REQUESTS = [
    ("Inès", "Haddad", "Le matin, plutôt le mardi.", False),
    ("Karim", "Benhamou", "Après 16 h, je travaille le matin.", True),
]


def seed_intake(orgs: dict[str, Organisation]) -> int:
    """Returns how many requests were created (0 on a second run)."""
    site = Site.objects.get(organisation=orgs["nord"], name="Lille – Moulins")
    counsellor = Membership.objects.get(user__email="conseillere@evaluateur-nord.demo", role=Role.COUNSELLOR)
    created = 0
    for first, last, preferred, proposed in REQUESTS:
        email = f"{first.lower().replace('è', 'e')}.{last.lower()}@particulier.demo"
        if InterviewRequest.objects.filter(email=email).exists():
            continue
        interview_request = interview_request_submit(
            site=site,
            certification=Certification.CLEA,
            first_name=first,
            last_name=last,
            email=email,
            phone="06 98 76 54 32",
            preferred_times=preferred,
        )
        # The person "opens the e-mailed link": a link of the demo's own, since the e-mailed one is not kept.
        token, digest = new_token()
        InterviewRequest.objects.filter(pk=interview_request.pk).update(token_sha256=digest)
        confirmed = interview_request_confirm(token=token)
        if confirmed is None:  # cannot happen: the link is the one just written
            raise RuntimeError(f"Demo interview request {interview_request.pk} not confirmed")
        if proposed:
            _propose(confirmed, counsellor, site)
        created += 1
    return created


def _propose(interview_request: InterviewRequest, counsellor: Membership, site: Site) -> None:
    """A meeting at 16:30 on the first weekday from the third day on that the counsellor's agenda leaves free."""
    day = timezone.localdate() + datetime.timedelta(days=3)
    for _attempt in range(14):
        if day.weekday() < 5:
            starts_at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(16, 30)))
            try:
                interview_request_propose(
                    interview_request=interview_request,
                    by=counsellor,
                    starts_at=starts_at,
                    duration_minutes=45,
                    with_membership=counsellor,
                    place=f"{site.name}, {site.address}, {site.postcode} {site.city}",
                )
                return
            except ValidationError:
                pass
        day += datetime.timedelta(days=1)

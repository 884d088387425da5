"""The demo: every demo counsellor, evaluator and trainer has appointments this week or next."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from organisations.models import Membership, Role
from scheduling.models import Appointment, AppointmentState, Assignment


@pytest.mark.django_db
def test_the_demo_fills_every_agenda_and_is_idempotent(settings):
    settings.DEBUG, settings.EMBEDDED = True, True
    call_command("seed_demo", verbosity=0, without_communes=True)
    count = Appointment.objects.count()
    call_command("seed_demo", verbosity=0, without_communes=True)
    assert Appointment.objects.count() == count
    today = timezone.localdate()
    horizon = timezone.make_aware(datetime.datetime.combine(today + datetime.timedelta(days=15), datetime.time.min))
    people = Membership.objects.filter(
        role__in=[Role.COUNSELLOR, Role.EVALUATOR, Role.TRAINER], user__email__endswith=".demo"
    ).select_related("user")
    assert people.count() >= 4
    for person in people:
        planned = Appointment.objects.of_person(person.user_id).filter(
            state=AppointmentState.PLANNED, starts_at__gte=timezone.now(), starts_at__lt=horizon
        )
        assert planned.exists(), person.user.email
    assert Assignment.objects.current().filter(assignee__user__email="formatrice@formation-nord.demo").exists()
    assert Appointment.objects.filter(rebooked_from__isnull=False).exists()

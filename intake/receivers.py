"""Intake follows its appointment: cancelled from the agenda, the request goes back to the organisation's queue."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from intake.services import interview_request_appointment_cancelled
from scheduling.signals import appointment_cancelled


@receiver(appointment_cancelled, dispatch_uid="intake.appointment_cancelled")
def on_appointment_cancelled(sender: Any, *, appointment: Any, reason: str, by: Any = None, **kwargs: Any) -> None:
    interview_request_appointment_cancelled(appointment=appointment, reason=reason, by=by)

"""What scheduling announces to the apps above it (notifications tells the people concerned).

Sent inside the service's transaction with `send`: a failing receiver rolls the operation back. Every signal
carries `by` (organisations.User, who acted; None when the platform acted on its own, e.g. an evaluation started
without an assignment records one).
"""

from django.dispatch import Signal

# kwargs: assignment (scheduling.Assignment, the new current one), previous (Assignment | None, just ended:
# a reassignment), by (User | None)
assignment_changed = Signal()

# kwargs: appointment (scheduling.Appointment, planned; `appointment.rebooked_from` is the missed or cancelled one
# it replaces, if any), by (User)
appointment_booked = Signal()

# kwargs: appointment (scheduling.Appointment, after the change), change ("rescheduled" | "done" | "missed"),
# previous (dict: the former "starts_at", "duration_minutes", "modality", "site_id", "remote_details" for
# "rescheduled"; empty otherwise), by (User)
appointment_changed = Signal()

# kwargs: appointment (scheduling.Appointment, cancelled), reason (str, as given), by (User)
appointment_cancelled = Signal()

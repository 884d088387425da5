"""What an interview request announces to the apps above it (notifications tell the organisation's counsellors).

Sent inside the service's transaction with `send` (not `send_robust`): a receiver that fails rolls it back.
"""

from django.dispatch import Signal

# kwargs: interview_request (its e-mail just confirmed by the person)
interview_request_confirmed = Signal()

# kwargs: interview_request (accepted, or another time asked, by the person)
interview_request_answered = Signal()

"""What training announces to the apps above it (notifications tell the trainer, then the counsellor).

Sent inside the service's transaction with `send` (not `send_robust`): a receiver that fails rolls the operation
back.
"""

from django.dispatch import Signal

# kwargs: plan (just created), by (Membership | None: None for the next cycle opened by a final evaluation)
training_plan_created = Signal()

# kwargs: plan (completed), by (the trainer's Membership)
training_plan_completed = Signal()

"""What a referral announces to the apps above it (notifications tell the receiving organisation, then the advisor).

Sent inside the service's transaction with `send` (not `send_robust`): a receiver that fails rolls it back.
"""

from django.dispatch import Signal

# kwargs: referral (just sent), by (the advisor's Membership)
referral_sent = Signal()

# kwargs: referral (accepted or declined), by (the answering Membership)
referral_answered = Signal()

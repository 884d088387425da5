"""What webhooks announce to the apps above it (notifications tell the organisation's administrators).

Sent inside the service's transaction with `send` (not `send_robust`): a receiver that fails rolls it back.
"""

from django.dispatch import Signal

# kwargs: subscription (WebhookSubscription, just paused after its deliveries kept failing)
subscription_paused = Signal()

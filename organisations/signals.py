"""What a habilitation announces to the apps above it: funding records its fees, notifications tell the
organisation's administrators.

Sent inside the service's transaction with `send` (not `send_robust`): a receiver that fails rolls it back.
"""

from django.dispatch import Signal

# kwargs: event (one of HABILITATION_EVENTS), organisation_id, habilitations (the rows concerned, possibly none),
# application (a HabilitationApplication or None), reason (str), by (the acting Membership)
habilitation_changed = Signal()

# The events of habilitation_changed. "granted" and "renewed" start a new period: its fees are owed.
HABILITATION_EVENTS = ("granted", "refused", "renewed", "suspended", "reinstated", "withdrawn")

"""What the evaluations announce to the apps above it: funding records Certif'Pro's fee for a prior evaluation,
training opens the next cycle after a final evaluation with gaps, notifications tell the people concerned.

Sent inside `evaluation_close`'s transaction with `send`: a failing receiver rolls the closing back.
"""

from django.dispatch import Signal

# kwargs: evaluation (closed), dossier (locked, moved on), outcome (referentiels.outcomes.Outcome),
# by (the closing Membership)
evaluation_closed = Signal()

# kwargs: attestation (just stored with its PDF, on the worker). Sent once, in the transaction that stores it.
attestation_ready = Signal()

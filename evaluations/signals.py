"""What a closed evaluation announces to the apps above it: funding records Certif'Pro's fee for a prior
evaluation, training opens the next cycle after a final evaluation with gaps.

Sent inside `evaluation_close`'s transaction with `send`: a failing receiver rolls the closing back.
"""

from django.dispatch import Signal

# kwargs: evaluation (closed), dossier (locked, moved on), outcome (referentiels.outcomes.Outcome)
evaluation_closed = Signal()

"""What the dossier announces to the apps above it (funding stops its lines when a dossier is withdrawn).

Sent inside the service's transaction with `send` (not `send_robust`): a receiver that fails rolls the whole
operation back, so the dossier and its consequences land together or not at all.
"""

from django.dispatch import Signal

# kwargs: dossier (locked, withdrawn), by (Membership | None), reason (str)
dossier_withdrawn = Signal()

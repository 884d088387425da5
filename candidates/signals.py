"""What the dossier announces to the apps above it (funding stops its lines when a dossier is withdrawn).

Sent inside the service's transaction with `send` (not `send_robust`): a receiver that fails rolls the whole
operation back, so the dossier and its consequences land together or not at all.
"""

from django.dispatch import Signal

# kwargs: dossier (locked, not yet withdrawn). Receivers lock the rows they will change on `dossier_withdrawn`, and
# write nothing: every row lock of the withdrawal is then taken before its first audit row, whose chain lock
# (organisations.models.AUDIT_CHAIN_LOCK) is held to the commit. A row locked after it could be held by a transaction
# waiting for that chain lock (a funding line being granted): each would wait for the other, and PostgreSQL would
# abort one of them.
dossier_withdrawal_started = Signal()

# kwargs: dossier (locked, withdrawn), by (Membership | None), reason (str)
dossier_withdrawn = Signal()

# kwargs: correction (CorrectionRequest, just written). The candidate asked: no membership acted.
correction_requested = Signal()

# kwargs: correction (CorrectionRequest, answered), by (Membership)
correction_answered = Signal()

# kwargs: dossier (locked, still in its previous organisation). Receivers lock the rows they will change on
# `dossier_transferred` and write nothing (the lock order of `dossier_withdrawal_started`).
dossier_transfer_started = Signal()

# kwargs: dossier (locked, now in the new organisation), transfer (DossierTransfer), previous_counsellor_id (int),
# by (Membership | None: None when the candidate moved it from their space). Scheduling cancels the appointments in
# progress and ends the open assignments, training closes a plan in progress, notifications tells both
# organisations; each with the transfer's reason.
dossier_transferred = Signal()

# kwargs: dossier (locked, in its new state), event (the DossierEvent just written: `from_state`, empty for a dossier
# just created, `to_state`, `transition`, `actor`). Sent by Dossier.record_event for every change of step, the
# creation included (webhooks tell the subscribers).
dossier_state_changed = Signal()

"""What the jury announces to the apps above it (funding records Certif'Pro's fee per certificate; notifications
tell the people concerned of submissions, convocations, decisions and certificates).

Sent inside the transaction that issues the certificate (its row with its stored PDF), with `send`: a failing
receiver rolls it back. A row left without its PDF by the code before issue 13 is announced again when its PDF is
stored: receivers must be idempotent (funding records one fee per certificate).
"""

from django.dispatch import Signal

# kwargs: certificate (just issued: its file and sha256 are set)
certificate_created = Signal()

# kwargs: submission (just created), session (locked; its state says whether it was already convened), by
dossier_submitted = Signal()

# kwargs: session (convened), by
session_convened = Signal()

# kwargs: decision (just recorded), dossier (locked, moved on), by
decision_recorded = Signal()

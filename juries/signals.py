"""What the jury announces to the apps above it (funding records Certif'Pro's fee per certificate).

Sent inside the transaction that issues the certificate (its row with its stored PDF), with `send`: a failing
receiver rolls it back. A row left without its PDF by the code before issue 13 is announced again when its PDF is
stored: receivers must be idempotent (funding records one fee per certificate).
"""

from django.dispatch import Signal

# kwargs: certificate (just issued: its file and sha256 are set)
certificate_created = Signal()

"""What the jury announces to the apps above it (funding records Certif'Pro's fee per certificate).

Sent inside the transaction that creates the certificate, with `send`: a failing receiver rolls it back.
"""

from django.dispatch import Signal

# kwargs: certificate (just created)
certificate_created = Signal()

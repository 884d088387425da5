"""Public verification codes, shared by the documents checked on `/verifier/` (certificates, attestations of
partial validation): how a code is drawn, how what a person types is read back, and the link and QR code printed
on the document. No application is imported: the page that looks codes up lives in `juries`, the documents in
`juries` and `evaluations`."""

from __future__ import annotations

import re
import secrets

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

# Pix's public codes: no 0, 1 or vowel, so that nothing reads ambiguously or spells a word.
VERIFICATION_ALPHABET = "23456789BCDFGHJKLMNPQRSTVWXZ"
# A certificate's code has 8 characters; an attestation's 10, so that the two kinds can never collide and the
# page knows which one it is asked for from the length alone (28^10 ≈ 3·10^14: unguessable at 30 tries a minute).
CERTIFICATE_CODE_LENGTH = 8
ATTESTATION_CODE_LENGTH = 10

# What a person may type around a code read off a document: spaces and dashes to group the characters.
_CODE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015]+")
# The shape of a code once its separators are gone: 8 or 10 ASCII letters or digits. Checked before any query, so
# that nothing else (a slash, a NUL byte, a page of text) reaches the database or a URL.
_CODE_SHAPE = re.compile(rf"[A-Z0-9]{{{CERTIFICATE_CODE_LENGTH}}}|[A-Z0-9]{{{ATTESTATION_CODE_LENGTH}}}")


def verification_code_new(length: int) -> str:
    return "".join(secrets.choice(VERIFICATION_ALPHABET) for _ in range(length))


def verification_code_normalise(code: str) -> str | None:
    """The code as it is stored ("ab12 cd34", "AB12-CD34" give "AB12CD34"), or None if the input cannot be one.
    A well-shaped code outside the alphabet (a 0, a 1, a vowel) is still a code: unknown, not malformed."""
    normalised = _CODE_SEPARATORS.sub("", code).upper()
    return normalised if _CODE_SHAPE.fullmatch(normalised) else None


def verification_url(code: str) -> str:
    """The public page of a code, at the address the platform is served at (printed on documents, in the API)."""
    return settings.SITE_URL.rstrip("/") + reverse("certificate_verify", args=[code])


def verification_qr_svg(code: str, *, scale: int = 3) -> str:
    """The QR code of `verification_url(code)`, inline SVG for a PDF template (or a page: the candidate's space
    draws it larger, to be scanned off a phone's screen). Its `<title>` is the figure's alternative text in the
    tagged PDF: what the code leads to, for a reader who cannot scan it."""
    import segno

    url = verification_url(code)
    alt = _("Code QR menant à la page de vérification %(url)s") % {"url": url}
    return segno.make(url, error="m").svg_inline(scale=scale, omitsize=False, title=alt)

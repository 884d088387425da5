"""The second factor in tests: a device for a user, and the code an authenticator app would show for it now."""

from __future__ import annotations

import time

from django.http import HttpRequest
from django_otp.oath import TOTP, hotp
from django_otp.plugins.otp_totp.models import TOTPDevice

from organisations.models import User
from organisations.services import two_factor_device, two_factor_login


def provision_device(user: User) -> TOTPDevice:
    """The user's confirmed authenticator, created (random secret) if they have none: what enrolment leaves behind.
    The enrolment screens themselves are tested in tests/organisations/test_two_factor.py and the browser tests."""
    return two_factor_device(user) or TOTPDevice.objects.create(user=user, name="test", confirmed=True)


def totp_code(device: TOTPDevice) -> str:
    """A code the device accepts now, computed from its key as an app would. django-otp refuses a time step it has
    already accepted (replay), so a second login within the same 30 s takes the next step, which its tolerance of
    one step allows; past that, wait for the clock."""
    while True:
        device.refresh_from_db()
        now = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).t()
        step = max(now, device.last_t + 1)
        if step <= now + device.tolerance:
            return f"{hotp(device.bin_key, step, digits=device.digits):0{device.digits}d}"
        time.sleep(device.step - time.time() % device.step + 0.05)


def verify_session(session, user: User, device: TOTPDevice | None = None) -> None:
    """Mark a test client's session verified by the user's device, through the service the code page calls once a
    code is accepted (django_otp.login plus the platform's flag). The caller saves the session."""
    request = HttpRequest()
    request.session = session
    request.user = user
    two_factor_login(request=request, device=device or provision_device(user))

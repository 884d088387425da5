"""Test clients, shared by the fixtures (tests/conftest.py) and the fault harness (tests/faults/harness.py), and
how a test reads the page a client got back."""

from __future__ import annotations

import html

from django.http import HttpResponse
from django.test import Client

from clea_platform.tenancy import SESSION_KEY
from organisations.models import Membership, User
from organisations.services import TWO_FACTOR_ENROLLED_KEY
from tests.two_factor import verify_session


def logged_in_client(membership: Membership, two_factor: bool | None = None) -> Client:
    """A client logged in and working under the given membership. Its session has given a second factor when the
    user has an authenticator or roles that require one (`two_factor=None`), or when asked (`True`: an
    authenticator is set up for the user if they have none); `False` leaves it at the password, as a session
    waiting for its code."""
    client = Client()
    user = membership.user
    client.force_login(user)
    session = client.session
    session[SESSION_KEY] = membership.pk
    if two_factor is None:
        # Whether the user had a device at login is in the session already (organisations.services).
        two_factor = session[TWO_FACTOR_ENROLLED_KEY] or user.two_factor_required(user.active_memberships())
    if two_factor:
        verify_session(session, user)
    session.save()
    return client


def verified_login(client: Client, user: User) -> Client:
    """`client.force_login(user)`, with the second factor given as the user's code page would record it."""
    client.force_login(user)
    session = client.session
    verify_session(session, user)
    session.save()
    return client


def page_text(response: HttpResponse) -> str:
    """The page as the reader reads it: entities decoded ("l'évaluation", not "l&#x27;évaluation")."""
    return html.unescape(response.content.decode())

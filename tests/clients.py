"""Test clients, shared by the fixtures (tests/conftest.py) and the fault harness (tests/faults/harness.py), and
how a test reads the page a client got back."""

from __future__ import annotations

import html

from django.http import HttpResponse
from django.test import Client

from clea_platform.tenancy import SESSION_KEY
from organisations.models import Membership


def logged_in_client(membership: Membership) -> Client:
    """A client logged in and working under the given membership."""
    client = Client()
    client.force_login(membership.user)
    session = client.session
    session[SESSION_KEY] = membership.pk
    session.save()
    return client


def page_text(response: HttpResponse) -> str:
    """The page as the reader reads it: entities decoded ("l'évaluation", not "l&#x27;évaluation")."""
    return html.unescape(response.content.decode())

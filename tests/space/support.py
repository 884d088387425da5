"""Signing a test client in as a candidate, as the link's button does."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from candidates.models import Dossier, LinkOrigin
from space.services import sign_in_link_create


def link_for(dossier: Dossier) -> str:
    """A fresh sign-in token for the dossier's candidate (as support's command makes one)."""
    _link, token = sign_in_link_create(candidate=dossier.candidate, origin=LinkOrigin.SUPPORT)
    return token


def candidate_client(dossier: Dossier, client: Client | None = None) -> Client:
    client = client or Client()
    response = client.post(reverse("space:sign_in", args=[link_for(dossier)]))
    assert response.status_code == 302, response.content[:300]
    return client

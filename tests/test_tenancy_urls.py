from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from organisations.models import Organisation
from tests.factories import OrganisationFactory
from tests.shared import shared_rows
from tests.tenancy_registry import NOT_TENANT_URLS, TENANT_URLS, Target, TenantURL, refusal


def _parametrised_url_names(resolver: URLResolver | None = None, namespace: str = "") -> set[str]:
    """Names of every project URL that takes a parameter (the admin polices itself)."""
    resolver = resolver or get_resolver()
    names: set[str] = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= _parametrised_url_names(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.pattern.regex.groupindex and pattern.name:
            names.add(f"{namespace}{pattern.name}")
    return names


def _send(client: Client, entry: TenantURL, url: str, data: dict[str, Any]) -> HttpResponse:
    for value in data.values():
        if hasattr(value, "seek"):  # an upload, read again by each client
            value.seek(0)
    if entry.method == "get":
        return client.get(url)
    if entry.name.startswith("api:"):
        return getattr(client, entry.method)(url, data, content_type="application/json")
    return getattr(client, entry.method)(url, data)


def test_every_url_with_an_id_is_covered_by_the_tenancy_test():
    covered = {entry.name for entry in TENANT_URLS} | set(NOT_TENANT_URLS)
    missing = _parametrised_url_names() - covered
    assert not missing, f"add these URLs to tests/tenancy_registry.py: {sorted(missing)}"


@dataclass
class Owned:
    """An entry's object, made for `owner` (org_b's part in the tests), and another organisation."""

    entry: TenantURL
    outsider: Organisation
    owner: Organisation
    target: Target


@pytest.fixture(scope="module", params=TENANT_URLS, ids=lambda e: e.name)
def owned(request, django_db_setup, django_db_blocker) -> Iterator[Owned]:
    """Each entry's object made once for its two tests (tests/shared.py: each test runs in a savepoint, so the
    owner's POST is undone before the next test): making it is most of their cost (documents rendered, dossiers
    walked through the services). One entry's rows at a time: pytest runs both tests of a parameter together."""
    entry = request.param
    with shared_rows(django_db_blocker):
        outsider, owner = OrganisationFactory(name="Évaluateur A"), OrganisationFactory(name="Évaluateur B")
        yield Owned(entry, outsider, owner, entry.target(owner))


def test_another_organisation_gets_404_and_the_owner_succeeds(owned: Owned, make_member, client_for):
    entry, target = owned.entry, owned.target
    url = reverse(entry.name, kwargs=target.kwargs)

    outsider = client_for(make_member(owned.outsider, role=entry.role))
    assert _send(outsider, entry, url, target.data).status_code == 404

    actor = target.actor or make_member(owned.owner, role=entry.role)
    assert (actor.organisation_id, actor.role) == (owned.owner.pk, entry.role), (
        "the owner is a member of the organisation"
    )
    problem = refusal(_send(client_for(actor), entry, url, target.data))
    assert problem is None, f"{entry.role} of the owning organisation, {entry.method.upper()} {url}: {problem}"


def test_a_missing_object_also_gets_404(owned: Owned, make_member, client_for):
    entry, target = owned.entry, owned.target
    kwargs = {key: 987654321 if isinstance(value, int) else value for key, value in target.kwargs.items()}
    client = client_for(target.actor or make_member(owned.owner, role=entry.role))
    assert _send(client, entry, reverse(entry.name, kwargs=kwargs), target.data).status_code == 404

from __future__ import annotations

from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.tenancy_registry import NOT_TENANT_URLS, TENANT_URLS, TenantURL, refusal


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


@pytest.mark.parametrize("entry", TENANT_URLS, ids=lambda e: e.name)
def test_another_organisation_gets_404_and_the_owner_succeeds(entry: TenantURL, org_a, org_b, make_member, client_for):
    target = entry.target(org_b)
    url = reverse(entry.name, kwargs=target.kwargs)

    outsider = client_for(make_member(org_a, role=entry.role))
    assert _send(outsider, entry, url, target.data).status_code == 404

    actor = target.actor or make_member(org_b, role=entry.role)
    assert (actor.organisation_id, actor.role) == (org_b.pk, entry.role), "the owner is a member of the organisation"
    problem = refusal(_send(client_for(actor), entry, url, target.data))
    assert problem is None, f"{entry.role} of the owning organisation, {entry.method.upper()} {url}: {problem}"


@pytest.mark.parametrize("entry", TENANT_URLS, ids=lambda e: e.name)
def test_a_missing_object_also_gets_404(entry: TenantURL, org_a, make_member, client_for):
    target = entry.target(org_a)
    kwargs = {key: 987654321 if isinstance(value, int) else value for key, value in target.kwargs.items()}
    client = client_for(target.actor or make_member(org_a, role=entry.role))
    assert _send(client, entry, reverse(entry.name, kwargs=kwargs), target.data).status_code == 404

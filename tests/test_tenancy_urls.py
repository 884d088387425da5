import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.tenancy_registry import NOT_TENANT_URLS, TENANT_URLS, TenantURL


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


def test_every_url_with_an_id_is_covered_by_the_tenancy_test():
    covered = {entry.name for entry in TENANT_URLS} | set(NOT_TENANT_URLS)
    missing = _parametrised_url_names() - covered
    assert not missing, f"add these URLs to tests/tenancy_registry.py: {sorted(missing)}"


@pytest.mark.parametrize("entry", TENANT_URLS, ids=lambda e: e.name)
def test_another_organisation_gets_404_and_the_owner_does_not(entry: TenantURL, org_a, org_b, make_member, client_for):
    kwargs = entry.make(org_b)
    url = reverse(entry.name, kwargs=kwargs)

    outsider = client_for(make_member(org_a, role=entry.role))
    assert getattr(outsider, entry.method)(url).status_code == 404

    owner = client_for(make_member(org_b, role=entry.role))
    assert getattr(owner, entry.method)(url).status_code != 404


@pytest.mark.parametrize("entry", TENANT_URLS, ids=lambda e: e.name)
def test_a_missing_object_also_gets_404(entry: TenantURL, org_a, make_member, client_for):
    kwargs = {key: 987654321 if isinstance(value, int) else value for key, value in entry.make(org_a).items()}
    client = client_for(make_member(org_a, role=entry.role))
    assert getattr(client, entry.method)(reverse(entry.name, kwargs=kwargs)).status_code == 404

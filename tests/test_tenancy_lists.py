"""Every URL without an object id lists only the current organisation's rows, or says why it is not a tenant list.

For each list of tests/<app>/tenancy.py (TENANT_LISTS), a recognisable row is made in two organisations: a
member of the first, with the role that uses the list, finds its own and never the other's.
"""

from __future__ import annotations

import html
import io

import pytest
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from openpyxl import load_workbook

from tests.tenancy_registry import NOT_TENANT_LISTS, TENANT_LISTS, TenantList, refusal

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _parameterless_url_names(resolver: URLResolver | None = None, namespace: str = "") -> set[str]:
    """Names of every project URL that takes no parameter (the admin polices itself)."""
    resolver = resolver or get_resolver()
    names: set[str] = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= _parameterless_url_names(pattern, inner)
        elif isinstance(pattern, URLPattern) and not pattern.pattern.regex.groupindex and pattern.name:
            names.add(f"{namespace}{pattern.name}")
    return names


def _text(response: HttpResponse) -> str:
    """What the reader reads: the page, the JSON, the CSV, or the cells of an XLSX."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Type", "").startswith(XLSX):
        workbook = load_workbook(io.BytesIO(content), read_only=True)
        return "\n".join(
            str(cell) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for cell in row
        )
    return html.unescape(content.decode())


def test_every_url_without_an_id_is_a_tenant_list_or_says_why_not():
    listed = {entry.name for entry in TENANT_LISTS}
    assert not listed & set(NOT_TENANT_LISTS), "a URL is either a tenant list or not"
    missing = _parameterless_url_names() - listed - set(NOT_TENANT_LISTS)
    assert not missing, (
        f"add these URLs to TENANT_LISTS in tests/<app>/tenancy.py, or to NOT_TENANT_LISTS: {sorted(missing)}"
    )
    stale = (listed | set(NOT_TENANT_LISTS)) - _parameterless_url_names()
    assert not stale, f"these declared URLs no longer exist: {sorted(stale)}"


@pytest.mark.parametrize("entry", TENANT_LISTS, ids=lambda e: f"{e.name}-{e.role}")
def test_a_member_lists_its_organisation_s_rows_and_not_another_s(
    entry: TenantList, org_a, org_b, make_member, client_for
):
    mine, theirs = entry.row(org_a), entry.row(org_b)
    assert mine.marker not in theirs.marker and theirs.marker not in mine.marker, "markers must tell rows apart"

    reader = mine.actor or make_member(org_a, role=entry.role)
    assert (reader.organisation_id, reader.role) == (org_a.pk, entry.role), "the reader is a member of org_a"
    response = client_for(reader).get(reverse(entry.name), entry.query)

    assert refusal(response) is None, f"{entry.role} of org_a, GET {entry.name}: {refusal(response)}"
    body = _text(response)
    assert mine.marker in body, f"{entry.name} does not show {entry.role} its own row {mine.marker}"
    assert theirs.marker not in body, f"{entry.name} shows another organisation's row {theirs.marker}"

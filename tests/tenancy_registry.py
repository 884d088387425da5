"""Every URL that takes an object id, and how to make such an object for a given organisation.

`tests/test_tenancy_urls.py` walks the URLconf: a new URL with a parameter that is neither listed here nor
declared public fails the suite, so each new view gets its "another organisation gets 404" test for free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from organisations.models import Organisation, Role
from tests.factories import SiteFactory


@dataclass(frozen=True)
class TenantURL:
    name: str
    role: str
    # Builds an object owned by the organisation and returns the URL's kwargs.
    make: Callable[[Organisation], dict[str, Any]]
    method: str = "get"


TENANT_URLS: list[TenantURL] = [
    TenantURL("organisations:site_edit", Role.ORG_ADMIN, lambda org: {"pk": SiteFactory(organisation=org).pk}),
]


def _app_entries() -> list[TenantURL]:
    # Each app's tests declare their own URLs in tests/<app>/tenancy.py (a list named TENANT_URLS).
    import importlib

    entries = []
    for app in ("candidates", "evaluations", "training", "juries", "funding", "directory", "referrals", "api"):
        try:
            module = importlib.import_module(f"tests.{app}.tenancy")
        except ModuleNotFoundError:
            continue
        entries += module.TENANT_URLS
    return entries


TENANT_URLS += _app_entries()

# URLs with parameters that are not tenant objects, and why.
NOT_TENANT_URLS: dict[str, str] = {
    "password_reset_confirm": "the uid/token pair is the secret; no organisation involved",
    "certificate_verify": "public by design: the code proves a certificate and shows nothing else",
    "api:certificate_verify": "the API twin of certificate_verify: public by design",
    "api:referentiel-detail": "the national referentiels belong to no organisation: every member reads them",
}

"""Every URL that takes an object id, and how to make such an object for a given organisation.

`tests/test_tenancy_urls.py` walks the URLconf: a new URL with a parameter that is neither listed here nor
declared public fails the suite, so each new view gets its "another organisation gets 404" test for free, and
its "the owner, with the role that acts there, succeeds" test: an entry names the role that uses the URL and
makes the object in a state where that use is allowed (with the request body a POST needs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from organisations.models import Membership, Organisation, Role
from tests.factories import SiteFactory


@dataclass(frozen=True)
class Target:
    """What `make` returns when the URL's kwargs are not enough: the request body that needs the object's ids,
    or the one person who acts on it (the plan's own trainer, a juror seated in the session) where a fresh
    member of the organisation with the same role rightly sees nothing."""

    kwargs: dict[str, Any]
    actor: Membership | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TenantURL:
    name: str
    # The role that uses the URL: the owner's member with it succeeds, the outsider's with it gets 404.
    role: str
    # Builds an object owned by the organisation, in a state where `role` may act on it, and returns the URL's
    # kwargs (or a Target).
    make: Callable[[Organisation], dict[str, Any] | Target]
    method: str = "get"
    # The request body every object of the entry takes (merged under the Target's own data).
    data: dict[str, Any] = field(default_factory=dict)

    def target(self, organisation: Organisation) -> Target:
        made = self.make(organisation)
        target = made if isinstance(made, Target) else Target(kwargs=made)
        return Target(kwargs=target.kwargs, actor=target.actor, data={**self.data, **target.data})


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
    # Certif'Pro sees every decision: there is no other organisation to get 404. That the dossier's own
    # organisation gets 403 and its neighbour 404 is tested in tests/juries/test_views.py (test_no_one_but_...)
    # and tests/api/test_juries.py (test_only_certifpro_revokes_..., test_a_decision_of_another_organisation_...).
    "juries:decision_revoke": "revocation is Certif'Pro's national action, on any organisation's decision",
    "api:decision-revoke": "the API twin of juries:decision_revoke: Certif'Pro's national action",
}

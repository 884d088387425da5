"""The credentials URLs that take an id: the staff download of a certificate's credential belongs to the
certificate's evaluator organisation (its counsellor downloads it, like the PDF)."""

from __future__ import annotations

from typing import Any

from organisations.models import Organisation, Role
from tests.juries.factories import certified
from tests.tenancy_registry import TenantURL


def certificate_of(org: Organisation) -> dict[str, Any]:
    _jury, _submission, certificate = certified(organisation=org)
    return {"pk": certificate.pk}


TENANT_URLS = [TenantURL("credentials:download", Role.COUNSELLOR, certificate_of)]

"""Operations across the journey's apps."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from journey.exports import certified_candidates, export_rows, to_csv, to_xlsx
from organisations.models import Membership
from organisations.services import audit_record


def certified_export(
    *, by: Membership, start: datetime.date, end: datetime.date, fmt: str, request: HttpRequest | None = None
) -> bytes:
    """Certif'Pro's file of certified candidates for a period. Personal data leaves the platform: logged."""
    if not by.is_certifpro:
        raise PermissionDenied
    rows = export_rows(certified_candidates(start=start, end=end))
    content = to_xlsx(rows) if fmt == "xlsx" else to_csv(rows)
    audit_record(
        action="juries.export",
        actor=by.user,
        organisation=by.organisation_id,
        request=request,
        details={"start": start.isoformat(), "end": end.isoformat(), "format": fmt},
    )
    return content

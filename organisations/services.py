from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.http import HttpRequest

from clea_platform.request_meta import client_ip
from clea_platform.tenancy import SESSION_KEY
from organisations.models import AuditLog, Membership, Organisation, Site, User


def audit_record(
    *,
    action: str,
    actor: User | None,
    organisation: Organisation | int | None = None,
    obj: models.Model | None = None,
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one row to the audit log (`organisation` as an instance or an id). Call it inside the service's
    transaction so that both land or neither."""
    return AuditLog.objects.create(
        action=action,
        actor=actor if actor is not None and actor.is_authenticated else None,
        organisation_id=organisation.pk if isinstance(organisation, Organisation) else organisation,
        object_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:255] if obj is not None else "",
        ip_address=client_ip(request),
        details=details or {},
    )


def membership_switch(*, request: HttpRequest, membership_id: int) -> Membership:
    """Make one of the user's own memberships the current one. Raises Membership.DoesNotExist otherwise."""
    membership = request.user.active_memberships().get(pk=membership_id)  # type: ignore[union-attr]
    request.session[SESSION_KEY] = membership.pk
    audit_record(
        action="membership.switch",
        actor=request.user,  # type: ignore[arg-type]
        organisation=membership.organisation,
        obj=membership,
        request=request,
    )
    return membership


@transaction.atomic
def site_update(*, site: Site, changes: dict[str, Any], by: User, request: HttpRequest | None = None) -> Site:
    """Save the given field values of a site and log which fields changed."""
    changed = sorted(changes)
    for name in changed:
        setattr(site, name, changes[name])
    if changed:
        site.save(update_fields=changed)
        audit_record(
            action="site.update",
            actor=by,
            organisation=site.organisation,
            obj=site,
            request=request,
            details={"fields": changed},
        )
    return site

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from clea_platform.certifications import Certification
from organisations.models import (
    Habilitation,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    Site,
)


def dashboard_for(membership: Membership) -> dict[str, Any]:
    """What the home page shows for the current role. Each block is a handful of aggregate queries."""
    context: dict[str, Any] = {}
    if membership.role == Role.ORG_ADMIN:
        context["site_count"] = Site.objects.visible_to(membership).filter(is_active=True).count()
        context["member_count"] = Membership.objects.visible_to(membership).active().count()
    if membership.role == Role.FT_ADVISOR:
        context["regional_evaluators"] = evaluators_in_region(membership.organisation.region)
    if membership.role == Role.CERTIFPRO_ADMIN:
        context["national"] = national_overview()
    return context


def evaluators_in_region(region: str) -> list[Organisation]:
    in_force = Habilitation.objects.in_force()
    return list(
        Organisation.objects.filter(
            kind=OrganisationKind.EVALUATOR, is_active=True, region=region, habilitations__in=in_force
        )
        .distinct()
        .annotate(active_sites=Count("sites", filter=Q(sites__is_active=True), distinct=True))
        .order_by("name")[:20]
    )


def national_overview() -> dict[str, Any]:
    by_kind = dict(Organisation.objects.filter(is_active=True).values_list("kind").annotate(n=Count("id")))
    by_certification = dict(
        Habilitation.objects.in_force().values_list("certification").annotate(n=Count("organisation", distinct=True))
    )
    return {
        "organisations": [(label, by_kind.get(value, 0)) for value, label in OrganisationKind.choices],
        "habilitations": [(label, by_certification.get(value, 0)) for value, label in Certification.choices],
    }

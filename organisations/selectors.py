from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from clea_platform.certifications import Certification
from organisations.models import Habilitation, Membership, Organisation, OrganisationKind, Site


def active_site_count(membership: Membership) -> int:
    return Site.objects.visible_to(membership).filter(is_active=True).count()


def active_member_count(membership: Membership) -> int:
    return Membership.objects.visible_to(membership).active().count()


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

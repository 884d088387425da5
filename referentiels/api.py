"""REST API of the national référentiels: read-only, with their tree of domains, sub-domains and criteria."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from rest_framework import serializers, viewsets

from clea_platform.api_feed import FeedViewSetMixin, ReferencePagination
from organisations.api_auth import HasMembership
from organisations.models import Role
from referentiels.models import Criterion, Domain, Referentiel, SubDomain


class CriterionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Criterion
        fields = ["id", "code", "title", "is_mandatory"]


class SubDomainSerializer(serializers.ModelSerializer):
    criteria = CriterionSerializer(many=True, read_only=True)

    class Meta:
        model = SubDomain
        fields = ["id", "code", "title", "threshold_percent", "criteria"]


class DomainSerializer(serializers.ModelSerializer):
    subdomains = SubDomainSerializer(many=True, read_only=True)

    class Meta:
        model = Domain
        fields = ["id", "code", "title", "is_transversal", "subdomains"]


class ReferentielSerializer(serializers.ModelSerializer):
    class Meta:
        model = Referentiel
        fields = ["id", "certification", "version", "title", "is_current", "is_provisional", "created_at"]


class ReferentielDetailSerializer(ReferentielSerializer):
    domains = DomainSerializer(many=True, read_only=True)

    class Meta(ReferentielSerializer.Meta):
        fields = [*ReferentielSerializer.Meta.fields, "domains"]


class ReferentielViewSet(FeedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The national referentiels (public content of the certification), read-only, to any signed-in member.
    Reference data, not in the change feed: paged by id, without `updated_since`."""

    permission_classes = [HasMembership]
    pagination_class = ReferencePagination
    allowed_roles = tuple(Role.values)

    def get_queryset(self) -> QuerySet[Referentiel]:
        queryset = Referentiel.objects.order_by("certification", "-created_at", "-id")
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("domains", Domain.objects.order_by("position", "code")),
                Prefetch("domains__subdomains", SubDomain.objects.order_by("position", "code")),
                Prefetch("domains__subdomains__criteria", Criterion.objects.order_by("position", "code")),
            )
        return queryset

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return ReferentielDetailSerializer if self.action == "retrieve" else ReferentielSerializer

"""The steps of a dossier through the API: GET/POST /api/v1/dossiers/{id}/transitions/.

A step may belong to any app of the journey (opening a dossier, starting an evaluation, submitting it to a
jury), so it is taken here, above them all, with the same scoped querysets and services as the screens.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from candidates.api import DossierSerializer
from candidates.forms import CONSENT_TEXT
from candidates.models import DOSSIER_ROLES, Candidate, Dossier, DossierState, EducationLevel
from candidates.selectors import offered_transitions
from candidates.services import TransitionRefused, dossier_open, dossier_withdraw
from clea_platform.api_feed import FeedViewSetMixin
from evaluations.models import Modality
from evaluations.services import evaluation_start
from juries.models import JurySession
from juries.services import dossier_submit_to_jury
from organisations.api_auth import HasMembership, current_membership
from organisations.transitions import role_may


class TransitionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    arguments = serializers.ListField(child=serializers.CharField())


# Named for generated clients: "TakeTransitionRequest", not "TransitionRequestRequest".
@extend_schema_serializer(component_name="TakeTransition")
class TransitionRequestSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    consent = serializers.BooleanField(required=False, help_text="open : le candidat a donné son accord.")
    notify_by_email = serializers.BooleanField(
        required=False,
        default=False,
        help_text="open : le candidat accepte d'être prévenu par courriel de ses documents et de la décision.",
    )
    birth_place = serializers.CharField(
        required=False, allow_blank=True, max_length=150, help_text="open : si le dossier n'en a pas encore."
    )
    education_level = serializers.ChoiceField(
        choices=EducationLevel.choices, required=False, help_text="open : si le dossier n'en a pas encore."
    )
    reason = serializers.CharField(required=False, allow_blank=True, help_text="withdraw : motif de l'abandon.")
    started_on = serializers.DateField(required=False, help_text="start_*_evaluation : date de début.")
    modality = serializers.ChoiceField(choices=Modality.choices, required=False)
    context = serializers.CharField(required=False, allow_blank=True, max_length=255)
    session = serializers.IntegerField(required=False, help_text="submit_to_jury : identifiant de la session.")


# The arguments each user-facing transition takes through the API (the fields above).
TRANSITION_ARGUMENTS: dict[str, list[str]] = {
    # And the candidate's fields still blank (a referral's dossier): see _arguments.
    "open": ["consent", "notify_by_email"],
    "withdraw": ["reason"],
    "start_prior_evaluation": ["started_on", "modality", "context"],
    "start_final_evaluation": ["started_on", "modality", "context"],
    "submit_to_jury": ["session"],
}


def _arguments(dossier: Dossier, name: str) -> list[str]:
    """What a step takes: opening also asks what the candidate record still lacks (birth place, education level)."""
    arguments = TRANSITION_ARGUMENTS.get(name, [])
    return [*arguments, *dossier.candidate.missing_for_opening] if name == "open" else arguments


def _required(data: dict[str, Any], field: str) -> Any:
    value = data.get(field)
    if value in (None, "", False):
        raise ValidationError({field: [_("Ce champ est obligatoire pour cette étape.")]})
    return value


class DossierTransitionViewSet(FeedViewSetMixin, viewsets.GenericViewSet):
    """The steps the current membership may take on a dossier it sees, and taking one (no query parameter: any is
    a 400, as everywhere in the API)."""

    permission_classes = [HasMembership]
    allowed_roles = DOSSIER_ROLES
    serializer_class = DossierSerializer

    def get_queryset(self):
        return Dossier.objects.visible_to(current_membership(self.request)).select_related("candidate", "organisation")

    @extend_schema(methods=["GET"], responses={200: TransitionSerializer(many=True)}, request=None)
    @extend_schema(
        methods=["POST"],
        request=TransitionRequestSerializer,
        responses={
            200: DossierSerializer,
            409: inline_serializer("Refusal", {"code": serializers.CharField(), "message": serializers.CharField()}),
        },
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def transitions(self, request: Request, pk: str | None = None) -> Response:
        """GET: the steps the membership may take now. POST: take one by name (409 when the state machine
        refuses it now, 403 when the role may not take it)."""
        dossier = self.get_object()
        membership = current_membership(request)
        if request.method == "GET":
            return Response(
                [
                    {
                        "name": transition.name,
                        "label": str(transition.custom.get("label", transition.name)),
                        "arguments": _arguments(dossier, transition.name),
                    }
                    for transition in offered_transitions(dossier, membership)
                ]
            )
        body = TransitionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        name = data["name"]
        if name not in TRANSITION_ARGUMENTS:
            known = name in {t.name for t in Dossier._meta.get_field("state").get_all_transitions(Dossier)}
            if not known:
                raise ValidationError({"name": [_("Étape inconnue : %(name)s") % {"name": name}]})
            raise TransitionRefused(_("Cette étape est déclenchée par la plateforme, pas par une demande."))
        if not role_may(dossier, name, membership):
            raise PermissionDenied
        if name == "open":
            _required(data, "consent")
            dossier = dossier_open(
                dossier=dossier,
                by=membership,
                consent_text=CONSENT_TEXT,
                candidate_data={name: data.get(name, "") for name in Candidate.FIELDS_FOR_OPENING},
                notify_by_email=data["notify_by_email"],
                request=request,
            )
        elif name == "withdraw":
            dossier = dossier_withdraw(
                dossier=dossier, by=membership, reason=_required(data, "reason"), request=request
            )
        elif name in ("start_prior_evaluation", "start_final_evaluation"):
            expected = DossierState.OPENED if name == "start_prior_evaluation" else DossierState.IN_TRAINING
            if dossier.state != expected:
                raise TransitionRefused(
                    _("Cette étape n'est pas possible pour un dossier « %(state)s ».")
                    % {"state": dossier.get_state_display()}
                )
            evaluation_start(
                dossier=dossier,
                by=membership,
                started_on=data.get("started_on") or timezone.localdate(),
                modality=data.get("modality") or Modality.ON_SITE,
                context=data.get("context", ""),
                request=request,
            )
        else:  # submit_to_jury
            session = JurySession.objects.open_for_submission().filter(pk=_required(data, "session")).first()
            if session is None:
                raise ValidationError({"session": [_("Aucune session de jury ouverte ne porte cet identifiant.")]})
            dossier_submit_to_jury(dossier=dossier, session=session, by=membership, request=request)
        dossier = self.get_queryset().get(pk=dossier.pk)
        return Response(DossierSerializer(dossier).data)

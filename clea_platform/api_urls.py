"""The REST API under /api/v1/ (namespace "api"): one router for the tenant resources, plus the public views."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from candidates.api import DossierViewSet
from credentials.api import CredentialVerifyView
from directory.api import CommunesView, EvaluatorsNearbyView
from evaluations.api import DocumentViewSet, EvaluationViewSet
from funding.api import ClaimBatchViewSet, FunderViewSet, FundingLineViewSet
from journey.api import DossierTransitionViewSet
from juries.api import (
    AttestationVerifyView,
    CertificateVerifyView,
    CertificateViewSet,
    DecisionViewSet,
    JurySessionViewSet,
)
from notifications.api import NotificationViewSet
from referentiels.api import ReferentielViewSet
from referrals.api import ReferralViewSet
from scheduling.api import AppointmentViewSet
from training.api import TrainingPlanViewSet

router = SimpleRouter()
router.register("dossiers", DossierViewSet, basename="dossier")
router.register("evaluations", EvaluationViewSet, basename="evaluation")
router.register("documents", DocumentViewSet, basename="document")
router.register("referentiels", ReferentielViewSet, basename="referentiel")
router.register("jury-sessions", JurySessionViewSet, basename="jury-session")
router.register("decisions", DecisionViewSet, basename="decision")
router.register("certificates", CertificateViewSet, basename="certificate")
router.register("funding-lines", FundingLineViewSet, basename="funding-line")
router.register("funding-batches", ClaimBatchViewSet, basename="funding-batch")
router.register("funders", FunderViewSet, basename="funder")
router.register("training-plans", TrainingPlanViewSet, basename="training-plan")
router.register("referrals", ReferralViewSet, basename="referral")
router.register("appointments", AppointmentViewSet, basename="appointment")
router.register("notifications", NotificationViewSet, basename="notification")

# The steps of a dossier span the journey's apps: their viewset lives in journey, under the same prefix.
journey_router = SimpleRouter()
journey_router.register("dossiers", DossierTransitionViewSet, basename="dossier")

app_name = "api"
urlpatterns = [
    # The directory's public API (no login).
    path("evaluators/nearby", EvaluatorsNearbyView.as_view(), name="evaluators_nearby"),
    path("communes", CommunesView.as_view(), name="communes"),
    path("certificates/verify/<str:code>/", CertificateVerifyView.as_view(), name="certificate_verify"),
    path("attestations/verify/<str:code>/", AttestationVerifyView.as_view(), name="attestation_verify"),
    path("credentials/verify/", CredentialVerifyView.as_view(), name="credential_verify"),
    path("", include(journey_router.urls)),
    path("", include(router.urls)),
]

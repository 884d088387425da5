"""The REST API under /api/v1/ (namespace "api"): one router for the tenant resources, plus the public views."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from candidates.api import DossierViewSet
from evaluations.api import DocumentViewSet, EvaluationViewSet, ReferentielViewSet
from juries.api import CertificateVerifyView
from organisations.api_urls import urlpatterns as directory_patterns

router = SimpleRouter()
router.register("dossiers", DossierViewSet, basename="dossier")
router.register("evaluations", EvaluationViewSet, basename="evaluation")
router.register("documents", DocumentViewSet, basename="document")
router.register("referentiels", ReferentielViewSet, basename="referentiel")

app_name = "api"
urlpatterns = [
    *directory_patterns,
    path("certificates/verify/<str:code>/", CertificateVerifyView.as_view(), name="certificate_verify"),
    path("", include(router.urls)),
]

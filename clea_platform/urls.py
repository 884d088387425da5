from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from clea_platform.views import accessibility, healthz_live, healthz_ready, ping
from journey.views import home
from juries.public_views import certificate_verify, certificate_verify_form
from organisations.forms import EmailAuthenticationForm
from organisations.views import (
    LockoutLiftingPasswordResetConfirmView,
    RateLimitedPasswordResetView,
    SessionsEndingPasswordChangeView,
    account,
    api_tokens,
    session_end,
    sessions_end_all,
    two_factor_disable_view,
    two_factor_enrol_view,
    two_factor_recovery_codes_view,
    two_factor_verify_view,
)

# Under /api/, a page not found or a server error answers in the API's JSON error shape.
handler404 = "clea_platform.api_errors.page_not_found"
handler500 = "clea_platform.api_errors.server_error"

admin.site.site_header = _("Administration CléA – Certif'Pro")
admin.site.site_title = _("Administration CléA")
admin.site.index_title = _("Référentiels, organisations et comptes")

account_patterns = [
    path("", account, name="account"),
    path(
        "connexion/",
        auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("mot-de-passe/", SessionsEndingPasswordChangeView.as_view(), name="password_change"),
    path("mot-de-passe/modifie/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("mot-de-passe/oubli/", RateLimitedPasswordResetView.as_view(), name="password_reset"),
    path("mot-de-passe/oubli/envoye/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "mot-de-passe/reinitialiser/<uidb64>/<token>/",
        LockoutLiftingPasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("mot-de-passe/reinitialise/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("jetons/", api_tokens, name="api_tokens"),
    path("deux-facteurs/", two_factor_verify_view, name="two_factor_verify"),
    path("deux-facteurs/activer/", two_factor_enrol_view, name="two_factor_enrol"),
    path("deux-facteurs/codes-de-secours/", two_factor_recovery_codes_view, name="two_factor_recovery_codes"),
    path("deux-facteurs/desactiver/", two_factor_disable_view, name="two_factor_disable"),
    path("sessions/<int:pk>/fermer/", session_end, name="session_end"),
    path("sessions/fermer/", sessions_end_all, name="sessions_end_all"),
]

urlpatterns = [
    path("", home, name="home"),
    path("compte/", include(account_patterns)),
    path("organisation/", include("organisations.urls")),
    path("organisation/webhooks/", include("webhooks.urls")),
    path("dossiers/", include("candidates.urls")),
    path("evaluations/", include("evaluations.urls")),
    path("documents/", include("outbox.document_urls")),
    path("formation/", include("training.urls")),
    path("agenda/", include("scheduling.urls")),
    path("jurys/", include("juries.urls")),
    path("", include("journey.urls")),
    path("financements/", include("funding.urls")),
    path("annuaire/", include("directory.urls")),
    path("", include("intake.urls")),
    path("orientations/", include("referrals.urls")),
    path("exploitation/effets/", include("outbox.urls")),
    path("donnees-personnelles/", include("privacy.urls")),
    path("notifications/", include("notifications.urls")),
    path("mon-espace/", include("space.urls")),
    path("", include("indicators.urls")),
    path("api/v1/", include("clea_platform.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # The split view serves Swagger UI's start-up script as a file (?script): the CSP refuses inline scripts.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
    path("admin/", admin.site.urls),
    # Readiness under its old name too: load balancers configured on /healthz keep working.
    path("healthz", healthz_ready, name="healthz"),
    path("healthz/live", healthz_live, name="healthz_live"),
    path("healthz/ready", healthz_ready, name="healthz_ready"),
    path("ping", ping, name="ping"),
    path("accessibilite/", accessibility, name="accessibility"),
    path("verifier/", certificate_verify_form, name="certificate_verify_form"),
    # The Open Badges credentials: keys, DID document, status lists, and the file check on /verifier/ (before the
    # code pattern below, which would take "fichier" for a code).
    path("", include("credentials.urls")),
    # <path:> so that a code typed with a slash reaches the page and its explanation, not a bare 404.
    path("verifier/<path:code>/", certificate_verify, name="certificate_verify"),
]

from django.urls import path

from credentials import public_views, views

app_name = "credentials"
urlpatterns = [
    path(".well-known/jwks.json", views.jwks, name="jwks"),
    path(".well-known/did.json", views.did_document, name="did"),
    path("credentials/status/<int:number>", views.status_list, name="status_list"),
    path("credentials/achievements/<str:certification>", views.achievement_detail, name="achievement"),
    path("attestations-numeriques/<int:pk>/telecharger/", views.credential_download_view, name="download"),
    # Before "verifier/<path:code>/" in the root URLconf, which would take it for a code.
    path("verifier/fichier/", public_views.credential_verify_upload, name="verify_upload"),
]

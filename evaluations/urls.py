from django.urls import path

from evaluations import views

app_name = "evaluations"
urlpatterns = [
    path("dossier/<int:dossier_pk>/nouvelle/", views.start, name="evaluation_start"),
    path("<int:pk>/grille/", views.grid, name="grid"),
    path("<int:pk>/cloture/", views.close, name="close"),
    path("<int:pk>/synthese/", views.summary, name="summary"),
    path("attestations/<int:pk>/telecharger/", views.attestation_download, name="attestation_download"),
]

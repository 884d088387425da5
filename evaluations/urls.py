from django.urls import path

from evaluations import pix_views, views

app_name = "evaluations"
urlpatterns = [
    path("dossier/<int:dossier_pk>/nouvelle/", views.start, name="evaluation_start"),
    path("<int:pk>/grille/", views.grid, name="grid"),
    path("<int:pk>/cloture/", views.close, name="close"),
    path("<int:pk>/synthese/", views.summary, name="summary"),
    path("attestations/<int:pk>/telecharger/", views.attestation_download, name="attestation_download"),
    path("pix/", pix_views.import_list, name="pix_imports"),
    path("pix/<int:pk>/", pix_views.import_detail, name="pix_import"),
    path("pix/<int:pk>/lignes/<int:row_pk>/", pix_views.row_resolve, name="pix_row_resolve"),
    path("pix/<int:pk>/fichier/", pix_views.import_file, name="pix_import_file"),
    path("pix/lignes/<int:row_pk>/enregistrer/", pix_views.row_apply, name="pix_row_apply"),
    path("pix/<int:pk>/enregistrer/", pix_views.import_apply, name="pix_import_apply"),
]

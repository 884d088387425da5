from django.urls import path

from funding import views

app_name = "funding"
urlpatterns = [
    path("", views.index, name="index"),
    # Counsellors: the lines of the dossiers.
    path("lignes/", views.line_list, name="line_list"),
    path("dossier/<int:dossier_pk>/nouvelle-ligne/", views.line_create, name="line_create"),
    path("lignes/<int:pk>/", views.line_detail, name="line_detail"),
    path("lignes/<int:pk>/modifier/", views.line_edit, name="line_edit"),
    path("lignes/<int:pk>/statut/<str:name>/", views.line_transition, name="line_transition"),
    path("lignes/<int:pk>/justificatifs/", views.proof_add, name="proof_add"),
    path("justificatifs/<int:pk>/", views.proof_download, name="proof_download"),
    # Organisation administrators: claims, batches, payments.
    path("a-reclamer/", views.claim_list, name="claim_list"),
    path("lots/", views.batch_list, name="batch_list"),
    path("lots/nouveau/", views.batch_create, name="batch_create"),
    path("lots/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("lots/<int:pk>/etat/", views.batch_status, name="batch_status"),
    path("lots/<int:pk>/relancer/", views.batch_retry_view, name="batch_retry"),
    path("lots/<int:pk>/fichier.<str:fmt>", views.batch_download, name="batch_download"),
    path("lots/<int:batch_pk>/paiement/", views.payment_create, name="payment_create"),
    path("lots/<int:batch_pk>/paiement/fichier/", views.payment_import_view, name="payment_import"),
    path("paiements/", views.payment_list, name="payment_list"),
    path("paiements/<int:pk>/", views.payment_detail, name="payment_detail"),
    # Certif'Pro's fees.
    path("redevances/", views.fee_list, name="fee_list"),
    path("releves/", views.statement_list, name="statement_list"),
    path("releves/produire/", views.statement_request, name="statement_request"),
    path("releves/<int:pk>/fichier.<str:fmt>", views.statement_download, name="statement_download"),
    path("national/", views.national, name="national"),
    path("caisse-des-depots/", views.cdc_list, name="cdc_list"),
    path("caisse-des-depots/produire/", views.cdc_generate, name="cdc_generate"),
    path("caisse-des-depots/flux/<int:pk>.xml", views.cdc_flux_download, name="cdc_flux_download"),
    path("caisse-des-depots/compte-rendu/", views.cdc_report_import_view, name="cdc_report_import"),
    path("caisse-des-depots/titulaire/<int:certificate_pk>/", views.cdc_holder, name="cdc_holder"),
]

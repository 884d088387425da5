from django.urls import path

from space import views

app_name = "space"

urlpatterns = [
    path("", views.home, name="home"),
    path("connexion/", views.sign_in_request, name="sign_in_request"),
    path("connexion/envoye/", views.sign_in_requested, name="sign_in_requested"),
    path("lien/<str:token>/", views.sign_in, name="sign_in"),
    path("deconnexion/", views.sign_out, name="sign_out"),
    path("a-bientot/", views.signed_out, name="signed_out"),
    path("dossiers/<int:pk>/", views.dossier_detail, name="dossier"),
    path("dossiers/<int:pk>/acquis/", views.acquired, name="acquired"),
    path("dossiers/<int:pk>/accord/", views.consent, name="consent"),
    path("dossiers/<int:pk>/accord/retirer/", views.consent_withdraw_view, name="consent_withdraw"),
    path("dossiers/<int:pk>/changer-d-organisme/", views.move, name="move"),
    path("dossiers/<int:pk>/changer-d-organisme/<int:site_pk>/", views.move_confirm, name="move_confirm"),
    path("rendez-vous/<int:pk>/rendez-vous.ics", views.appointment_ics_view, name="appointment_ics"),
    path("documents/", views.documents, name="documents"),
    path("documents/attestations/<int:pk>/", views.attestation_download, name="attestation_download"),
    path("documents/certificats/<int:pk>/", views.certificate_download, name="certificate_download"),
    path(
        "documents/certificats/<int:pk>/attestation-numerique/",
        views.credential_download_view,
        name="credential_download",
    ),
    path("mes-donnees/", views.my_data, name="data"),
    path("mes-donnees/donnees.json", views.my_data_json, name="data_json"),
    path("mes-donnees/donnees.pdf", views.my_data_pdf, name="data_pdf"),
    # Staff: the counsellor sends a link from the dossier page.
    path("envoyer-un-lien/<int:pk>/", views.link_send, name="link_send"),
]

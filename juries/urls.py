from django.urls import path

from juries import views

app_name = "juries"
urlpatterns = [
    path("", views.session_list, name="session_list"),
    path("nouvelle/", views.session_create, name="session_create"),
    path("<int:pk>/", views.session_detail, name="session_detail"),
    path("<int:pk>/composition/", views.session_seats, name="session_seats"),
    path("<int:pk>/convoquer/", views.session_convene, name="session_convene"),
    path("<int:pk>/deliberer/", views.session_deliberate, name="session_deliberate"),
    path("<int:pk>/clore/", views.session_close, name="session_close"),
    path("<int:pk>/proces-verbal/", views.minutes_download, name="minutes_download"),
    path("dossier/<int:dossier_pk>/soumettre/", views.submit, name="submit"),
    path("dossiers/<int:pk>/", views.review, name="review"),
    path("dossiers/<int:pk>/conflit/", views.conflict_declare_view, name="conflict_declare"),
    path("dossiers/<int:pk>/decision/", views.decide, name="decide"),
    path("mes-conflits/", views.my_conflicts, name="my_conflicts"),
    path("decisions/<int:pk>/revoquer/", views.decision_revoke_view, name="decision_revoke"),
    path("certificats/<int:pk>/telecharger/", views.certificate_download, name="certificate_download"),
]

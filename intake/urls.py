from django.urls import path

from intake import views

app_name = "intake"
urlpatterns = [
    path("annuaire/sites/<int:site_pk>/entretien/", views.request_create, name="create"),
    path("entretien/demande-envoyee/", views.request_sent, name="sent"),
    path("entretien/confirmer/<str:token>/", views.confirm, name="confirm"),
    path("entretien/reponse/<str:token>/", views.answer, name="answer"),
    path("entretien/reponse/<str:token>/rendez-vous.ics", views.answer_ics, name="answer_ics"),
    path("demandes-entretien/", views.request_list, name="list"),
    path("demandes-entretien/<int:pk>/", views.request_detail, name="detail"),
    path("demandes-entretien/<int:pk>/proposer/", views.request_propose, name="propose"),
    path("demandes-entretien/<int:pk>/dossier/", views.request_convert, name="convert"),
]

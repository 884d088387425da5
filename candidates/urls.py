from django.urls import path

from candidates import views

app_name = "candidates"
urlpatterns = [
    path("", views.dossier_list, name="dossier_list"),
    path("export/", views.dossier_export, name="dossier_export"),
    path("nouveau/", views.dossier_create_view, name="dossier_create"),
    path("<int:pk>/ouvrir/", views.dossier_open_view, name="dossier_open"),
    path("<int:pk>/abandon/", views.dossier_withdraw_view, name="dossier_withdraw"),
    path("<int:pk>/notes/", views.dossier_note_view, name="dossier_note"),
    path("<int:pk>/reflexion/", views.dossier_take_time_view, name="dossier_take_time"),
    path("<int:pk>/candidat/", views.candidate_correct_view, name="candidate_correct"),
    path("accueillir/", views.transfer_view, name="transfer"),
    path("partis/", views.transferred_away_list, name="transferred_away_list"),
    path("rectifications/<int:pk>/", views.correction_request_view, name="correction_request"),
]

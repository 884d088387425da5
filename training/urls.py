from django.urls import path

from training import views

app_name = "training"
urlpatterns = [
    path("", views.plan_list, name="plan_list"),
    path("dossier/<int:dossier_pk>/nouveau/", views.plan_create, name="plan_create"),
    path("<int:pk>/", views.plan_detail, name="plan_detail"),
    path("<int:pk>/seances/", views.session_add, name="session_add"),
    path("seances/<int:pk>/realisee/", views.session_done, name="session_done"),
    path("seances/<int:pk>/retirer/", views.session_remove, name="session_remove"),
    path("<int:pk>/notes/", views.note_add, name="note_add"),
    path("<int:pk>/terminer/", views.plan_complete, name="plan_complete"),
]

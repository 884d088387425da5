from django.urls import path

from journey import views

app_name = "journey"
urlpatterns = [
    path("<int:pk>/", views.dossier_detail, name="dossier_detail"),
]

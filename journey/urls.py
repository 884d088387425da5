from django.urls import path

from journey import views

# Mounted at the site's root: each path says where it stands among the steps' own URLs.
app_name = "journey"
urlpatterns = [
    path("a-faire/", views.todo, name="todo"),
    path("dossiers/<int:pk>/", views.dossier_detail, name="dossier_detail"),
    path("jurys/export/", views.certified_export_view, name="certified_export"),
]

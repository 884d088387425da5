from django.urls import path

from directory import views

app_name = "directory"
urlpatterns = [
    path("", views.search, name="search"),
    path("communes/", views.commune_suggestions, name="commune_suggestions"),
    path("fiches/", views.sheet_list, name="sheet_list"),
    path("fiches/<int:pk>/", views.sheet_detail, name="sheet_detail"),
    path("fiches/<int:pk>/pdf/", views.sheet_download, name="sheet_download"),
]

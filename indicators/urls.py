from django.urls import path

from indicators import views

app_name = "indicators"

urlpatterns = [
    path("statistiques/", views.dashboard_view, name="dashboard"),
    path("statistiques/<slug:key>.<str:fmt>", views.chart_download, name="chart_download"),
    path("donnees-ouvertes/", views.open_data_index, name="open_data"),
    path(
        "donnees-ouvertes/parcours-mensuel-national.csv",
        views.open_data_file,
        {"kind": "national"},
        name="open_data_national",
    ),
    path(
        "donnees-ouvertes/parcours-mensuel-regions.csv",
        views.open_data_file,
        {"kind": "regional"},
        name="open_data_regional",
    ),
]

from django.urls import path

from privacy import views

app_name = "privacy"
# <kind>: "candidat" or "orientation", the record a person is opened from (privacy.selectors.person_of).
urlpatterns = [
    path("", views.index, name="index"),
    path("personnes/<str:kind>/<int:pk>/", views.person_detail, name="person"),
    path("personnes/<str:kind>/<int:pk>/export/", views.person_export_view, name="export"),
    path("personnes/<str:kind>/<int:pk>/effacement/", views.person_erase_view, name="erase"),
]

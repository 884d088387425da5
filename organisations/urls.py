from django.urls import path

from organisations import views

app_name = "organisations"
urlpatterns = [
    path("changer/", views.switch_membership, name="switch"),
    path("sites/", views.site_list, name="site_list"),
    path("sites/<int:pk>/modifier/", views.site_edit, name="site_edit"),
    path("membres/", views.member_list, name="member_list"),
    path("habilitations/", views.habilitation_list, name="habilitation_list"),
    path("habilitations/<int:pk>/", views.habilitation_detail, name="habilitation_detail"),
    path("habilitations/demandes/", views.application_list, name="application_list"),
    path("habilitations/demandes/nouvelle/", views.application_create, name="application_create"),
    path("habilitations/demandes/<int:pk>/", views.application_detail, name="application_detail"),
]

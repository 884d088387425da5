from django.urls import path

from organisations import views

app_name = "organisations"
urlpatterns = [
    path("changer/", views.switch_membership, name="switch"),
    path("sites/", views.site_list, name="site_list"),
    path("sites/<int:pk>/modifier/", views.site_edit, name="site_edit"),
    path("membres/", views.member_list, name="member_list"),
]

from django.urls import path

from referrals import views

app_name = "referrals"
urlpatterns = [
    path("", views.referral_list, name="list"),
    path("nouvelle/", views.referral_create, name="create"),
    path("<int:pk>/", views.referral_detail, name="detail"),
    path("<int:pk>/accepter/", views.referral_accept_view, name="accept"),
    path("<int:pk>/decliner/", views.referral_decline_view, name="decline"),
]

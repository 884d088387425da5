from django.urls import path

from webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.subscription_list, name="list"),
    path("<int:pk>/", views.subscription_detail, name="detail"),
    path("<int:pk>/tester/", views.subscription_test, name="test"),
    path("<int:pk>/pause/", views.subscription_pause_view, name="pause"),
    path("<int:pk>/reprendre/", views.subscription_resume_view, name="resume"),
    path("<int:pk>/supprimer/", views.subscription_delete_view, name="delete"),
]

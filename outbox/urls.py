from django.urls import path

from outbox import views

app_name = "outbox"
urlpatterns = [
    path("", views.side_effect_list, name="side_effect_list"),
    path("<int:pk>/relancer/", views.side_effect_retry_view, name="side_effect_retry"),
]

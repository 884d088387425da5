from django.urls import path

from organisations import api

app_name = "api"
urlpatterns = [
    path("evaluators/nearby", api.EvaluatorsNearbyView.as_view(), name="evaluators_nearby"),
    path("communes", api.CommunesView.as_view(), name="communes"),
]

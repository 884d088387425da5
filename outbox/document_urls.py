"""The documents rendered again (issue 13), mounted under /documents/ by clea_platform/urls.py."""

from django.urls import path

from outbox import document_views

app_name = "documents"

urlpatterns = [
    path("<str:kind>/<int:pk>/nouvelle-version/", document_views.regenerate, name="regenerate"),
    path("versions/<int:pk>/", document_views.version_download, name="version_download"),
]

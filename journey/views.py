from dataclasses import fields

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from journey.selectors import dashboard_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The home page of the current role: `templates/dashboard/<role>.html`, each field of its dashboard a
    template variable."""
    if request.membership is None:
        return render(request, "no_membership.html", status=403)
    dashboard = dashboard_for(request.membership)
    return render(request, "home.html", {field.name: getattr(dashboard, field.name) for field in fields(dashboard)})

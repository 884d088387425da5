"""Action URLs: a POST does the action; a GET (a reloaded page, a bookmark, a link pasted in an e-mail) goes back
to the object's page with a word of explanation, never to a bare "405 Method Not Allowed"."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

View = Callable[..., HttpResponse]


def post_only(back: str | Callable[..., str]) -> Callable[[View], View]:
    """`back`: the URL name of the object's page, reversed with the action's own arguments, or a function of the
    request and those arguments that returns the URL. The page reached does its own permission checks."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "POST":
                return view(request, *args, **kwargs)
            if request.method not in {"GET", "HEAD"}:
                return HttpResponseNotAllowed(["POST"])
            url = back(request, *args, **kwargs) if callable(back) else reverse(back, args=args, kwargs=kwargs)
            messages.info(request, _("Cette action se fait avec son bouton, sur cette page."))
            return redirect(url)

        return wrapped

    return decorator

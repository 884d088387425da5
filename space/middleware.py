"""Who the candidate of this request is: `request.candidate_person`, a CandidatePerson or None.

Read from the session that a sign-in link opened (space.services.sign_in_link_use), never alongside a staff member:
a signed-in user's request has no candidate. A candidate session idle for CANDIDATE_SESSION_IDLE ends (a phone
left on a table, a shared computer at a job centre). Pages of a candidate's session are never stored by a browser
or a proxy, as a staff member's are (clea_platform.private_pages)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from candidates.models import CandidatePerson
from space.services import SESSION_PERSON_KEY, SESSION_SEEN_KEY

# The last activity is written at most this often: most requests leave the session row alone.
SEEN_GRANULARITY_SECONDS = 60


class CandidatePersonMiddleware:
    # The clock: tests travel in time by replacing it.
    now: Callable[[], Any] = staticmethod(timezone.now)

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request.candidate_session_ended = False  # type: ignore[attr-defined]
        request.candidate_person = self.person(request)  # type: ignore[attr-defined]
        response = self.get_response(request)
        if request.candidate_person is not None:  # type: ignore[attr-defined]
            add_never_cache_headers(response)
        return response

    def person(self, request: HttpRequest) -> CandidatePerson | None:
        session = request.session
        ids = session.get(SESSION_PERSON_KEY)
        if not ids:
            return None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # A staff member signed in since: their session, not the candidate's.
            for key in (SESSION_PERSON_KEY, SESSION_SEEN_KEY):
                session.pop(key, None)
            return None
        now = int(self.now().timestamp())
        seen = int(session.get(SESSION_SEEN_KEY, 0))
        if now - seen > settings.CANDIDATE_SESSION_IDLE.total_seconds():
            session.flush()
            request.candidate_session_ended = True  # type: ignore[attr-defined]
            return None
        if now - seen >= SEEN_GRANULARITY_SECONDS:
            session[SESSION_SEEN_KEY] = now
        return CandidatePerson(candidate_ids=tuple(int(pk) for pk in ids))

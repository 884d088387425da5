"""One link pressed twice at once (two tabs, a double tap): one session opens, the other is refused (row lock)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import RequestFactory

from space.services import LinkUnusable, sign_in_link_use
from tests.concurrency import race
from tests.journey import DossierFactory
from tests.space.support import link_for


class _Session(dict):
    """What sign_in_link_use asks of a session, without a session store."""

    def cycle_key(self) -> None:
        pass


def _request():
    request = RequestFactory().post("/")
    request.session = _Session()
    request.user = type("Anonymous", (), {"is_authenticated": False})()
    return request


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite (the embedded mode) runs one writing transaction at a time"
)
@pytest.mark.django_db(transaction=True)
def test_a_link_used_twice_at_once_opens_one_session():
    """A has locked and spent the link but not committed when B presses the same link: B must wait for A's commit and
    find it used, not read the row as A found it."""
    token = link_for(DossierFactory(opened=True, email="deux@exemple.fr"))
    outcome = race(
        lambda: sign_in_link_use(token=token, request=_request()),
        lambda: sign_in_link_use(token=token, request=_request()),
    )
    assert not isinstance(outcome["first"], Exception), outcome
    assert isinstance(outcome["second"], LinkUnusable), outcome

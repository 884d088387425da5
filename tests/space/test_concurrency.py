"""One link pressed twice at once (two tabs, a double tap): one session opens, the other is refused (row lock)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.test import RequestFactory

from space.services import LinkUnusable, sign_in_link_use
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
    outcome: dict[str, str] = {}
    a_used, b_done = threading.Event(), threading.Event()

    def a_slow_commit() -> None:
        try:
            with transaction.atomic():
                sign_in_link_use(token=token, request=_request())
                a_used.set()
                b_done.wait(2)  # without the lock B finishes meanwhile; with it, B waits for this commit
            outcome["a"] = "signed in"
        except Exception as exc:  # shown by the final assertion
            outcome["a"] = repr(exc)
            a_used.set()
        finally:
            connection.close()

    def b_uses() -> None:
        try:
            sign_in_link_use(token=token, request=_request())
            outcome["b"] = "signed in"
        except LinkUnusable:
            outcome["b"] = "refused"
        finally:
            b_done.set()
            connection.close()

    a = threading.Thread(target=a_slow_commit)
    a.start()
    assert a_used.wait(10)
    b = threading.Thread(target=b_uses)
    b.start()
    a.join(15)
    b.join(15)
    assert outcome == {"a": "signed in", "b": "refused"}

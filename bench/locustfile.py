"""The load test's users, one class per role (bench/load.py runs it; bench/README.md, section 8).

    LOAD_POOL=pool.json locust -f bench/locustfile.py --headless -u 50 -r 5 -t 90s --host http://127.0.0.1:PORT

LOAD_POOL names the JSON file bench/load.py writes: for each role, accounts of the bench database with a logged-in
session cookie (second factor given) and what their navigation starts from (their organisation's draft
evaluations, their jury sessions, their region's communes…). Locust users take the accounts in turn.

Population (scenarios.WEIGHTS, an assumption): counsellors 40 %, evaluators 30 %, France Travail advisors 15 %,
jurors 10 %, Certif'Pro 5 %. Think time between two pages: 5 to 15 s (scenarios.THINK_SECONDS). Each task is a
real navigation: the next page is a link or a form read from the page before. Every response is checked, its
status and a sentence of its template (scenarios.MARKERS); redirects are not followed, so that an expired session
(a redirect to the login page) counts as an error. The only write, saving a draft grid, is safe to repeat.

LOAD_ROLE_TIMES, if set, names a JSON file written at the end: each role's request count, failures, median and
95th percentile, counted from when every user has spawned (as --reset-stats does for locust's own CSV)."""

from __future__ import annotations

import itertools
import json
import os
import random
from collections import defaultdict
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import scenarios as s
from locust import HttpUser, between, events

POOL: dict[str, Any] = json.loads(Path(os.environ["LOAD_POOL"]).read_text()) if os.environ.get("LOAD_POOL") else {}
TURNS: dict[str, itertools.count] = defaultdict(itertools.count)


def journey(step: Callable[[s.Browser], None]) -> Callable[[RoleUser], None]:
    """A locust task walking one of scenarios.JOURNEYS; it stops at the first page that fails (already counted by
    locust), as a user would."""

    @wraps(step)
    def run(user: RoleUser) -> None:
        try:
            step(user)
        except s.PageError:
            pass

    return run


class RoleUser(HttpUser):
    abstract = True
    role = ""
    wait_time = between(*s.THINK_SECONDS)

    def on_start(self) -> None:
        accounts = POOL["roles"][self.role]
        self.account = accounts[next(TURNS[self.role]) % len(accounts)]
        name, _, value = self.account["cookie"].partition("=")
        self.cookies = {name: value}
        self.rng = random.Random()

    def get(self, page: str, path: str) -> str:
        return self._request("GET", page, path)

    def post(self, page: str, path: str, data: dict[str, str], expect: int) -> str:
        return self._request("POST", page, path, data, expect)

    def _request(self, method: str, page: str, path: str, data: dict[str, str] | None = None, expect: int = 200) -> str:
        # The production cookies are Secure (__Host-): a client on plain http would not send them back, so they are
        # sent by hand, as the browser sends them over HTTPS.
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        with self.client.request(
            method,
            path,
            data=data,
            name=f"{self.role}: {page}",
            headers=headers,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            self._keep_cookies(response)
            try:
                s.check(page, response.status_code, response.text, expect)
            except s.PageError as exc:
                response.failure(str(exc))
                raise
            response.success()
            return response.text

    def _keep_cookies(self, response: Any) -> None:
        """The cookies the response sets, and the ones it deletes (the messages cookie, once its message shown)
        forgotten, as a browser does."""
        for header in response.raw.headers.getlist("Set-Cookie"):
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value in ("", '""'):
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value


def role_user(role: str, doc: str) -> type[RoleUser]:
    tasks = {journey(step): weight for step, weight in s.JOURNEYS[role].items()}
    return type(role.title(), (RoleUser,), {"role": role, "weight": s.WEIGHTS[role], "tasks": tasks, "__doc__": doc})


Counsellor = role_user("counsellor", "The dossiers of their organisation: the list, dossiers, a search by name, to-do.")
Evaluator = role_user("evaluator", "A draft grid of their organisation, opened, a few criteria changed, saved twice.")
Juror = role_user("juror", "Before a session: its list of dossiers, then three dossiers read one by one.")
Advisor = role_user("advisor", "A commune typed, the nearest evaluators, a referral form; or the referrals sent.")
CertifPro = role_user("certifpro", "The national statistics, without and with filters.")


# -- Each role's figures, from when every user has spawned --------------------------------------------------------

TIMES: dict[str, list[float]] = defaultdict(list)
FAILURES: dict[str, int] = defaultdict(int)


@events.request.add_listener
def _record(name: str, response_time: float, exception: Exception | None, **_kwargs: Any) -> None:
    role = name.partition(":")[0]
    TIMES[role].append(response_time)
    if exception is not None:
        FAILURES[role] += 1


@events.spawning_complete.add_listener
def _reset(**_kwargs: Any) -> None:
    TIMES.clear()
    FAILURES.clear()


@events.quitting.add_listener
def _write(**_kwargs: Any) -> None:
    target = os.environ.get("LOAD_ROLE_TIMES")
    if not target:
        return
    figures = {}
    for role, times in TIMES.items():
        ordered = sorted(times)
        figures[role] = {
            "requests": len(ordered),
            "failures": FAILURES[role],
            "median_ms": ordered[len(ordered) // 2],
            "p95_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))],
        }
    Path(target).write_text(json.dumps(figures, indent=1))

"""What the load test's users do, without locust: the pages each role visits, what marks each page as really
served (not a login page, an error page or an empty shell), and how a page's links and forms are read to go on.

bench/locustfile.py drives these steps under locust (gevent); tests/bench/test_load_scenarios.py walks the same
steps with Django's test client on a tiny data set, so that a renamed URL or template breaks a test rather than
a night's load run. Nothing here imports locust or gevent."""

from __future__ import annotations

import html
import random
import re
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

# The share of each role among the people active at once: counsellors run the dossiers every day, evaluators
# fill grids, France Travail advisors refer job seekers, jurors read dossiers before a session (a few days a
# month), Certif'Pro watches the statistics. An assumption (no published split), close to the data set's
# ratio of accounts: 3 counsellors and 3 evaluators per organisation, 3 advisors per region, 6 jurors per region.
WEIGHTS = {"counsellor": 40, "evaluator": 30, "advisor": 15, "juror": 10, "certifpro": 5}

# Think time between two pages of one user, in seconds: a page is read (a dossier, a grid's domain, a jury
# dossier) before the next click. 5 to 15 s is the span of a short read; with it, one active user makes about
# 6 requests a minute. Long pauses (a telephone call, a candidate in front of the counsellor) are not modelled:
# they would only lower the request rate per "active" user.
THINK_SECONDS = (5.0, 15.0)

# The grid's radio values (evaluations.models.CriterionResultValue).
RESULTS = ("acquired", "not_acquired", "not_assessed")

# What each page must contain to count as served: a sentence of its template (French, as rendered).
MARKERS = {
    "dossier_list": "<h1>Dossiers</h1>",
    "dossier": 'id="identity-title"',
    "todo": "<h1>À faire</h1>",
    "grid": 'id="grille"',
    "grid_save": "",
    "session_list": "sessions de jury</h1>",
    "session": 'id="dossiers-title"',
    "review": 'id="grid-title"',
    "directory": 'id="results-title"',
    "communes": 'role="option"',
    "referral_form": "<h1>Orienter une personne</h1>",
    "referral_list": "<h1>Mes orientations</h1>",
    "referral": 'id="route-title"',
    "dashboard": "<h1>Statistiques</h1>",
}


class PageError(Exception):
    """The page was not what the user expected: counted as a failure."""


def check(page: str, status: int, text: str, expected_status: int = 200) -> None:
    if status != expected_status:
        raise PageError(f"{page}: status {status} (expected {expected_status})")
    if expected_status == 200 and MARKERS[page] not in text:
        raise PageError(f"{page}: marker {MARKERS[page]!r} missing")


def links(text: str, pattern: str) -> list[str]:
    """The paths of the page's links matching `pattern` (a regex of the path, capturing nothing), in order."""
    return list(dict.fromkeys(html.unescape(m) for m in re.findall(rf'href="({pattern})"', text)))


def pick(rng: random.Random, items: list[str], page: str, what: str) -> str:
    if not items:
        raise PageError(f"{page}: no {what} to follow")
    return rng.choice(items)


def csrf_token(text: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
    if not match:
        raise PageError("no CSRF token in the form")
    return match.group(1)


@dataclass
class GridPost:
    data: dict[str, str]
    changed: int


def grid_post(text: str, rng: random.Random, changes: int = 3) -> GridPost:
    """The grid form as the browser posts it: every criterion's checked result and comment, a few results
    changed as an evaluator would between two saves. Saving a draft again is safe: it stays a draft."""
    checked = dict(re.findall(r'name="result-(\d+)" value="([a-z_]+)" checked', text))
    comments = {pk: html.unescape(c) for pk, c in re.findall(r'name="comment-(\d+)"[^>]*>(.*?)</textarea>', text, re.S)}
    if not checked:
        raise PageError("grid: no criterion to fill")
    chosen = rng.sample(sorted(checked), min(changes, len(checked)))
    data = {"csrfmiddlewaretoken": csrf_token(text)}
    for pk, value in checked.items():
        data[f"result-{pk}"] = rng.choice(RESULTS) if pk in chosen else value
        data[f"comment-{pk}"] = comments.get(pk, "")
    return GridPost(data, sum(1 for pk in chosen if data[f"result-{pk}"] != checked[pk]))


# -- The pages, as paths ----------------------------------------------------------------------------------------

DOSSIER_LIST = "/dossiers/"
DOSSIER_LINK = r"/dossiers/\d+/"
TODO = "/a-faire/"
SESSION_LIST = "/jurys/"
SESSION_LINK = r"/jurys/\d+/"
REVIEW_LINK = r"/jurys/dossiers/\d+/"
DIRECTORY = "/annuaire/"
COMMUNES = "/annuaire/communes/"
REFERRAL_FORM_LINK = r"/orientations/nouvelle/\?site=[^\"]+"
REFERRAL_LIST = "/orientations/"
REFERRAL_LINK = r"/orientations/\d+/"
DASHBOARD = "/statistiques/"


def grid(evaluation: int) -> str:
    return f"/evaluations/{evaluation}/grille/"


def search(name: str) -> str:
    return f"{DOSSIER_LIST}?{urlencode({'q': name})}"


def directory(commune: str, radius: int = 20) -> str:
    return f"{DIRECTORY}?{urlencode({'commune': commune, 'radius': radius})}"


def communes(typed: str) -> str:
    return f"{COMMUNES}?{urlencode({'q': typed})}"


def dashboard(filters: dict[str, str]) -> str:
    return f"{DASHBOARD}?{urlencode(filters)}" if filters else DASHBOARD


# -- The journeys, one list of tasks per role ------------------------------------------------------------------------


class Browser(Protocol):
    """What a journey needs of its user: locust's (bench/locustfile.py) or Django's test client (the tests)."""

    account: dict[str, Any]
    rng: random.Random

    def get(self, page: str, path: str) -> str: ...

    def post(self, page: str, path: str, data: dict[str, str], expect: int) -> str: ...

    def wait(self) -> None: ...


def counsellor_list_then_dossiers(b: Browser) -> None:
    listing = b.get("dossier_list", DOSSIER_LIST)
    dossiers = links(listing, DOSSIER_LINK)
    b.wait()
    b.get("dossier", pick(b.rng, dossiers, "dossier_list", "dossier"))
    b.wait()
    b.get("dossier", pick(b.rng, dossiers, "dossier_list", "dossier"))


def counsellor_search_by_name(b: Browser) -> None:
    found = b.get("dossier_list", search(b.rng.choice(b.account["names"])))
    b.wait()
    b.get("dossier", pick(b.rng, links(found, DOSSIER_LINK), "dossier_list", "dossier"))


def todo(b: Browser) -> None:
    b.get("todo", TODO)


def evaluator_fill_grid(b: Browser) -> None:
    path = grid(b.rng.choice(b.account["evaluations"]))
    page = b.get("grid", path)
    for _save in range(2):
        b.wait()
        b.post("grid_save", path, grid_post(page, b.rng).data, 302)
        # The browser follows the redirect back to the grid, where the evaluator was.
        page = b.get("grid", path)


def juror_review_session(b: Browser) -> None:
    b.get("session_list", SESSION_LIST)
    b.wait()
    session = b.get("session", f"/jurys/{b.rng.choice(b.account['sessions'])}/")
    reviews = links(session, REVIEW_LINK)
    for _dossier in range(3):
        b.wait()
        b.get("review", pick(b.rng, reviews, "session", "dossier"))


def advisor_search_evaluators(b: Browser) -> None:
    commune = b.rng.choice(b.account["communes"])
    b.get("communes", communes(commune[:4]))
    found = b.get("directory", directory(commune))
    b.wait()
    b.get("referral_form", pick(b.rng, links(found, REFERRAL_FORM_LINK), "directory", "site"))


def advisor_referrals(b: Browser) -> None:
    listing = b.get("referral_list", REFERRAL_LIST)
    b.wait()
    b.get("referral", pick(b.rng, links(listing, REFERRAL_LINK), "referral_list", "referral"))


def certifpro_dashboard(b: Browser) -> None:
    b.get("dashboard", DASHBOARD)
    b.wait()
    b.get("dashboard", dashboard(b.rng.choice(b.account["filters"])))


# Each role's journeys and how often each is chosen.
JOURNEYS = {
    "counsellor": {counsellor_list_then_dossiers: 3, counsellor_search_by_name: 1, todo: 1},
    "evaluator": {evaluator_fill_grid: 4, todo: 1},
    "juror": {juror_review_session: 1},
    "advisor": {advisor_search_evaluators: 3, advisor_referrals: 1},
    "certifpro": {certifpro_dashboard: 1},
}

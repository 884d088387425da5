"""The load test's journeys (bench/scenarios.py, driven by locust in bench/locustfile.py) walked with Django's test
client on a tiny national data set: every page of every role answers what the journey expects, with the accounts
bench/load.py logs in. Neither locust nor gevent is imported here."""

import random

import pytest
from django.test import Client

from bench import scenarios
from bench.load import user_pool
from bench.pages import session_cookie
from evaluations.models import CriterionResult
from tests.bench.test_national_dataset import communes, generate  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db(transaction=False)


class DjangoBrowser:
    def __init__(self, account: dict, seed: int) -> None:
        self.account = account
        self.rng = random.Random(seed)
        # The CSRF token is checked, as in production.
        self.client = Client(enforce_csrf_checks=True)
        name, _, value = account["cookie"].partition("=")
        self.client.cookies[name] = value
        self.visited: list[str] = []

    def get(self, page: str, path: str) -> str:
        return self._check(page, self.client.get(path), 200)

    def post(self, page: str, path: str, data: dict[str, str], expect: int) -> str:
        return self._check(page, self.client.post(path, data), expect)

    def _check(self, page: str, response, expect: int) -> str:
        text = response.content.decode()
        scenarios.check(page, response.status_code, text, expect)
        self.visited.append(page)
        return text

    def wait(self) -> None:
        pass


def test_every_journey_of_every_role_answers_as_expected(communes):  # noqa: F811 - the fixture
    generate(dossiers=120)
    pool = user_pool(accounts=2, certifpro_accounts=1, cookie=session_cookie)["roles"]

    assert set(pool) == set(scenarios.WEIGHTS)
    for role, journeys in scenarios.JOURNEYS.items():
        assert pool[role], role
        for account in pool[role]:
            for journey in journeys:
                browser = DjangoBrowser(account, seed=1)
                journey(browser)
                assert browser.visited, (role, journey.__name__)

    # The grid was saved for real: a draft still, with results other than "not assessed".
    changed = CriterionResult.objects.filter(evaluation__status="draft").exclude(result="not_assessed")
    assert changed.exists()


def test_a_page_without_its_marker_or_status_is_an_error():
    with pytest.raises(scenarios.PageError):
        scenarios.check("dossier_list", 302, "")
    with pytest.raises(scenarios.PageError):
        scenarios.check("dossier_list", 200, "<html>Connexion</html>")
    scenarios.check("grid_save", 302, "", 302)

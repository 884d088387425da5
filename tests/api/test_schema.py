"""schemathesis, in-process against /api/schema/, as a counsellor with a personal token: on every operation,
no server error and no response that breaks the schema."""

import datetime
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from organisations.services import api_token_create
from tests.journey import DossierFactory

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 15
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]


@pytest.fixture
def _keep_the_test_connection() -> Iterator[None]:
    """The raw WSGI handler closes the connection after each request (as in production): that would drop the
    test's transaction on PostgreSQL. Django's test client switches this off the same way."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.mark.usefixtures("_keep_the_test_connection")
def test_every_operation_answers_within_the_schema_for_a_counsellor(org_a, capsys):
    dossier = DossierFactory(organisation=org_a, state="opened")
    _token, key = api_token_create(
        membership=dossier.team.counsellor, name="schemathesis", expires_at=timezone.now() + datetime.timedelta(days=1)
    )
    headers = {"Authorization": f"Token {key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    cases = 0
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case: schemathesis.Case) -> None:
            nonlocal cases
            cases += 1
            case.call_and_validate(headers=headers, checks=CHECKS)

        run()
    with capsys.disabled():
        print(f"\nschemathesis: {cases} generated cases over {len(operations)} operations")
    assert cases >= len(operations)

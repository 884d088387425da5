"""What an integrator does: generate a Python client with openapi-python-client from the schema the running server
publishes, then drive the whole journey, from opening a dossier to a verified certificate, with that client alone
(no hand-written HTTP call). Every generated module must import: a body declared in a way the generator cannot
use, a binary answer it drops, or a field it cannot type shows up here first."""

from __future__ import annotations

import datetime
import importlib
import inspect
import pkgutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings as django_settings
from django.utils import timezone

from organisations.models import Membership
from organisations.services import api_token_create
from tests.api.test_dossiers import _candidate_payload
from tests.journey import small_referentiel, team_for
from tests.juries.factories import make_jury, session_day

PACKAGE = "clea_api_client"  # from the schema's ASCII title, "CleA API"
CONFIG = Path(django_settings.BASE_DIR) / "docs" / "openapi-python-client.yaml"


def _generate(schema_url: str, directory: Path) -> None:
    # The published configuration, without the ruff formatting pass (not needed to run the code).
    config = {**yaml.safe_load(CONFIG.read_text()), "post_hooks": []}
    (directory / "config.yaml").write_text(yaml.safe_dump(config))
    generated = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--url",  # the README's command, against the live server
            schema_url,
            "--meta",
            "none",
            "--output-path",
            str(directory / PACKAGE),
            "--config",
            str(directory / "config.yaml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    # The one warning left: the credential check also takes the raw .jwt file as text/plain, which this generator
    # cannot send (its JSON body is generated). Any other means an operation or an answer went missing.
    output = generated.stdout + generated.stderr
    warnings = [line for line in output.splitlines() if line.startswith("WARNING parsing")]
    assert warnings == ["WARNING parsing POST /api/v1/credentials/verify/ within credentials."], output


@pytest.fixture
def generated(live_server, tmp_path, monkeypatch) -> Any:
    _generate(f"{live_server.url}/api/schema/?format=json", tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    package = importlib.import_module(PACKAGE)
    modules = [
        importlib.import_module(info.name) for info in pkgutil.walk_packages(package.__path__, prefix=f"{PACKAGE}.")
    ]
    yield package, modules
    for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


def test_a_generated_client_drives_the_whole_journey(generated, live_server, org_a, capsys, request):
    package, modules = generated
    operations = [module for module in modules if ".api." in module.__name__]
    assert len(operations) >= 70
    # Every file answer (PDF, XLSX, CSV, iCalendar) is read as bytes: the generator reads a text/* answer as a
    # string, which it then fails to wrap as a file, unless the published configuration maps it.
    files = [
        module.__name__ for module in operations if "payload=BytesIO(" in inspect.getsource(module).replace(" ", "")
    ]
    assert len(files) == 5, files
    assert not [module.__name__ for module in operations if "BytesIO(response.text)" in inspect.getsource(module)]

    from clea_api_client import AuthenticatedClient, Client
    from clea_api_client.api.certificates import certificates_download, certificates_list, certificates_verify
    from clea_api_client.api.dossiers import (
        dossiers_create,
        dossiers_retrieve,
        dossiers_transitions_create,
        dossiers_transitions_list,
    )
    from clea_api_client.api.evaluations import evaluations_close, evaluations_list, evaluations_results_update
    from clea_api_client.api.jury_sessions import (
        jury_sessions_close,
        jury_sessions_convene,
        jury_sessions_decisions_create,
        jury_sessions_deliberate,
        jury_sessions_minutes,
        jury_sessions_retrieve,
        jury_sessions_submissions_list,
    )
    from clea_api_client.models import (
        CloseRequest,
        DecisionRequest,
        DeliberateRequest,
        DossierCreateRequest,
        Error,
        MemberAttendanceRequest,
        ResultLineRequest,
        ResultsRequest,
        TakeTransitionRequest,
    )
    from clea_api_client.types import File

    small_referentiel()
    team = team_for(org_a)
    jury = make_jury(region=org_a.region)
    calls = 0

    def count(request: Any) -> None:
        nonlocal calls
        calls += 1

    def opened(client: Any) -> Any:
        # Closed at the end: a kept-alive connection holds the live server's thread, and its database connection.
        request.addfinalizer(client.get_httpx_client().close)
        return client

    def client_for(membership: Membership, prefix: str = "Token") -> Any:
        _token, key = api_token_create(
            membership=membership, name="Client généré", expires_at=timezone.now() + datetime.timedelta(days=1)
        )
        hooks = {"event_hooks": {"request": [count]}}
        return opened(
            AuthenticatedClient(
                base_url=live_server.url, token=key, prefix=prefix, raise_on_unexpected_status=True, httpx_args=hooks
            )
        )

    started = time.monotonic()
    counsellor, evaluator = client_for(team.counsellor), client_for(team.evaluator, prefix="Bearer")
    body = DossierCreateRequest.from_dict({"certification": "clea", "candidate": _candidate_payload()})
    dossier = dossiers_create.sync(client=counsellor, body=body)
    assert dossier.state.value == "information", dossier

    def take(client: Any, name: str, **arguments: Any) -> str:
        taken = dossiers_transitions_create.sync(
            dossier.id, client=client, body=TakeTransitionRequest(name=name, **arguments)
        )
        return taken.state.value

    assert take(counsellor, "open", consent=True) == "opened"
    assert take(evaluator, "start_prior_evaluation", started_on=datetime.date(2026, 3, 2)) == "prior_evaluation"

    [evaluation] = evaluations_list.sync(client=evaluator).results
    assert evaluation.outcome.to_dict() == {}
    lines = [
        ResultLineRequest.from_dict({"criterion": line.criterion, "result": "acquired"}) for line in evaluation.results
    ]
    evaluations_results_update.sync(evaluation.id, client=evaluator, body=ResultsRequest(results=lines))
    closed = evaluations_close.sync(
        evaluation.id, client=evaluator, body=CloseRequest(ended_on=datetime.date(2026, 3, 2))
    )
    assert closed.all_validated is True
    assert closed.evaluation.outcome.all_validated is True
    assert all(domain.validated for domain in closed.evaluation.outcome.domains)
    offered = dossiers_transitions_list.sync(dossier.id, client=counsellor)
    assert [step.name for step in offered] == ["submit_to_jury", "withdraw"]
    assert take(counsellor, "submit_to_jury", session=jury.session.pk) == "submitted_to_jury"

    jury_body, president = client_for(jury.admin), client_for(jury.president)
    session_id = jury.session.pk
    assert jury_sessions_convene.sync(session_id, client=jury_body).state.value == "convened"
    jury.session = session_day(jury.session)
    present = [
        MemberAttendanceRequest.from_dict({"member": m.pk, "attendance": "present"})
        for m in (jury.employer, jury.employee)
    ]
    deliberating = jury_sessions_deliberate.sync(
        session_id, client=president, body=DeliberateRequest(attendance=present)
    )
    assert deliberating.state.value == "deliberating"
    assert deliberating.minutes is None  # a nullable reference: null validates and parses
    [submission] = jury_sessions_submissions_list.sync(session_id, client=president).results
    assert submission.dossier.id == dossier.id
    assert submission.decision is None
    decision = jury_sessions_decisions_create.sync(
        session_id, client=president, body=DecisionRequest.from_dict({"submission": submission.id, "kind": "awarded"})
    )
    assert decision.kind.value == "awarded"
    assert decision.missing_domains == []
    assert jury_sessions_close.sync(session_id, client=president).state.value == "closed"
    assert jury_sessions_retrieve.sync(session_id, client=president).minutes is not None
    minutes = jury_sessions_minutes.sync(session_id, client=president)
    assert isinstance(minutes, File) and minutes.payload.read(4) == b"%PDF"

    assert dossiers_retrieve.sync(dossier.id, client=counsellor).state.value == "certified"
    [certificate] = certificates_list.sync(client=counsellor).results
    assert certificate.dossier == dossier.id
    pdf = certificates_download.sync(certificate.id, client=counsellor)
    assert isinstance(pdf, File) and pdf.payload.read(4) == b"%PDF"

    anyone = opened(Client(base_url=live_server.url, httpx_args={"event_hooks": {"request": [count]}}))
    verified = certificates_verify.sync(certificate.verification_code.lower(), client=anyone)
    assert (verified.valid, verified.holder_name, verified.number) == (True, "Aïcha BENALI", certificate.number)
    unknown = certificates_verify.sync("ZZZZZZZZ", client=anyone)
    assert isinstance(unknown, Error) and unknown.code == "not_found"
    elapsed = time.monotonic() - started

    with capsys.disabled():
        print(f"\ngenerated client: {len(modules)} modules imported, journey in {calls} calls, {elapsed:.1f} s")

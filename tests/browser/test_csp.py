"""The Content-Security-Policy in Chromium (issue 16): the main pages of several roles load, run their scripts and
show their styles without one violation of the policy, which refuses inline scripts, style attributes, event
handler attributes and eval. Ten page loads on the demo's data: the policy and the templates are the same for every
page, and tests/test_security_headers.py scans every template for what the policy refuses.

Chromium reports each refusal twice: a `securitypolicyviolation` event in the page (listened to by a script that
runs before the page's own) and an error in the console; the test collects both.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from candidates.models import Dossier
from evaluations.models import Evaluation, EvaluationStatus
from tests.browser import support
from tests.browser.test_small_screens import ACCOUNTS, log_in, role_pages, seed_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber}` +
    (event.sample ? ` (${event.sample})` : ""));
});
"""


def account(name: str):
    return next(account for account in ACCOUNTS if account.name == name)


def test_the_main_pages_of_several_roles_break_no_rule_of_the_content_security_policy(page, live_server):
    page.set_default_timeout(10_000)
    seed_demo()
    pages = role_pages()
    summary = reverse(
        "evaluations:summary",
        args=[
            Evaluation.objects.filter(dossier__candidate__last_name="Girard", status=EvaluationStatus.CLOSED)
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        ],
    )
    dossier_pk = Dossier.objects.get(candidate__last_name="Girard").pk
    base = live_server.url
    console: list[str] = []
    page.on(
        "console", lambda message: console.append(message.text) if "Content Security Policy" in message.text else None
    )
    page.add_init_script(LISTEN)
    found: list[str] = []
    loads = 0

    def check(who: str, path: str, ready: str = "main") -> None:
        nonlocal loads
        if path != page.url.removeprefix(base):
            response = page.goto(base + path)
            assert response is not None and response.ok, f"{who}: {path} answers {response and response.status}"
        loads += 1
        page.locator(ready).first.wait_for()
        page.wait_for_load_state("load")
        found.extend(f"{who} {path}: {violation}" for violation in page.evaluate("window.__cspViolations"))

    # The login form and the code page (the counsellor is also her organisation's administrator, a role that owes
    # a second factor), then the counsellor's home page they lead to.
    log_in(page, base, account("counsellor"), through_form=True)
    assert page.evaluate("window.__cspViolations") == []
    loads += 1
    check("counsellor", "/")
    check("counsellor", pages["counsellor"][0])  # the dossier page
    # The summary's print button: wired by a static script now, no longer an onclick attribute.
    check("counsellor", summary)
    page.evaluate("window.print = () => { window.__printed = true; }")
    page.get_by_role("button", name="Imprimer").click()
    assert page.evaluate("window.__printed === true")
    # Swagger UI, once it has drawn the API's operations from the schema.
    check("counsellor", reverse("api_docs"), ready=".swagger-ui .opblock")

    for name, path in (
        ("evaluator", pages["evaluator"][1]),  # the evaluation grid and its scripts
        ("president", pages["president"][1]),  # the jury's review and its decision form
        ("trainer", pages["trainer"][0]),  # the training plan and its htmx forms
        ("certifpro-admin", "/admin/"),  # Django's admin, its index
    ):
        support.log_in(page, base, account(name).email)
        check(name, path)
    # An admin change form, with its widgets' scripts (dates, related objects): where Certif'Pro edits identities.
    check("certifpro-admin", reverse("admin:candidates_dossier_change", args=[dossier_pk]), ready="#content-main form")

    assert loads <= 10, loads
    assert not found, "Content-Security-Policy violations:\n" + "\n".join(found)
    assert not console, "Content-Security-Policy errors in the console:\n" + "\n".join(console)

    # The listener is not deaf: a style attribute put into the page now is refused, and reported.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    page.wait_for_function("() => window.__cspViolations.length > 0")
    assert "style-src" in page.evaluate("window.__cspViolations")[0]

"""Every role on a phone (issue 14, "small screens"): at 375 and 320 px no page scrolls sideways, the header folds
into a menu whose button opens it and reaches every link; at 1280 px the header is the desktop one. Every page at
320 px is checked by the axe walk (test_axe.py), which loads them all there anyway.

The data is the demo's (organisations with long names, a counsellor who is also her organisation's administrator,
a jury with a president, a France Travail agency), seeded without the commune table that only the place search
reads. Screenshots go to test-artifacts/small-screens/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from candidates.models import Candidate, CorrectionRequest, Dossier
from directory.demo import seed_directory
from evaluations.models import Evaluation
from funding.demo import seed_funding
from journey.demo import seed_journey, seed_juries
from juries.models import Submission
from organisations.demo import DEMO_PASSWORD, seed_foundation
from organisations.models import Membership, Role
from referrals.demo import seed_referrals
from referrals.models import Referral
from scheduling.demo import seed_scheduling
from tests.browser.snapshots import restore_snapshot, take_snapshot
from tests.browser.support import log_in as sign_in
from tests.browser.support import log_in_through_form
from training.models import TrainingPlan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "small-screens"


@dataclass(frozen=True)
class Account:
    name: str  # the screenshots' and failures' name for it
    email: str
    switch_to: str | None = None  # the role of the membership to switch to with the organisation switch


ACCOUNTS = [
    Account("counsellor", "conseillere@evaluateur-nord.demo"),
    Account("org-admin", "conseillere@evaluateur-nord.demo", switch_to=Role.ORG_ADMIN),
    Account("evaluator", "evaluateur@evaluateur-nord.demo"),
    Account("trainer", "formatrice@formation-nord.demo"),
    Account("president", "jure.employeur@jury.demo"),
    Account("ft-advisor", "conseiller@francetravail.demo"),
    Account("certifpro-admin", "admin@certifpro.demo"),
]

LONG_EMAIL = "marie.christine.girarddelafontainesaintmartin@entrepriseexemple.fr"

SCROLLS_SIDEWAYS = "document.documentElement.scrollWidth > window.innerWidth"

# The table boxes that scroll sideways but that the keyboard cannot reach or that have no name.
UNREACHABLE_SCROLL_BOXES = """() => Array.from(document.querySelectorAll(".table-responsive"))
  .filter(box => box.scrollWidth > box.clientWidth + 1)
  .filter(box => {
    const label = document.getElementById(box.getAttribute("aria-labelledby") || "");
    return box.tabIndex !== 0 || box.getAttribute("role") !== "region" || !label || !label.textContent.trim();
  })
  .map(box => (box.querySelector("caption") || box).textContent.trim().slice(0, 40))"""

# The elements sticking out of the page on the right, outside any scroll box: what to fix when a page is too wide.
CULPRITS = """() => {
  const width = window.innerWidth, found = [];
  for (const element of document.querySelectorAll("body *")) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 0.5) continue;
    let parent = element.parentElement, clipped = false;
    for (; parent; parent = parent.parentElement) {
      if (getComputedStyle(parent).overflowX !== "visible") { clipped = true; break; }
    }
    if (!clipped) found.push(`${element.tagName.toLowerCase()}.${element.className} → ${Math.round(box.right)}px`);
  }
  return found.slice(-3);
}"""


def seed_demo() -> None:
    """`manage.py seed_demo` but the 35,000 communes, which take most of its time and no page here reads. Seven
    browser tests start from it: on the embedded SQLite, the first in each test process seeds (6 s) and keeps a copy
    of the database and of the documents it produced; the others get that copy back (tests/browser/snapshots.py)."""
    if not restore_snapshot("demo"):
        _seed_demo()
        take_snapshot("demo")


def _seed_demo() -> None:
    call_command("load_referentiels", verbosity=0)
    call_command("load_tariffs", verbosity=0)
    orgs = seed_foundation()
    seed_directory(orgs)
    seed_referrals(orgs)
    seed_journey(orgs)
    seed_juries(orgs)
    seed_funding(orgs)
    seed_scheduling(orgs)
    # Words longer than a phone's line: a hyphenated commune in the organisation's name, a long e-mail address.
    orgs["nord"].name = "APP Saint-Rémy-en-Bouzemont-Saint-Genest-et-Isson (évaluateur Nord)"
    orgs["nord"].save(update_fields=["name"])
    Candidate.objects.filter(last_name="Girard").update(email=LONG_EMAIL)


def role_pages() -> dict[str, list[str]]:
    """Beyond the home page and the header's links: the dossier page and the evaluation grid, and each role's
    own object pages, on the demo's fullest objects."""
    dossier = Dossier.objects.get(candidate__last_name="Girard")  # evaluations, a training plan, a final draft
    draft = Evaluation.objects.filter(status="draft", kind="prior").get()  # the whole referentiel, 107 criteria
    submission = Submission.objects.filter(session__state="convened").first()
    assert submission is not None
    referral = Referral.objects.order_by("pk").first()
    assert referral is not None
    plan = TrainingPlan.objects.get(dossier=dossier)
    dossier_page = reverse("journey:dossier_detail", args=[dossier.pk])
    grid = reverse("evaluations:grid", args=[draft.pk])
    correction = CorrectionRequest.objects.open().first()  # the demo's, from the candidate in training
    assert correction is not None
    return {
        "counsellor": [
            dossier_page,
            reverse("journey:todo"),
            reverse("candidates:dossier_create"),
            reverse("referrals:detail", args=[referral.pk]),
            reverse("scheduling:appointment_create", args=[dossier.pk]),
            reverse("scheduling:assignment_create", args=[dossier.pk]),
            reverse("candidates:correction_request", args=[correction.pk]),
        ],
        "org-admin": [dossier_page, reverse("referrals:detail", args=[referral.pk])],
        # The agenda's week (the header's link) and day views, with the demo's appointments.
        "evaluator": [dossier_page, grid, f"{reverse('scheduling:agenda')}?view=day"],
        "trainer": [reverse("training:plan_detail", args=[plan.pk]), reverse("journey:todo")],
        "president": [
            reverse("juries:session_detail", args=[submission.session_id]),
            reverse("juries:review", args=[submission.pk]),
        ],
        "ft-advisor": [
            reverse("referrals:detail", args=[referral.pk]),
            f"{reverse('referrals:create')}?site={referral.site_id}",
        ],
        "certifpro-admin": [
            dossier_page,
            grid,
            # A person's data: the records' table, the export's checkboxes, the erasure's reasons.
            reverse("privacy:person", kwargs={"kind": "candidat", "pk": dossier.candidate_id}),
            reverse("privacy:erase", kwargs={"kind": "candidat", "pk": dossier.candidate_id}),
        ],
    }


def log_in(page, base: str, account: Account, *, through_form: bool = False) -> None:
    if through_form:
        log_in_through_form(page, base, account.email, DEMO_PASSWORD)
    else:
        sign_in(page, base, account.email)
    if account.switch_to:
        switch_membership(page, account)


def switch_membership(page, account: Account) -> None:
    """The header's organisation switch, to the account's membership of role `switch_to`: one post, which comes
    back to the page it was made from."""
    menu_button = page.get_by_role("button", name="Menu")
    if menu_button.is_visible():
        menu_button.click()
    membership = Membership.objects.get(user__email=account.email, role=account.switch_to)
    page.get_by_label("Je travaille pour").select_option(str(membership.pk))
    with page.expect_navigation(url=page.url):
        page.get_by_role("button", name="Changer").click()
    assert page.get_by_label("Je travaille pour").input_value() == str(membership.pk)


def header_links(page) -> list[str]:
    return [
        href
        for href in page.locator("header a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        if href and not href.startswith("/admin/")
    ]


def assert_menu_folds_and_reaches_every_link(page, account: Account, screenshot: Path) -> None:
    """Folded at first; the button opens it, and then every link and button of the header is on screen."""
    button = page.get_by_role("button", name="Menu")
    menu = page.locator("#site-menu")
    assert button.is_visible(), account.name
    assert button.get_attribute("aria-controls") == "site-menu"
    assert button.get_attribute("aria-expanded") == "false"
    assert not page.get_by_role("navigation", name="Navigation principale").is_visible()

    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    width = page.evaluate("window.innerWidth")
    controls = menu.locator("a, button, select").all()
    assert len(controls) >= 3, account.name  # Accueil, at least one page of the role, Se déconnecter
    for control in controls:
        control.scroll_into_view_if_needed()
        box = control.bounding_box()
        assert control.is_visible() and box is not None, f"{account.name}: {control.inner_text()!r} is hidden"
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (
            f"{account.name}: {control.inner_text()!r} sticks out of the screen ({box})"
        )
    page.screenshot(path=str(screenshot), full_page=True)
    # Escape closes it again and gives the focus back to the button.
    menu.locator("a").first.focus()
    page.keyboard.press("Escape")
    assert button.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.getAttribute('aria-controls')") == "site-menu"


PHONE_WIDTHS = (375, 320)


# One test per role, so that the walk spreads over the test processes.
@pytest.mark.parametrize("account", ACCOUNTS, ids=[account.name for account in ACCOUNTS])
def test_no_page_scrolls_sideways_on_a_phone_and_the_menu_reaches_every_link(page, live_server, account):
    """Each role's menu at 375 and 320 px on its home page; then at 375 px its home and own pages (what fits 320 px
    fits 375 unless a media query breaks in between, which the home and the role's pages show). Every page at 320 px,
    the narrowest, is loaded once by the axe walk (test_axe.py), which checks the same two things there before its
    own rules: one load of each page for both tests, the suite's time."""
    page.set_default_timeout(10_000)
    seed_demo()
    pages = role_pages()
    base = live_server.url
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    width = PHONE_WIDTHS[0]
    too_wide: list[str] = []
    unreachable: list[str] = []
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, base, account)
    for menu_width in reversed(PHONE_WIDTHS):
        page.set_viewport_size({"width": menu_width, "height": 800})
        page.screenshot(path=str(ARTIFACTS / f"{account.name}-{menu_width}.png"), full_page=True)
        menu_shot = ARTIFACTS / f"{account.name}-{menu_width}-menu.png"
        assert_menu_folds_and_reaches_every_link(page, account, menu_shot)
    page.set_viewport_size({"width": width, "height": 800})
    for path in dict.fromkeys(["/", *pages[account.name]]):
        response = page.goto(base + path)
        assert response is not None and response.ok, f"{account.name}: {path} answers {response and response.status}"
        if page.evaluate(SCROLLS_SIDEWAYS):
            width_now = page.evaluate("document.documentElement.scrollWidth")
            too_wide.append(f"{account.name} {path}: {width_now}px wide, {page.evaluate(CULPRITS)}")
        if boxes := page.evaluate(UNREACHABLE_SCROLL_BOXES):
            unreachable.append(f"{account.name} {path}: {boxes}")
        if path in pages[account.name]:
            name = re.sub(r"[^\w]+", "-", path).strip("-")
            page.screenshot(path=str(ARTIFACTS / f"{account.name}-{name}-{width}.png"), full_page=True)
    assert not too_wide, f"Pages wider than {width}px:\n" + "\n".join(too_wide)
    assert not unreachable, "Scrolling tables without a keyboard stop or a name:\n" + "\n".join(unreachable)


def test_without_javascript_the_menu_stays_open_on_a_phone(browser, live_server):
    seed_demo()
    grid = role_pages()["evaluator"][1]
    context = browser.new_context(java_script_enabled=False, viewport={"width": 320, "height": 800})
    page = context.new_page()
    log_in(page, live_server.url, ACCOUNTS[0])
    assert not page.get_by_role("button", name="Menu").is_visible()
    assert page.get_by_role("navigation", name="Navigation principale").is_visible()
    assert page.get_by_label("Je travaille pour").is_visible()
    assert not page.evaluate(SCROLLS_SIDEWAYS)
    # The grid's "Tout acquis" buttons need their script: `hidden` keeps them out of sight (a .button is
    # inline-flex, which the browser's own [hidden] rule does not beat).
    log_in(page, live_server.url, ACCOUNTS[2])
    page.goto(live_server.url + grid)
    all_acquired = page.locator("[data-all-acquired]")
    assert all_acquired.count() > 0
    assert not all_acquired.first.is_visible()
    context.close()


def test_on_a_desktop_the_header_shows_everything_without_a_menu_button(page, live_server):
    page.set_default_timeout(10_000)
    seed_demo()
    base = live_server.url
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    for account in ACCOUNTS:
        log_in(page, base, account)
        assert not page.get_by_role("button", name="Menu").is_visible()
        nav = page.get_by_role("navigation", name="Navigation principale")
        assert nav.is_visible()
        # The organisation sits beside the brand, the navigation below them.
        brand = page.locator(".site-header__brand").bounding_box()
        organisation = page.locator(".org-switcher").bounding_box()
        assert brand and organisation and abs(organisation["y"] - brand["y"]) < brand["height"]
        assert organisation["x"] > brand["x"] + brand["width"]
        assert nav.bounding_box()["y"] >= brand["y"] + brand["height"]
        assert not page.evaluate(SCROLLS_SIDEWAYS)
        page.screenshot(path=str(ARTIFACTS / f"{account.name}-1280.png"), full_page=True)

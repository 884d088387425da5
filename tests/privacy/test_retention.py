"""The retention table (settings.DATA_RETENTION): what the README says of it, what the job applies of it, and the
arithmetic of its deadlines."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings

from privacy.retention import ACTIONS, APPLIED_ACTIONS, Retention, retention_table
from privacy.services import RETENTION_STEPS

README = Path(settings.BASE_DIR) / "README.md"
# The categories the brief names, which the table must cover.
REQUIRED = {
    "closed_dossiers",
    "closed_referrals",
    "api_tokens",
    "sessions",
    "audit_log",
    "outbox_emails",
    "certificates",
    "invoiced_funding",
}


def readme_section() -> str:
    text = README.read_text()
    start = text.index("### Données personnelles et conservation")
    end = text.index("\n## ", start)
    return text[start:end]


def readme_rows() -> list[list[str]]:
    rows = [
        line for line in readme_section().splitlines() if line.startswith("| ") and not line.startswith("| Données")
    ]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows]


def test_the_readme_table_says_what_the_settings_say_row_by_row():
    expected = [[row.label, row.period, row.ground, row.at_deadline] for row in retention_table()]
    assert readme_rows() == expected


def test_the_table_covers_every_category_and_every_action_is_known():
    table = {row.key: row for row in retention_table()}
    assert REQUIRED <= set(table)
    assert {row.action for row in table.values()} <= ACTIONS


def test_the_job_applies_exactly_the_categories_whose_action_it_implements():
    applied = {row.key for row in retention_table() if row.action in APPLIED_ACTIONS}
    assert {step.key for step in RETENTION_STEPS} == applied


def test_the_audit_log_is_kept_by_the_job_which_never_touches_it():
    [audit] = [row for row in retention_table() if row.key == "audit_log"]
    assert audit.action == "keep"
    source = (Path(settings.BASE_DIR) / "privacy" / "services.py").read_text()
    assert not re.search(r"AuditLog\.objects\.[^\n]*\.(update|delete)\(", source)


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        ({"years": 5}, datetime.datetime(2019, 3, 1, 12, tzinfo=datetime.UTC)),
        ({"days": 90}, datetime.datetime(2023, 12, 2, 12, tzinfo=datetime.UTC)),
        ({"days": 0}, datetime.datetime(2024, 3, 1, 12, tzinfo=datetime.UTC)),
        (None, None),
    ],
)
def test_a_cutoff_is_the_instant_the_duration_before_now(duration, expected):
    row = Retention("x", "x", duration, "x", "x", "keep", "x")
    assert row.cutoff(datetime.datetime(2024, 3, 1, 12, tzinfo=datetime.UTC)) == expected


def test_the_29th_of_february_counts_back_to_the_28th_at_the_same_time():
    row = Retention("x", "x", {"years": 1}, "x", "x", "keep", "x")
    moment = datetime.datetime(2024, 2, 29, 12, tzinfo=datetime.UTC)
    assert row.cutoff(moment) == datetime.datetime(2023, 2, 28, 12, tzinfo=datetime.UTC)


def test_an_unknown_action_is_refused(settings):
    settings.DATA_RETENTION = {
        **settings.DATA_RETENTION,
        "x": {**settings.DATA_RETENTION["sessions"], "action": "burn"},
    }
    with pytest.raises(ValueError, match="unknown action"):
        retention_table()

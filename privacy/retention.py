"""The retention table (settings.DATA_RETENTION), read: each category of personal data, how long it is kept from
which event, on which legal ground, and when its deadline falls at a given instant. What happens at the deadline
is privacy.services' (`retention_apply`), for the categories whose `action` it implements."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext, ngettext

from candidates.models import add_years

# The actions `manage.py anonymise` takes at a deadline; "hold" delays another category's, "keep" does nothing.
APPLIED_ACTIONS = frozenset({"anonymise", "erase_contacts", "delete"})
ACTIONS = APPLIED_ACTIONS | {"hold", "keep"}


@dataclass(frozen=True)
class Retention:
    """One row of the table."""

    key: str
    label: str
    # {"years": n} or {"days": n}; None: kept without end.
    duration: dict[str, int] | None
    start: str
    ground: str
    action: str
    at_deadline: str

    def cutoff(self, now: datetime.datetime) -> datetime.datetime | None:
        """What started before this instant is past its retention at `now`; None when it never is."""
        if self.duration is None:
            return None
        if "years" in self.duration:
            return add_years(now, -self.duration["years"])
        return now - datetime.timedelta(days=self.duration["days"])

    @property
    def period(self) -> str:
        """The duration as the README's table and the screens say it: « 5 ans après la clôture du dossier »."""
        if self.duration is None:
            return gettext("Sans limite de durée")
        if "years" in self.duration:
            n = self.duration["years"]
            length = ngettext("%(n)s an", "%(n)s ans", n) % {"n": n}
        else:
            n = self.duration["days"]
            if not n:
                return gettext("Jusqu'à %(start)s") % {"start": self.start}
            length = ngettext("%(n)s jour", "%(n)s jours", n) % {"n": n}
        return gettext("%(length)s après %(start)s") % {"length": length, "start": self.start}


def _row(key: str, entry: dict[str, Any]) -> Retention:
    if entry["action"] not in ACTIONS:
        raise ValueError(f"DATA_RETENTION[{key!r}]: unknown action {entry['action']!r}")
    return Retention(
        key=key,
        label=str(entry["label"]),
        duration=entry["duration"],
        start=str(entry["start"]),
        ground=str(entry["ground"]),
        action=entry["action"],
        at_deadline=str(entry["at_deadline"]),
    )


def _table() -> dict[str, dict[str, Any]]:
    return settings.DATA_RETENTION


def retention(key: str) -> Retention:
    return _row(key, _table()[key])


def retention_table() -> list[Retention]:
    return [_row(key, entry) for key, entry in _table().items()]

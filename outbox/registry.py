"""What each kind of side effect runs. Apps above this one register their producers in their AppConfig.ready(), so
the outbox runs them without importing them (docs/architecture.md: an app imports only the apps below it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.functional import Promise


@dataclass(frozen=True)
class Kind:
    name: str
    label: str | Promise
    # Called with the row's arguments; returns what it produced (shown to operators) or None when there was
    # nothing left to do (a decision revoked before its certificate). Must be idempotent: it may run twice.
    handler: Callable[..., Any]
    # PDF rendering goes to its own queue and gets the long time limits (settings.CELERY_PDF_QUEUE).
    document: bool = True
    # Arguments that must not outlive the effect (an e-mail's body): blanked once it is done.
    forget_arguments: bool = False

    @property
    def queue(self) -> str:
        return settings.CELERY_PDF_QUEUE if self.document else settings.CELERY_LIGHT_QUEUE


_kinds: dict[str, Kind] = {}


def register(name: str, handler: Callable[..., Any], *, label: str | Promise, **options: Any) -> Kind:
    if name in _kinds and _kinds[name].handler is not handler:
        raise ValueError(f"Side effect kind {name!r} is registered twice")
    _kinds[name] = kind = Kind(name=name, label=label, handler=handler, **options)
    return kind


def get(name: str) -> Kind:
    try:
        return _kinds[name]
    except KeyError:
        raise LookupError(f"No side effect kind {name!r}: is its app installed?") from None


def kinds() -> list[Kind]:
    return sorted(_kinds.values(), key=lambda kind: str(kind.label))

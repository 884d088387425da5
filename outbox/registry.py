"""What each kind of side effect runs. Apps above this one register their producers in their AppConfig.ready(), so
the outbox runs them without importing them (docs/architecture.md: an app imports only the apps below it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
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
    # Promised by the hundred at once (a jury session's certificates and minutes): queued at
    # settings.CELERY_BULK_PRIORITY, so that a document someone waits for on screen (an attestation after the
    # grid's close) is taken first by the same workers instead of waiting behind the whole session (issue 22).
    bulk: bool = False
    # Arguments that must not outlive the effect (an e-mail's body): blanked once it is done.
    forget_arguments: bool = False
    # The setting that holds how many attempts before the row stays "failed" (read at each run); None:
    # SIDE_EFFECT_MAX_ATTEMPTS. A webhook waits longer for a receiver that is down than a PDF for a bug fix.
    max_attempts_setting: str | None = None

    @property
    def attempts_limit(self) -> int:
        return int(getattr(settings, self.max_attempts_setting or "SIDE_EFFECT_MAX_ATTEMPTS"))

    @property
    def queue(self) -> str:
        return settings.CELERY_PDF_QUEUE if self.document else settings.CELERY_LIGHT_QUEUE

    @property
    def priority(self) -> int:
        return settings.CELERY_BULK_PRIORITY if self.bulk else settings.CELERY_INTERACTIVE_PRIORITY


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


# -- Documents rendered again (issue 13) ------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    """A kind of produced document that an operator may have rendered again, the earlier version kept. Its app
    registers it with the function that renders it again; the outbox runs that function as the side effect
    `<name>_regenerate`, with (document_id, regeneration, by_id, reason)."""

    name: str
    model: type[models.Model]
    # « Nouvelle version du certificat %(document)s »: the side effect's label, with the document's str().
    version_label: str | Promise
    # Its FileFields, each with its SHA-256 beside it (clea_platform.backup.sha256_field_name).
    fields: tuple[str, ...] = ("file",)

    @property
    def side_effect_kind(self) -> str:
        return f"{self.name}_regenerate"

    def is_produced(self, document: models.Model) -> bool:
        """Every file of the document is stored (a certificate not completed, a batch not issued, a sheet still
        pending: not yet)."""
        return all(getattr(document, field) for field in self.fields)


_documents: dict[str, Document] = {}


def register_document(
    name: str,
    model: type[models.Model],
    render_again: Callable[..., Any],
    *,
    label: str | Promise,
    version_label: str | Promise,
    fields: tuple[str, ...] = ("file",),
) -> Document:
    """Register a document kind and, as a side effect kind of its own, the function that renders it again."""
    if name in _documents and _documents[name].model is not model:
        raise ValueError(f"Document kind {name!r} is registered twice")
    _documents[name] = document = Document(name=name, model=model, version_label=version_label, fields=fields)
    register(document.side_effect_kind, render_again, label=label)
    return document


def document(name: str) -> Document:
    try:
        return _documents[name]
    except KeyError:
        raise LookupError(f"No document kind {name!r}: is its app installed?") from None


def document_of(model: type[models.Model]) -> Document:
    """The registered kind of a document model (a proxy's, its concrete model's)."""
    concrete = model._meta.concrete_model
    for kind in _documents.values():
        if kind.model is concrete:
            return kind
    raise LookupError(f"{model._meta.label} is not a registered document")


def documents() -> list[Document]:
    return sorted(_documents.values(), key=lambda kind: kind.name)

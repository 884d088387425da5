"""Two workers producing the same document, deterministically: the "other worker" runs while this one renders."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test.signals import template_rendered


@contextmanager
def another_worker_while_rendering(template_name: str, work: Callable[[], Any]) -> Iterator[list[Any]]:
    """Run `work` (the other worker) once, when this worker's document template is rendered, and yield what it
    returned (a one-item list, once done). The test signal `template_rendered` fires during the render, before
    the producer stores its file; the other worker's own render of the same template does not run it again."""
    done: list[Any] = []
    started = False

    def receiver(sender: Any, *, template: Any, **kwargs: Any) -> None:
        nonlocal started
        if template.name == template_name and not started:
            started = True
            done.append(work())

    template_rendered.connect(receiver, dispatch_uid="tests.documents.another_worker")
    try:
        yield done
    finally:
        template_rendered.disconnect(dispatch_uid="tests.documents.another_worker")


def stored_files(directory: str) -> list[Path]:
    """The files stored under a directory of MEDIA_ROOT ("certificats", "financements/lots"...)."""
    return sorted(path for path in (Path(settings.MEDIA_ROOT) / directory).rglob("*") if path.is_file())


def sha256_of(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def regenerated(document: Any, *, reason: str = "Fichier abîmé") -> Any:
    """The document rendered again at a Certif'Pro administrator's request, in-process (the outbox's side effect run
    at once, as a worker would); returns one of the earlier versions it keeps (outbox.DocumentVersion)."""
    from outbox import registry
    from outbox.models import DocumentVersion
    from outbox.services import document_regenerate
    from tests.juries.factories import make_certifpro

    side_effect = document_regenerate(document=document, by=make_certifpro(), reason=reason)
    registry.get(side_effect.kind).handler(**side_effect.arguments)
    return DocumentVersion.objects.filter(regeneration=side_effect.arguments["regeneration"]).first()

"""Reads for the screens that show a produced document: its earlier versions, and whether the reader may have it
rendered again (issue 13)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import models

from organisations.models import Membership, User
from outbox import registry
from outbox.models import DocumentVersion
from outbox.services import REGENERATE_ROLES


@dataclass(frozen=True)
class EarlierVersion:
    """One regeneration of a document: what it replaced (one file, or a batch's CSV, XLSX and PDF), when, at whose
    request and why."""

    replaced_at: datetime.datetime
    replaced_by: User | None
    reason: str
    files: list[DocumentVersion] = field(default_factory=list)


@dataclass(frozen=True)
class Regeneration:
    """What a document's screen shows its operators: the kind to ask for (the form's URL) and the earlier
    versions, newest first."""

    kind: str
    versions: list[EarlierVersion]


def documents_regeneration(membership: Membership | None, documents: Iterable[models.Model]) -> None:
    """Set `regeneration` on each document: a Regeneration where the membership may have it rendered again
    (Certif'Pro any document, an organisation's administrator its own organisation's, as `document_regenerate`
    decides), else None. For an administrator, one query per kind of document (its own among them); then one for
    the earlier versions, whatever the number of documents."""
    found: dict[tuple[int, int], Regeneration] = {}
    documents = list(documents)
    if membership is not None and membership.role in REGENERATE_ROLES and documents:
        by_model: dict[type[models.Model], set[int]] = defaultdict(set)
        for document in documents:
            by_model[registry.document_of(type(document)).model].add(document.pk)
        content_types = ContentType.objects.get_for_models(*by_model)
        for model, pks in by_model.items():
            if not membership.is_certifpro:
                # What the service would find, through the model's own scoping.
                visible = model._default_manager.visible_to(membership)  # type: ignore[attr-defined]
                pks = set(visible.filter(pk__in=pks).values_list("pk", flat=True))
            kind = registry.document_of(model).name
            found |= {(content_types[model].pk, pk): Regeneration(kind, []) for pk in pks}
        if found:
            _with_versions(found)
    for document in documents:
        content_type = ContentType.objects.get_for_model(document)
        document.regeneration = found.get((content_type.pk, document.pk))  # type: ignore[attr-defined]


def _with_versions(regenerations: dict[tuple[int, int], Regeneration]) -> None:
    """Fill each document's Regeneration with its earlier versions, newest first, in one query."""
    by_content_type: dict[int, list[int]] = defaultdict(list)
    for content_type_id, object_id in regenerations:
        by_content_type[content_type_id].append(object_id)
    which = models.Q(pk__in=[])
    for content_type_id, object_ids in by_content_type.items():
        which |= models.Q(content_type_id=content_type_id, object_id__in=object_ids)
    rows = DocumentVersion.objects.filter(which).select_related("replaced_by").order_by("-replaced_at", "field")
    grouped: dict[tuple[int, int], dict[str, EarlierVersion]] = defaultdict(dict)
    for row in rows:
        versions = grouped[(row.content_type_id, row.object_id)]
        version = versions.setdefault(
            str(row.regeneration), EarlierVersion(row.replaced_at, row.replaced_by, row.reason)
        )
        version.files.append(row)
    for key, regeneration in regenerations.items():
        fields = registry.document(regeneration.kind).fields  # in the order the document's page lists its files
        for version in grouped[key].values():
            version.files.sort(key=lambda row: fields.index(row.field))
            regeneration.versions.append(version)

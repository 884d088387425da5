"""What moves a row's `updated_at`: any change to it or to one of its children (issue 20, the API's change feed).

A model mixes in `TracksChanges` and names, in `feed_parents`, the paths to the rows its change moves too (an
evaluation's results: `("evaluation", "evaluation__dossier")`; a paths is followed as a `values()` lookup, so a
reverse relation works: a candidate's identity moves its `dossiers`). Every `save()` then moves the row's own
`updated_at` (even with `update_fields`, which would leave an `auto_now` field behind) and its parents', and
`delete()` moves the parents'. Writes that bypass `save()` go through `rows_update()` (a `QuerySet.update` that adds
`updated_at` and moves the parents) or, after a `bulk_create`, `bulk_update` or `QuerySet.delete`, call
`rows_changed()`: there are few, and they are listed in the README. No service sets `updated_at` by hand. A parent
moves to the later of its own `updated_at` and the change's: never back in time.

Parents are moved by one `UPDATE … WHERE id IN (SELECT …)` per path, without reading them: the services keep their
own locks and instances, and the paths are spelled out whole (no recursion), so each model says what it moves.
"""

from __future__ import annotations

import datetime
from typing import Any, ClassVar

from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

FIELD = "updated_at"


def _has_updated_at(model: type[models.Model]) -> bool:
    return any(field.name == FIELD for field in model._meta.concrete_fields)


def _related_model(model: type[models.Model], path: str) -> type[models.Model]:
    for name in path.split("__"):
        related = model._meta.get_field(name).related_model
        if related is None or isinstance(related, str):  # pragma: no cover - a typo in feed_parents
            raise LookupError(f"{model.__name__}.feed_parents: {path} is not a relation")
        model = related
    return model


def _later_of(at: datetime.datetime) -> Greatest:
    """`at`, unless the row moved later already: a change dated by its service (a certificate's issue) must not
    take a parent changed since back in time."""
    return Greatest(F(FIELD), Value(at, output_field=models.DateTimeField()))


def _move_parents(model: type[models.Model], rows: models.QuerySet[Any], at: datetime.datetime) -> None:
    for path in getattr(model, "feed_parents", ()):
        parent = _related_model(model, path)
        parent._default_manager.filter(pk__in=rows.values(path)).update(**{FIELD: _later_of(at)})


def rows_update(rows: models.QuerySet[Any], *, at: datetime.datetime | None = None, **values: Any) -> int:
    """`rows.update(**values)` that moves the rows' `updated_at` and their `feed_parents'`: the one way to write
    rows without `save()` (a bulk update, an anonymisation). Returns the number of rows updated."""
    at = at or timezone.now()
    # The parents first: the update may change what `rows` selects (notifications marked read are no longer unread).
    _move_parents(rows.model, rows, at)
    if _has_updated_at(rows.model):
        values.setdefault(FIELD, at)
    if not values:  # a row without updated_at, of which only the parents move
        return 0
    return rows.update(**values)


def rows_changed(rows: models.Model | models.QuerySet[Any], *, at: datetime.datetime | None = None) -> None:
    """Move `updated_at` of a row (or of a queryset's rows) and of their `feed_parents`, for writes that bypass
    `save()`: a bulk update of children, a file replaced through the queryset."""
    at = at or timezone.now()
    if isinstance(rows, models.Model):
        if _has_updated_at(type(rows)):
            setattr(rows, FIELD, at)
        rows = type(rows)._default_manager.filter(pk=rows.pk)
    rows_update(rows, at=at)


class TracksChanges(models.Model):
    """A row whose change moves its own `updated_at` (when it has one) and that of its `feed_parents`."""

    feed_parents: ClassVar[tuple[str, ...]] = ()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields and FIELD not in update_fields and _has_updated_at(type(self)):
            kwargs["update_fields"] = [*update_fields, FIELD]
        super().save(*args, **kwargs)
        if self.feed_parents:
            at = getattr(self, FIELD, None) or timezone.now()
            _move_parents(type(self), type(self)._default_manager.filter(pk=self.pk), at)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        # The row's parents are found before it goes.
        model = type(self)
        parents = [
            (_related_model(model, path), list(model._default_manager.filter(pk=self.pk).values_list(path, flat=True)))
            for path in self.feed_parents
        ]
        deleted = super().delete(*args, **kwargs)
        at = timezone.now()
        for parent, ids in parents:
            parent._default_manager.filter(pk__in=[pk for pk in ids if pk is not None]).update(**{FIELD: _later_of(at)})
        return deleted

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

from django.core.exceptions import EmptyResultSet
from django.db import connection, models, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest, Now
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
        wanted = parent._default_manager.filter(pk__in=rows.values(path))
        if connection.vendor == "postgresql" and connection.in_atomic_block:
            _move_unless_held(parent, wanted, at)
        else:  # SQLite writes one transaction at a time; outside a transaction nothing else is held
            wanted.update(**{FIELD: _later_of(at)})


def _move_unless_held(parent: type[models.Model], wanted: models.QuerySet[Any], at: datetime.datetime) -> None:
    """Move the parents no other transaction holds, and the others once this one has committed.

    The platform locks a dossier before its children (a move, a withdrawal, an evaluation's close). A service that
    writes a child first and then waited here for the dossier would deadlock with them (a grid saved while the
    dossier moves). A held parent is moved after the commit instead, to that instant, in a statement of its own: by
    then this transaction holds nothing, and a reader who saw the child's change also sees the parent move later."""
    quote = connection.ops.quote_name
    field, key = parent._meta.get_field(FIELD), parent._meta.pk
    if not isinstance(field, models.Field) or key is None:  # pragma: no cover - _has_updated_at checked the model
        raise LookupError(f"{parent.__name__} has no {FIELD} column")
    table, column, pk = parent._meta.db_table, str(field.column), str(key.column)
    try:
        sub_sql, sub_params = wanted.values("pk").query.sql_with_params()
    except EmptyResultSet:  # rows known empty before asking the database (`pk__in=[]`)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH wanted AS ({sub_sql}), "  # noqa: S608 (names from the models, values as parameters)
            f"locked AS (SELECT {quote(pk)} FROM {quote(table)} WHERE {quote(pk)} IN (SELECT * FROM wanted) "
            f"FOR UPDATE SKIP LOCKED), "
            f"moved AS (UPDATE {quote(table)} SET {quote(column)} = GREATEST({quote(column)}, %s) "
            f"WHERE {quote(pk)} IN (SELECT * FROM locked) RETURNING {quote(pk)}) "
            f"SELECT {quote(pk)} FROM {quote(table)} WHERE {quote(pk)} IN (SELECT * FROM wanted) "
            f"AND {quote(pk)} NOT IN (SELECT {quote(pk)} FROM moved)",
            [*sub_params, at],
        )
        held = [row[0] for row in cursor.fetchall()]
    if held:
        transaction.on_commit(
            lambda: parent._default_manager.filter(pk__in=held).update(**{FIELD: Greatest(F(FIELD), Now())})
        )


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

"""The API's lists as a change feed (issue 20): a cursor over (`updated_at`, `id`), `updated_since`, `page_size`,
and a 400 for any query parameter an operation does not declare.

DRF's own CursorPagination keeps only the first ordering field in its cursor and counts ties with an offset capped
at 1,000: rows that share an `updated_at` (a bulk change writes one instant) would be skipped or repeated once one
of them changes between two pages. Here the cursor holds both the instant and the id, and a page is the rows
strictly after that pair (keyset pagination): a row that changes between two pages moves to the end of the list
and is read again there, with its new `updated_at`; no other row moves, so none is skipped nor repeated.
"""

from __future__ import annotations

import binascii
import datetime
import re
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from clea_platform.api_headers import lock_for_write

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Accepted by every operation: DRF's format override.
CROSS_CUTTING_PARAMS = frozenset({"format"})

# A "+01:00" offset sent unencoded arrives as " 01:00": the one repair made, the sign being unambiguous.
_UNENCODED_PLUS = re.compile(r"^(\S+T\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d(?::?\d\d)?)$")


def invalid_param(name: str, message: Any, code: str = "invalid") -> ValidationError:
    return ValidationError({name: [ErrorDetail(str(message), code=code)]})


def parse_updated_since(value: str) -> datetime.datetime:
    """An aware instant in ISO 8601; a date alone or a naive time is refused (the offset is the whole point)."""
    repaired = _UNENCODED_PLUS.sub(r"\1+\2", value.strip())
    try:
        parsed = _aware_utc(repaired)
    except (ValueError, OverflowError):
        parsed = None
    if parsed is None:
        raise invalid_param(
            "updated_since",
            _(
                "Date et heure attendues au format ISO 8601 avec décalage horaire, par exemple "
                "2026-12-04T09:30:00Z ou 2026-12-04T10:30:00+01:00 (le « + » s'écrit %2B dans l'adresse)."
            ),
        )
    return parsed


def _aware_utc(value: str) -> datetime.datetime | None:
    """In UTC: Python takes offsets up to 24 h, PostgreSQL only up to 16 (a 500 otherwise)."""
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        return None
    return parsed.astimezone(datetime.UTC)


def check_query_params(request: Request, declared: Iterable[str]) -> None:
    """400, field by field, for every query parameter the operation does not declare: an ignored filter would
    answer everything, which a program takes for the filtered answer."""
    allowed = CROSS_CUTTING_PARAMS | set(declared)
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise ValidationError(
            {
                name: [
                    ErrorDetail(
                        str(
                            _("Paramètre inconnu. Paramètres acceptés : %(allowed)s.")
                            % {"allowed": ", ".join(sorted(allowed - CROSS_CUTTING_PARAMS)) or "—"}
                        ),
                        code="unknown_parameter",
                    )
                ]
                for name in unknown
            }
        )


class FeedPagination(BasePagination):
    """Keyset pagination on (`updated_at`, `id`), oldest change first; `descending` for a list read newest first.

    Answer: {"next": URL or null, "previous": URL or null, "results": […]}; no count (a count is a second scan of
    the list, and false by the time the last page is read)."""

    ordering: ClassVar[tuple[str, str]] = ("updated_at", "id")
    descending: ClassVar[bool] = False
    # A feed takes `updated_since`; a list of another kind (reference data, a session's dossiers) does not.
    feed: ClassVar[bool] = True
    page_size = PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"

    def __init__(self) -> None:
        self.page: list[Any] = []
        self.has_next = self.has_previous = False
        self.base_url = ""

    # -- The cursor: the direction and the (instant, id) of the row it stands after ----------------------------

    def _encode(self, row: Any, *, reverse: bool) -> str:
        field, tiebreak = self.ordering
        value = getattr(row, field)
        value = value.isoformat() if isinstance(value, datetime.datetime) else str(value)
        token = f"{'r' if reverse else 'f'}|{value}|{getattr(row, tiebreak)}"
        return urlsafe_b64encode(token.encode()).decode().rstrip("=")

    def _position(self, value: str) -> Any:
        at = _aware_utc(value)
        if at is None:
            raise ValueError(value)
        return at

    def _decode(self, encoded: str) -> tuple[bool, Any, int]:
        try:
            token = urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
            direction, value, pk = token.split("|")
            if direction not in ("f", "r"):
                raise ValueError(token)
            return direction == "r", self._position(value), int(pk)
        except (ValueError, OverflowError, UnicodeDecodeError, binascii.Error) as exc:
            raise invalid_param(
                self.cursor_query_param,
                _("Curseur invalide : reprenez le lien « next » ou « previous » d'une réponse, tel quel."),
            ) from exc

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise invalid_param(
                self.page_size_query_param,
                _("Nombre entier de 1 à %(max)s attendu.") % {"max": self.max_page_size},
            )
        return int(raw)

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        since = request.query_params.get("updated_since") if self.feed else None
        if since is not None:
            # Inclusive: a poll from the last instant it saw misses nothing committed at that very instant.
            queryset = queryset.filter(updated_at__gte=parse_updated_since(since))
        field, tiebreak = self.ordering
        encoded = request.query_params.get(self.cursor_query_param)
        reverse, position = False, None
        if encoded is not None:
            reverse, at, pk = self._decode(encoded)
            position = (at, pk)
        # Read in ascending order when walking forward an ascending list, or back up a descending one.
        ascending = reverse == self.descending
        rows = queryset.order_by(*((field, tiebreak) if ascending else (f"-{field}", f"-{tiebreak}")))
        if position is not None:
            at, pk = position
            lookup = "gt" if ascending else "lt"
            rows = rows.filter(Q(**{f"{field}__{lookup}": at}) | Q(**{field: at, f"{tiebreak}__{lookup}": pk}))
        fetched = list(rows[: size + 1])
        page = fetched[:size]
        more = len(fetched) > size
        if reverse:
            page.reverse()
            self.has_previous, self.has_next = more, True
        else:
            self.has_next, self.has_previous = more, position is not None
        self.page = page
        return page

    def get_next_link(self) -> str | None:
        if not self.has_next or not self.page:
            return None
        return replace_query_param(self.base_url, self.cursor_query_param, self._encode(self.page[-1], reverse=False))

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        if not self.page:
            return remove_query_param(self.base_url, self.cursor_query_param)
        return replace_query_param(self.base_url, self.cursor_query_param, self._encode(self.page[0], reverse=True))

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {**link, "description": "La page suivante ; null à la fin de la liste."},
                "previous": {**link, "description": "La page précédente ; null au début."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        since = {
            "name": "updated_since",
            "required": False,
            "in": "query",
            "description": "Seulement les objets modifiés à cet instant ou après (inclus) : ISO 8601 avec décalage "
            "horaire, par exemple 2026-12-04T09:30:00Z ou 2026-12-04T10:30:00%2B01:00.",
            "schema": {"type": "string", "format": "date-time"},
        }
        return [
            *([since] if self.feed else []),
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Curseur de page : à reprendre tel quel des liens « next » et « previous ».",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Nombre d'objets par page, de 1 à {self.max_page_size} ({self.page_size} par défaut).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]


class NewestFirstPagination(FeedPagination):
    descending = True


class ReferencePagination(FeedPagination):
    """Reference data (référentiels, funders) is not in the feed: it changes by release, a few rows, read whole.
    Paged by id with the same cursor and answer."""

    ordering = ("id", "id")
    feed = False

    def _position(self, value: str) -> Any:
        return int(value)


class FeedViewSetMixin:
    """The feed on a viewset: its lists page with FeedPagination (cursor, `page_size`, `updated_since`), and every
    operation answers 400 to a query parameter it does not declare (`query_params[action]`, plus its paginator's
    on `list` and on the `paginated_actions`)."""

    pagination_class: Any = FeedPagination
    # Per action, the query parameters it declares in the schema (its filters).
    query_params: ClassVar[dict[str, Sequence[str]]] = {}
    # Other actions that page a list of their own.
    paginated_actions: ClassVar[frozenset[str]] = frozenset()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        check_query_params(request, self.declared_query_params())

    def get_object(self) -> Any:
        # The read that checks a write's If-Match locks the row first (clea_platform.api_headers).
        lookup = self.lookup_url_kwarg or self.lookup_field  # type: ignore[attr-defined]
        lock_for_write(self.request, self.get_queryset().model, self.kwargs[lookup])  # type: ignore[attr-defined]
        return super().get_object()  # type: ignore[misc]

    def declared_query_params(self) -> list[str]:
        action = getattr(self, "action", None) or ""
        declared = [*self.query_params.get(action, ())]
        paginator = getattr(self, "paginator", None)
        if paginator is not None and (action == "list" or action in self.paginated_actions):
            declared += [parameter["name"] for parameter in paginator.get_schema_operation_parameters(self)]
        return declared


def declared_fields(declaration: Any, *, exclude: Iterable[str] = ()) -> tuple[str, ...]:
    """The query parameters a filter form or serializer class validates: declared from the one source that reads
    them, so the check and the schema cannot drift apart."""
    fields = declaration.base_fields if hasattr(declaration, "base_fields") else declaration().fields
    return tuple(name for name in fields if name not in set(exclude))

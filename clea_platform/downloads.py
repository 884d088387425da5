"""A stored document as a download: the PDFs (attestations, minutes, certificates) and the claim batches' files."""

from __future__ import annotations

from typing import Any

from django.db.models.fields.files import FieldFile
from django.http import FileResponse
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.utils.mediatypes import media_type_matches

PDF = "application/pdf"


def file_response(file: FieldFile, filename: str, content_type: str = PDF) -> FileResponse:
    """The file as an attachment named `filename`, streamed from the storage."""
    return FileResponse(file.open("rb"), as_attachment=True, filename=filename, content_type=content_type)


def negotiation_for(*media_types: str) -> type[DefaultContentNegotiation]:
    """For an API action that answers a file: an `Accept` naming the file's type (`application/pdf`) is served,
    not refused with a 406 as no renderer produces it; the view answers the file itself, and its errors in JSON."""

    class FileNegotiation(DefaultContentNegotiation):
        def select_renderer(self, request: Any, renderers: Any, format_suffix: str | None = None) -> Any:
            try:
                return super().select_renderer(request, renderers, format_suffix)
            except NotAcceptable:
                accepted = self.get_accept_list(request)
                if not any(media_type_matches(theirs, ours) for ours in media_types for theirs in accepted):
                    raise
                return renderers[0], renderers[0].media_type

    return FileNegotiation

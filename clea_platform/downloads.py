"""A stored document as a download: the PDFs (attestations, minutes, certificates) and the claim batches' files."""

from __future__ import annotations

from django.db.models.fields.files import FieldFile
from django.http import FileResponse

PDF = "application/pdf"


def file_response(file: FieldFile, filename: str, content_type: str = PDF) -> FileResponse:
    """The file as an attachment named `filename`, streamed from the storage."""
    return FileResponse(file.open("rb"), as_attachment=True, filename=filename, content_type=content_type)

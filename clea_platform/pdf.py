"""PDF rendering with WeasyPrint. Templates may load only the platform's own static files: no network, no
other file of the machine (a document must look the same everywhere and leak nothing)."""

from __future__ import annotations

import hashlib
import mimetypes
import threading
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

STATIC_SCHEME = "static:"
_fonts = threading.local()


def resolve_static(url: str) -> tuple[bytes, str]:
    """`static:<path>` → (content, content type) from the project's static files; anything else refused."""
    if not url.startswith(STATIC_SCHEME):
        raise ValueError(f"PDF templates may only load the platform's static files, not {url!r}")
    relative = url.removeprefix(STATIC_SCHEME).lstrip("/")
    found = finders.find(relative) if ".." not in Path(relative).parts else None
    if not found:
        raise ValueError(f"No static file {relative!r}")
    return Path(found).read_bytes(), mimetypes.guess_type(found)[0] or "application/octet-stream"


@cache
def _fetcher_class() -> type:
    # WeasyPrint is imported on first use only: web workers that never render a PDF start faster.
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFilesFetcher(URLFetcher):
        def __init__(self) -> None:
            super().__init__(fail_on_errors=True)

        def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
            content, content_type = resolve_static(url)
            return URLFetcherResponse(url, content, {"Content-Type": content_type})

    return StaticFilesFetcher


def render_pdf(template_name: str, context: dict[str, Any]) -> bytes:
    """Render a Django template to PDF. Templates name their assets `static:css/documents.css`."""
    return html_to_pdf(render_to_string(template_name, {**context, "SITE_URL": settings.SITE_URL}))


def _font_config() -> Any:
    """One FontConfiguration per thread, reused: a new one per document kept about 0.24 MB each for good, so a
    worker grew to 1.3 GB over 5,000 attestations (bench/README.md); reused, it stays flat. Our templates
    declare no @font-face, so nothing of one document stays in it for the next."""
    if not hasattr(_fonts, "config"):
        from weasyprint.text.fonts import FontConfiguration

        _fonts.config = FontConfiguration()
    return _fonts.config


# PDF/UA-1 (ISO 14289-1): a tagged PDF a screen reader can walk (headings, lists, tables whose cells know their
# headers, figures with their text), its language and its title shown instead of the file name. WeasyPrint builds
# the tags from the HTML: a template needs `<html lang>`, a `<title>`, real headings in order, `<th scope>`, and
# a `<title>` in an inline SVG (its alternative text). Borders, backgrounds and the page margin boxes (page
# numbers) are left out of the tree as layout.
PDF_VARIANT = "pdf/ua-1"


class DocumentNotAccessible(ValueError):
    """A template without what PDF/UA cannot do without: WeasyPrint would only log it and write the file anyway."""


def html_to_pdf(html: str) -> bytes:
    """WeasyPrint alone, on HTML already rendered (bench/pdf.py times it as the documents' floor)."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=STATIC_SCHEME, url_fetcher=_fetcher_class()()).render(
        font_config=_font_config(), pdf_variant=PDF_VARIANT
    )
    if not document.metadata.lang or not document.metadata.title:
        raise DocumentNotAccessible("A document template needs <html lang> and a <title>: PDF/UA requires both.")
    return bytes(document.write_pdf(pdf_variant=PDF_VARIANT))


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()

"""Reading a PDF's accessibility with pypdf: its catalogue entries (tags, language, title shown) and its structure
tree, the headings, tables and figures a screen reader gets."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject


@dataclass
class StructElem:
    """One element of the structure tree: its role (`H1`, `TH`, `Figure`...), attributes and children."""

    role: str
    alt: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    children: list[StructElem] = field(default_factory=list)

    def walk(self) -> Iterator[StructElem]:
        yield self
        for child in self.children:
            yield from child.walk()

    def roles(self) -> list[str]:
        """Every role of the subtree, in reading order."""
        return [element.role for element in self.walk()]

    def find(self, role: str) -> list[StructElem]:
        return [element for element in self.walk() if element.role == role]


@dataclass
class TaggedPdf:
    catalog: DictionaryObject
    info: dict[str, Any]
    tree: StructElem | None

    @property
    def marked(self) -> bool:
        mark_info = self.catalog.get("/MarkInfo")
        return bool(mark_info and mark_info.get_object().get("/Marked"))

    @property
    def lang(self) -> str | None:
        lang = self.catalog.get("/Lang")
        return str(lang) if lang is not None else None

    @property
    def displays_title(self) -> bool:
        preferences = self.catalog.get("/ViewerPreferences")
        return bool(preferences and preferences.get_object().get("/DisplayDocTitle"))

    @property
    def title(self) -> str | None:
        return self.info.get("/Title")

    @property
    def ua_part(self) -> str | None:
        """The PDF/UA part declared in the XMP metadata (`pdfuaid:part`), if any."""
        metadata = self.catalog.get("/Metadata")
        if metadata is None:
            return None
        xmp = metadata.get_object().get_data().decode()
        marker = 'pdfuaid:part="'
        return xmp.split(marker, 1)[1].split('"', 1)[0] if marker in xmp else None

    def roles(self) -> list[str]:
        return self.tree.roles() if self.tree else []

    def find(self, role: str) -> list[StructElem]:
        return self.tree.find(role) if self.tree else []


def _element(node: Any) -> StructElem | None:
    """A StructElem dictionary as a tree; marked-content ids and annotation references (the leaves) are skipped."""
    node = node.get_object() if isinstance(node, IndirectObject) else node
    if not isinstance(node, DictionaryObject) or "/S" not in node:
        return None
    attributes = node.get("/A")
    element = StructElem(
        role=str(node["/S"]).lstrip("/"),
        alt=str(node["/Alt"]) if "/Alt" in node else None,
        attributes=dict(attributes.get_object()) if attributes is not None else {},
    )
    kids = node.get("/K")
    kids = kids.get_object() if isinstance(kids, IndirectObject) else kids
    for kid in kids if isinstance(kids, ArrayObject) else [kids] if kids is not None else []:
        child = _element(kid)
        if child is not None:
            element.children.append(child)
    return element


def read_tagged(content: bytes) -> TaggedPdf:
    reader = PdfReader(io.BytesIO(content))
    catalog = reader.trailer["/Root"].get_object()
    tree = None
    if "/StructTreeRoot" in catalog:
        root = catalog["/StructTreeRoot"].get_object()
        tree = StructElem(role="StructTreeRoot")
        kids = root.get("/K")
        kids = kids.get_object() if isinstance(kids, IndirectObject) else kids
        for kid in kids if isinstance(kids, ArrayObject) else [kids]:
            child = _element(kid)
            if child is not None:
                tree.children.append(child)
    info = {key: str(value) for key, value in (reader.metadata or {}).items()}
    return TaggedPdf(catalog=catalog, info=info, tree=tree)

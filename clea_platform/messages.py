"""The French catalogue (locale/fr/LC_MESSAGES): why it exists and how `make messages` rebuilds it.

Our msgids are already French, so the catalogue translates nothing: it is there for the plural rule. Without it
Django falls back to the English rule for msgids it does not know (n != 1: "0 tentatives"), and Django's own French
catalogue only decides for its own msgids. So every plural entry is filled with its own two forms, under the French
header (0 and 1 singular), and singular entries stay empty (gettext then returns the msgid). The catalogue is thus
a pure function of the source: rebuilding it is `makemessages`, then `catalogue_fill`, then `catalogue_compile`.
polib (a dev requirement) writes the .mo, so a machine without msgfmt can still compile.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

PLURAL_FORMS = "nplurals=2; plural=(n > 1);"


def catalogue_path(suffix: str = "po") -> Path:
    return Path(settings.LOCALE_PATHS[0]) / "fr" / "LC_MESSAGES" / f"django.{suffix}"


def catalogue_fill(po_path: Path) -> int:
    """Give every plural entry its own forms, clear what msgmerge guessed, set the French header.

    msgmerge marks a changed msgid "fuzzy" and copies the old text into it: a guess, never wanted here since the
    msgid is the text. Returns the number of plural entries.
    """
    import polib  # dev requirement: only `make messages` and the tests need it

    po = polib.pofile(str(po_path), wrapwidth=120)
    po.header = "French catalogue of the CléA platform: rebuilt by `make messages`, never edited by hand."
    po.metadata_is_fuzzy = False
    # Dates would change the file at every rebuild, and conflict at every merge.
    for key in ("POT-Creation-Date", "PO-Revision-Date", "Last-Translator", "Language-Team"):
        po.metadata.pop(key, None)
    po.metadata.update(
        {
            "Project-Id-Version": "clea_platform",
            "Language": "fr",
            "Content-Type": "text/plain; charset=UTF-8",
            "Plural-Forms": PLURAL_FORMS,
        }
    )
    plurals = 0
    for entry in po:
        entry.flags = [flag for flag in entry.flags if flag != "fuzzy"]
        entry.previous_msgid = entry.previous_msgid_plural = entry.previous_msgctxt = None
        if entry.msgid_plural:
            entry.msgstr_plural = {0: entry.msgid, 1: entry.msgid_plural}
            plurals += 1
        else:
            entry.msgstr = ""
    po.save(str(po_path))
    return plurals


def catalogue_compile(po_path: Path, mo_path: Path) -> None:
    import polib

    polib.pofile(str(po_path)).save_as_mofile(str(mo_path))

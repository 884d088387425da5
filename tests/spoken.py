"""What a screen reader reads of a page's HTML, roughly: elements hidden by aria-hidden="true" dropped, the other
tags removed, entities decoded and white space collapsed. For assertions on wording that decorative markers
(issue 15) would otherwise break: `"Planifiée vers Convoquée" in spoken(html)`."""

import html
import re

ARIA_HIDDEN = re.compile(r'<(\w+)\b[^>]*\baria-hidden="true"[^>]*>.*?</\1>', re.S)
TAG = re.compile(r"<[^>]+>")


def spoken(markup: str) -> str:
    text = TAG.sub("", ARIA_HIDDEN.sub("", markup))
    return re.sub(r"\s+", " ", html.unescape(text))

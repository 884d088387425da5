"""The dashboard's charts: for each, the table it draws (what the page shows beside it and what its CSV and XLSX
downloads hold, the same rows) and its SVG, drawn here on the server. The SVG is hidden from screen readers
(aria-hidden): the table beside it is the accessible version, with its caption."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from indicators.selectors import Dashboard

WIDTH = 640
BAR_HEIGHT, GAP, LABEL_WIDTH = 22, 8, 260
MONTHS_HEIGHT = 220


@dataclass
class Chart:
    key: str
    title: str
    headers: list[str]
    rows: list[list[Any]]
    svg: SafeString


def _bars(labels: list[str], values: list[float | None], unit: Callable[[float], str]) -> SafeString:
    """Horizontal bars, one per label, scaled to the largest value; no bar and a dash for no value."""
    texts = ["—" if v is None else unit(v) for v in values]
    lengths: list[float] = [v or 0 for v in values]
    top = max(lengths, default=0) or 1
    height = len(labels) * (BAR_HEIGHT + GAP) + GAP
    usable = WIDTH - LABEL_WIDTH - 70
    bars = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="end" class="chart__label">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="{}" class="chart__bar"></rect>'
        '<text x="{}" y="{}" class="chart__value">{}</text>',
        (
            (
                LABEL_WIDTH - 6,
                GAP + i * (BAR_HEIGHT + GAP) + BAR_HEIGHT * 0.7,
                label if len(label) <= 40 else label[:39] + "…",
                LABEL_WIDTH,
                GAP + i * (BAR_HEIGHT + GAP),
                f"{usable * value / top:.1f}",
                BAR_HEIGHT,
                LABEL_WIDTH + usable * value / top + 4,
                GAP + i * (BAR_HEIGHT + GAP) + BAR_HEIGHT * 0.7,
                text,
            )
            for i, (label, value, text) in enumerate(zip(labels, lengths, texts, strict=True))
        ),
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" aria-hidden="true" focusable="false">{}</svg>', WIDTH, height, bars
    )


def _columns(labels: list[str], series: list[tuple[str, list[int]]]) -> SafeString:
    """Columns per month, the second series drawn inside the first (certified among opened)."""
    top = max((v for _name, values in series for v in values), default=0) or 1
    count = max(len(labels), 1)
    step = (WIDTH - 40) / count
    plot = MONTHS_HEIGHT - 30
    parts = []
    for index, css in enumerate(("chart__bar", "chart__bar chart__bar--second")):
        if index >= len(series):
            break
        values = series[index][1]
        width = step * (0.8 if index == 0 else 0.5)
        offset = step * (0.1 if index == 0 else 0.25)
        parts.append(
            format_html_join(
                "",
                '<rect x="{}" y="{}" width="{}" height="{}" class="{}"></rect>',
                (
                    (
                        f"{30 + i * step + offset:.1f}",
                        f"{10 + plot - plot * v / top:.1f}",
                        f"{width:.1f}",
                        f"{plot * v / top:.1f}",
                        css,
                    )
                    for i, v in enumerate(values)
                ),
            )
        )
    # A label every year (January) keeps five years readable.
    ticks = format_html_join(
        "",
        '<text x="{}" y="{}" class="chart__label">{}</text>',
        (
            (f"{30 + i * step:.1f}", MONTHS_HEIGHT - 4, label)
            for i, label in enumerate(labels)
            if label.startswith("01/") or i == 0 or count <= 6
        ),
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" aria-hidden="true" focusable="false">{}{}<text x="0" y="14" '
        'class="chart__label">{}</text></svg>',
        WIDTH,
        MONTHS_HEIGHT,
        SafeString("".join(parts)),
        ticks,
        number_format(top),
    )


FUNNEL_LABELS = {
    "opened": gettext_lazy("Dossiers ouverts"),
    "prior": gettext_lazy("Évaluation préalable passée"),
    "full": gettext_lazy("… validée d'emblée (tous les domaines)"),
    "partial": gettext_lazy("… validée en partie"),
    "trained": gettext_lazy("Formation commencée"),
    "final": gettext_lazy("Évaluation finale"),
    "jury": gettext_lazy("Présentés au jury"),
    "certified": gettext_lazy("Certifiés"),
    "withdrawn": gettext_lazy("Abandons"),
    "expired": gettext_lazy("Délai de 5 ans expiré"),
}
DELAY_LABELS = {
    "days_to_prior": gettext_lazy("Ouverture → évaluation préalable"),
    "days_to_training": gettext_lazy("Évaluation préalable → formation"),
    "days_to_final": gettext_lazy("Début de formation → évaluation finale"),
    "days_to_jury": gettext_lazy("Dernière évaluation → jury"),
    "days_jury_to_certificate": gettext_lazy("Jury → certificat"),
    "days_to_certificate": gettext_lazy("Ouverture → certificat"),
}


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _days(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def charts(board: Dashboard) -> list[Chart]:
    opened = board.funnel["opened"]
    funnel_rows: list[list[Any]] = [
        [str(FUNNEL_LABELS[key]), n, _percent(n, opened)] for key, n in board.funnel.items()
    ]
    delay_rows: list[list[Any]] = [
        [str(DELAY_LABELS[d.key]), d.count, _days(d.median), _days(d.p90)] for d in board.delays
    ]
    prior = board.funnel["prior"]
    domain_rows: list[list[Any]] = [[code, title, n, _percent(n, prior)] for code, title, n in board.domains]
    subdomain_rows: list[list[Any]] = [[code, title, n, _percent(n, prior)] for code, title, n in board.subdomains]
    month_rows: list[list[Any]] = [[f"{month:%m/%Y}", o, c] for month, o, c in board.months]

    def days(v: float) -> str:
        return _("%(n)s j") % {"n": number_format(round(v))}

    def count(v: float) -> str:
        return number_format(int(v))

    return [
        Chart(
            "parcours",
            _("Le parcours, de l'ouverture au certificat"),
            [_("Étape atteinte"), _("Dossiers"), _("Part des dossiers ouverts (%)")],
            funnel_rows,
            _bars([r[0] for r in funnel_rows], [r[1] for r in funnel_rows], count),
        ),
        Chart(
            "delais",
            _("Délais entre les étapes (jours)"),
            [_("Entre"), _("Dossiers"), _("Médiane (jours)"), _("90e centile (jours)")],
            delay_rows,
            _bars([r[0] for r in delay_rows], [r[2] for r in delay_rows], days),
        ),
        Chart(
            "domaines",
            _("Domaines manquants à l'évaluation préalable"),
            [_("Domaine"), _("Intitulé"), _("Dossiers"), _("Part des évaluations préalables (%)")],
            domain_rows,
            _bars([f"{r[0]}. {r[1]}" for r in domain_rows], [r[2] for r in domain_rows], count),
        ),
        Chart(
            "sous-domaines",
            ngettext(
                "Le sous-domaine le plus souvent manquant",
                "Les %(n)s sous-domaines les plus souvent manquants",
                len(subdomain_rows),
            )
            % {"n": len(subdomain_rows)},
            [_("Sous-domaine"), _("Intitulé"), _("Dossiers"), _("Part des évaluations préalables (%)")],
            subdomain_rows,
            _bars([f"{r[0]} {r[1]}" for r in subdomain_rows], [r[2] for r in subdomain_rows], count),
        ),
        Chart(
            "mois",
            _("Dossiers ouverts par mois, et ceux d'entre eux certifiés depuis"),
            [_("Mois d'ouverture"), _("Ouverts"), _("Certifiés depuis")],
            month_rows,
            _columns(
                [r[0] for r in month_rows],
                [("opened", [r[1] for r in month_rows]), ("certified", [r[2] for r in month_rows])],
            ),
        ),
    ]


def month_label(month: datetime.date) -> str:
    return f"{month:%m/%Y}"

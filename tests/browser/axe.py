"""axe-core in a Playwright page (issue 15): inject the vendored script, run it on the whole document against the
WCAG 2.0 and 2.1 level A and AA rules, and return the violations in a form a failing test can print.

axe sees only what a rule can decide from the DOM (names, roles, contrast, structure); the keyboard, focus and
announcement checks of issue 15 are other tests' business.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE_JS = Path(__file__).parent / "vendor" / "axe.min.js"

WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """The page's violations of WCAG 2.0/2.1 A and AA, as axe reports them (id, impact, help, nodes)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the page's Content-Security-Policy does not govern: a
        # <script> tag with the file's text (add_script_tag) is inline code, and the policy refuses it.
        page.evaluate(AXE_JS.read_text())
    return page.evaluate(
        """tags => axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]})
            .then(results => results.violations.map(v => ({
              id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary || ""})),
            })))""",
        WCAG_A_AA,
    )


def describe(violations: list[dict[str, Any]], *, where: str, nodes_per_rule: int = 3) -> list[str]:
    """One line per violated rule, with the first elements concerned: readable in a failed assertion."""
    lines = []
    for violation in violations:
        targets = ", ".join(node["target"] for node in violation["nodes"][:nodes_per_rule])
        more = len(violation["nodes"]) - nodes_per_rule
        if more > 0:
            targets += f" (+{more})"
        lines.append(f"{where}: [{violation['impact']}] {violation['id']} – {violation['help']} – {targets}")
    return lines

"""axe-core in the browser tests: the engine's own script, as shipped inside the
``axe-playwright-python`` wheel (MIT wrapper; axe-core itself is MPL-2.0 and unchanged),
read from the installed package. Nothing is downloaded when the tests run.

The pages' Content-Security-Policy (``script-src 'self'``) forbids inline scripts, so the
engine is not added as a ``<script>`` element: Playwright's ``page.evaluate`` runs it
through the DevTools protocol, which the page's CSP does not govern. The policy itself
stays in force for the page's own scripts and is tested elsewhere
(``tests/browser/test_quick_exit.py``).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

# WCAG 2.0, 2.1 and 2.2 at levels A and AA (axe tags no 2.2 rule at level A).
WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = frozenset({"serious", "critical"})


@cache
def axe_source() -> str:
    return (resources.files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")


def run_axe(page: Any, tags: list[str] | None = None) -> list[dict[str, Any]]:
    """axe's violations on the page as it is now (its current DOM and styles)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        # A string ending in an expression, so evaluate does not take it for a function.
        page.evaluate(axe_source() + "\n;true")
    options = {
        "runOnly": {"type": "tag", "values": tags or WCAG_AA_TAGS},
        "resultTypes": ["violations"],
    }
    violations: list[dict[str, Any]] = page.evaluate(
        "options => axe.run(document, options).then(results => results.violations)", options
    )
    return violations


def blocking(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The violations that must not happen: serious and critical ones."""
    return [v for v in violations if v.get("impact") in BLOCKING]


def summary(violations: list[dict[str, Any]]) -> list[str]:
    """One line per violation: rule, impact, and the elements it names."""
    lines = []
    for violation in violations:
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
        lines.append(f"{violation['id']} ({violation['impact']}): {', '.join(targets)}")
    return lines


def report(violations: list[dict[str, Any]]) -> str:
    """Every violation, with the first failure message of each element it names."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} [{violation['impact']}] {violation['help']}")
        for node in violation["nodes"]:
            target = " ".join(map(str, node["target"]))
            reasons = [
                line.strip()
                for line in node.get("failureSummary", "").splitlines()
                if line.startswith(" ")
            ]
            lines.append(f"    {target}: {'; '.join(reasons)}")
    return "\n".join(lines) or "no violations"

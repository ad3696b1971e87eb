"""plotly.js and its style sheet, served from the installed plotly package (no CDN).

plotly.js adds its style rules (modebar, hover labels, notifier) to a ``<style>`` element it makes at run time,
which a Content Security Policy without inline styles refuses. It leaves them out where the page already holds
an element with the id ``plotly.js-style-global`` and the class ``no-inline-styles``: the pages link a style
sheet with those, made here from the same rules, read out of the installed plotly.min.js (the object literal
of selectors and declarations its style module walks), so that it matches the installed version. A bundled
library (maplibre) adds its own sheet the same way unless an element with that sheet's id exists: its rules
are in the style sheet too, and the pages hold an empty element with each such id (:func:`plotly_sheet_ids`).
"""

import ast
import re
from functools import cache
from pathlib import Path

import plotly

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
_STRING = r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'"
_RULE = re.compile(rf"({_STRING})\s*:\s*({_STRING})")
_RULES_START = '{"X,X div":'
_BUNDLED_SHEET = re.compile(
    r'if\(!document\.getElementById\("([\w-]+)"\)\)\{var (\w+)=document\.createElement\("style"\);'
    rf"\2\.id=\"\1\",\2\.textContent=({_STRING})"
)


@cache
def _bundled_sheets() -> tuple[tuple[str, str], ...]:
    """(id, CSS) of the style sheets plotly.js's bundled libraries add unless their id is taken."""
    text = PLOTLY_JS.read_text(encoding="utf-8")
    return tuple((m.group(1), ast.literal_eval(m.group(3))) for m in _BUNDLED_SHEET.finditer(text))


def plotly_sheet_ids() -> list[str]:
    """Ids the pages give empty elements, so that plotly.js adds no style element of its own."""
    return [sheet_id for sheet_id, _ in _bundled_sheets()]


@cache
def plotly_css() -> str:
    """plotly.js's global style rules as a style sheet (its selectors' X and Y placeholders filled as it
    fills them)."""
    text = PLOTLY_JS.read_text(encoding="utf-8")
    start = text.index(_RULES_START)
    end = text.index("};for(", start)
    rules = []
    for selector, declarations in _RULE.findall(text[start : end + 1]):
        selector = ast.literal_eval(selector)
        if selector.startswith(","):
            selector = " " + selector
        selector = selector.replace("X", ".js-plotly-plot .plotly").replace("Y", ".plotly-notifier")
        rules.append(f"{selector}{{{ast.literal_eval(declarations)}}}")
    if len(rules) < 20:
        raise RuntimeError(f"found only {len(rules)} style rules in {PLOTLY_JS}: has plotly.js changed?")
    return "\n".join(rules + [css for _, css in _bundled_sheets()]) + "\n"

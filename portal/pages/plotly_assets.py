"""plotly.js and its style sheet, served from the installed plotly package (no CDN).

plotly.js adds its style rules (modebar, hover labels, notifier) to a ``<style>`` element it makes at run time,
which a Content Security Policy without inline styles refuses. It leaves them out where the page already holds
an element with the id ``plotly.js-style-global`` and the class ``no-inline-styles``: the pages link a style
sheet with those, made here from the same rules, read out of the installed plotly.min.js (the object literal
of selectors and declarations its style module walks), so that it matches the installed version.
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
    return "\n".join(rules) + "\n"

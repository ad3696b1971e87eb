"""Plotly figures of the pages, built from plain data (the maths modules never import plotting).

Every builder returns a figure as a plotly JSON dict (``{"data": [...], "layout": {...}}``) rather than a
``plotly.graph_objects.Figure``: the object layer validates and deep-copies every array, which costs up to a
second on a diagram of a thousand entries, far over the pages' budget. The tests check every figure against
the graph-objects schema instead (``go.Figure(figure)``). ``figure_json`` turns a figure into JSON that is
safe inside a ``<script type="application/json">`` element, which ``portal.js`` hands to plotly.js."""

import math
from itertools import combinations

from django.utils.safestring import SafeString, mark_safe
from plotly.io.json import to_json_plotly

from hull.phase_diagrams import DiagramEntry, PhaseDiagramData

STABLE_COLOUR = "#1f4e9e"
NEW_COLOUR = "#d6336c"
HULL_COLOUR = "#2b2d42"
OLD_HULL_COLOUR = "#e07a1f"
CANDIDATE_COLOUR = "#0b8a5f"
UNSTABLE_SCALE = "YlOrRd"
_BARE_AXIS = {
    "showbackground": False,
    "showgrid": False,
    "zeroline": False,
    "showticklabels": False,
    "title": {"text": ""},
}
_BARE_SCENE = {"xaxis": _BARE_AXIS, "yaxis": _BARE_AXIS, "zaxis": _BARE_AXIS, "aspectmode": "data"}
_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


Figure = dict


def figure_json(fig: Figure) -> SafeString:
    return mark_safe(to_json_plotly(fig).translate(_ESCAPES))  # noqa: S308 - HTML-significant characters escaped


def _trace(kind: str, **properties) -> dict:
    return {"type": kind, **properties}


def _figure(traces) -> Figure:
    return {"data": traces if isinstance(traces, list) else [traces], "layout": {}}


def _layout(fig: Figure, **extra) -> Figure:
    layout = {
        "margin": {"l": 60, "r": 20, "t": 30, "b": 60},
        "paper_bgcolor": "#fff",
        "plot_bgcolor": "#fff",
        "font": {"family": "system-ui, sans-serif", "size": 13},
        "legend": {"orientation": "h", "y": -0.22, "yanchor": "top"},
    }
    fig["layout"].update({**layout, **extra})
    if not any(key in extra for key in ("scene", "ternary")):
        for axis in ("xaxis", "yaxis"):
            fig["layout"][axis] = {
                "gridcolor": "#e6e9ef",
                "zerolinecolor": "#c9ced8",
                **fig["layout"].get(axis, {}),
            }
    return fig


# --- phase diagrams ------------------------------------------------------------------------------

TETRAHEDRON = [
    (0.0, 0.0, 0.0),
    (1.0, 0.0, 0.0),
    (0.5, math.sqrt(3) / 2, 0.0),
    (0.5, math.sqrt(3) / 6, math.sqrt(6) / 3),
]


# Seen from the front, a little from the right and above, close enough that the tetrahedron fills the plot's
# height (plotly's default eye, 2.2 box widths away on the diagonal, leaves it a fifth of the box)
TETRAHEDRON_CAMERA = {"eye": {"x": 0.7, "y": -1.6, "z": 0.7}, "center": {"x": 0, "y": 0, "z": -0.1}}


def _position(entry: DiagramEntry, elements: list[str]) -> tuple:
    """Coordinates of an entry in the diagram of ``elements`` (2: x; 3: ternary a, b, c; 4: 3D)."""
    fractions = entry.fractions
    if len(elements) == 2:
        return (round(fractions.get(elements[1], 0.0), 6),)
    if len(elements) == 3:
        return tuple(round(fractions.get(el, 0.0), 6) for el in elements)
    f = [fractions.get(el, 0.0) for el in elements]
    return (
        round(f[1] * TETRAHEDRON[1][0] + f[2] * TETRAHEDRON[2][0] + f[3] * TETRAHEDRON[3][0], 6),
        round(f[2] * TETRAHEDRON[2][1] + f[3] * TETRAHEDRON[3][1], 6),
        round(f[3] * TETRAHEDRON[3][2], 6),
    )


ENERGY_UNIT = "eV/atom"  # the one unit of the diagram: hover, colour bar, tables and the cutoff slider
EHULL_TITLE = f"energy above hull ({ENERGY_UNIT})"


def _hover(entry: DiagramEntry) -> str:
    ef = "n/a" if entry.formation_energy_per_atom is None else f"{entry.formation_energy_per_atom:.3f}"
    eh = "n/a" if entry.e_above_hull is None else f"{entry.e_above_hull:.3f}"
    return (
        # no <b>: plotly draws it with a style attribute, which the Content Security Policy refuses
        f"{entry.reduced_formula} {entry.public_id}<br>formation energy {ef} {ENERGY_UNIT}"
        f"<br>above hull {eh} {ENERGY_UNIT}<br>{entry.method}"
        f"<br>stability: {entry.stability_source}"
    )


def new_stable_sources(entries: list[DiagramEntry], new_stable) -> str:
    """Who says the new stable phases are stable: "DFT", "predicted by CHGNet 0.3.0", ... (once each)."""
    return ", ".join(sorted({e.stability_source for e in entries if e.key in new_stable})) or "none"


def _points(
    entries: list[DiagramEntry], elements: list[str], *, name: str, marker: dict, ehull=False, labels=False
):
    """A scatter trace of the right kind with click data ``[public_id, e_above_hull]``; with ``labels``, each
    point carries its formula as text on the plot."""
    positions = [_position(e, elements) for e in entries]
    common = {
        "mode": "markers+text" if labels else "markers",
        "name": name,
        "hovertext": [_hover(e) for e in entries],
        "hovertemplate": "%{hovertext}<extra></extra>",
        "customdata": [[e.public_id, round(e.e_above_hull or 0.0, 5)] for e in entries],
        "marker": marker,
    }
    if labels:
        # elements label their corners already, beyond the binary diagram
        corner = len(elements) > 2
        common["text"] = [
            "" if corner and sum(f > 0 for f in e.fractions.values()) == 1 else e.reduced_formula
            for e in entries
        ]
        common["textposition"] = (
            "bottom center" if len(elements) == 2 else "top center"
        )  # binary: under the hull
        common["textfont"] = {"size": 12, "color": HULL_COLOUR}
    if ehull:
        common["marker"] = {**marker, "color": [e.e_above_hull for e in entries]}
    if len(elements) == 2:
        return _trace(
            "scatter", x=[p[0] for p in positions], y=[e.formation_energy_per_atom for e in entries], **common
        )
    if len(elements) == 3:
        return _trace(
            "scatterternary",
            a=[p[0] for p in positions],
            b=[p[1] for p in positions],
            c=[p[2] for p in positions],
            **common,
        )
    return _trace(
        "scatter3d",
        x=[p[0] for p in positions],
        y=[p[1] for p in positions],
        z=[p[2] for p in positions],
        **common,
    )


def _hull_lines(data: PhaseDiagramData, elements: list[str], *, name: str, colour: str, dash: str):
    by_key = {e.key: e for e in data.entries}
    if len(elements) == 2:
        stable = sorted(
            (e for e in data.stable if all(el in elements for el in e.fractions if e.fractions[el] > 0)),
            key=lambda e: _position(e, elements)[0],
        )
        return _trace(
            "scatter",
            x=[_position(e, elements)[0] for e in stable],
            y=[e.formation_energy_per_atom for e in stable],
            mode="lines",
            name=name,
            line={"color": colour, "dash": dash, "width": 2},
            hoverinfo="skip",
        )
    edges = sorted({pair for facet in data.facets for pair in combinations(sorted(facet), 2)})
    coords: list[list] = [[] for _ in range(3)]
    for a, b in edges:
        pa, pb = _position(by_key[a], elements), _position(by_key[b], elements)
        for axis in range(3):
            coords[axis].extend([pa[axis], pb[axis], None])
    line = {"color": colour, "dash": dash, "width": 1.5 if len(elements) == 3 else 3}
    if len(elements) == 3:
        return _trace(
            "scatterternary",
            a=coords[0],
            b=coords[1],
            c=coords[2],
            mode="lines",
            name=name,
            line=line,
            hoverinfo="skip",
        )
    return _trace(
        "scatter3d",
        x=coords[0],
        y=coords[1],
        z=coords[2],
        mode="lines",
        name=name,
        line=line,
        hoverinfo="skip",
    )


def _stars(entries: list[DiagramEntry], elements: list[str], *, name: str, colour: str, size: int) -> dict:
    """Entries pointed out: large labelled stars (diamonds in 3D, which has no star symbol)."""
    symbol = "star" if len(elements) != 4 else "diamond"
    return _points(
        entries, elements, name=name, marker={"size": size, "color": colour, "symbol": symbol}, labels=True
    )


def _candidate(entry: DiagramEntry, elements: list[str], size: int) -> dict:
    """The checked compound as a labelled star, with no material page to open (no click data)."""
    trace = _stars(
        [entry],
        elements,
        name=f"your compound ({entry.reduced_formula})",
        colour=CANDIDATE_COLOUR,
        size=size + 8,
    )
    del trace["customdata"]
    eh = "n/a" if entry.e_above_hull is None else f"{entry.e_above_hull:.3f}"
    trace["hovertext"] = [
        f"{entry.reduced_formula} (your compound)<br>formation energy {entry.formation_energy_per_atom:.3f} "
        f"{ENERGY_UNIT}<br>above hull {eh} {ENERGY_UNIT}"
    ]
    trace["text"] = [entry.reduced_formula]
    return trace


PLOT_SHARE = 0.88  # of the figure's width: the diagram; the colour bar and its title to the right
_BAR_STEPS = 64


def _colour_bar(marker: dict) -> dict:
    """The colour scale of the unstable entries as a bar of ``_BAR_STEPS`` coloured blocks on an axis of its own,
    titled with the unit, beside the diagram: plotly's own colour bar sets an inline style attribute, which the
    Content Security Policy refuses. The layout's axes and the bar's trace (under ``"trace"``)."""
    top = marker["cmax"]
    step = top / _BAR_STEPS
    values = [step * (i + 0.5) for i in range(_BAR_STEPS)]
    trace = _trace(
        "bar",
        x=["scale"] * _BAR_STEPS,
        y=[step] * _BAR_STEPS,
        base=[v - step / 2 for v in values],
        width=1,
        xaxis="x2",
        yaxis="y2",
        marker={
            "color": values,
            "colorscale": marker["colorscale"],
            "cmin": marker["cmin"],
            "cmax": top,
            "line": {"width": 0},
        },
        hoverinfo="skip",
        showlegend=False,
        name="colour bar",
        meta={"role": "colour-bar"},
    )
    return {
        "trace": trace,
        "barmode": "overlay",
        "xaxis2": {
            "domain": [PLOT_SHARE + 0.04, PLOT_SHARE + 0.065],
            "anchor": "y2",
            "visible": False,
            "fixedrange": True,
        },
        "yaxis2": {
            "domain": [0.1, 0.95],
            "anchor": "x2",
            "side": "right",
            "range": [0, top],
            "fixedrange": True,
            "showgrid": False,
            "zeroline": False,
            "ticks": "outside",
            "title": {"text": EHULL_TITLE},
        },
    }


def phase_diagram(
    data: PhaseDiagramData,
    *,
    previous: PhaseDiagramData | None = None,
    previous_label: str = "",
    new_stable: set[int] = frozenset(),
    candidate: DiagramEntry | None = None,
) -> Figure:
    """The diagram of a 2-, 3- or 4-element system: hull, stable and unstable entries (unstable coloured by
    energy above hull; the page filters them with its control), new stable phases and an earlier hull; a
    ``candidate`` (the stability check's compound, not in the catalogue) marked and labelled."""
    elements = data.elements
    if not 2 <= len(elements) <= 4:
        raise ValueError("diagrams are drawn for 2 to 4 elements")
    known = [e for e in data.entries if e.formation_energy_per_atom is not None]
    stable = [e for e in known if e.is_stable and e.key not in new_stable]
    unstable = [e for e in known if not e.is_stable]
    traces = []
    if previous is not None and not previous.missing_elements:
        traces.append(
            _hull_lines(
                previous, elements, name=f"hull {previous_label}", colour=OLD_HULL_COLOUR, dash="dash"
            )
        )
    if not data.missing_elements:
        traces.append(_hull_lines(data, elements, name="hull today", colour=HULL_COLOUR, dash="solid"))
    if len(elements) == 4:
        outline = [[], [], []]
        for a, b in combinations(TETRAHEDRON, 2):
            for axis in range(3):
                outline[axis].extend([a[axis], b[axis], None])
        traces.append(
            _trace(
                "scatter3d",
                x=outline[0],
                y=outline[1],
                z=outline[2],
                mode="lines",
                hoverinfo="skip",
                line={"color": "#999", "width": 2},
                showlegend=False,
                name="outline",
            )
        )
        traces.append(
            _trace(
                "scatter3d",
                x=[v[0] for v in TETRAHEDRON],
                y=[v[1] for v in TETRAHEDRON],
                z=[v[2] + 0.04 for v in TETRAHEDRON],
                mode="text",
                text=elements,
                hoverinfo="skip",
                textfont={"size": 16},
                showlegend=False,
                name="elements",
            )
        )
    size = 7 if len(elements) == 4 else 10
    # In 3D, marker outlines and open symbols cost a quarter of the drawing time (WebGL): plain markers there.
    outline = (
        (lambda width, colour: {})
        if len(elements) == 4
        else (lambda width, colour: {"line": {"width": width, "color": colour}})
    )
    unstable_trace = _points(
        unstable,
        elements,
        name="unstable (coloured by energy above hull)",
        ehull=True,
        marker={
            "size": size - 2,
            "symbol": "diamond",
            "colorscale": UNSTABLE_SCALE,
            "cmin": 0,
            "cmax": max([e.e_above_hull for e in unstable] + [0.05]),
            "opacity": 0.8,
            **outline(0.5, "#555"),
        },
    )
    unstable_trace["meta"] = {"role": "unstable"}
    traces.append(unstable_trace)
    traces.append(
        _points(
            stable,
            elements,
            name="stable",
            marker={"size": size, "color": STABLE_COLOUR, **outline(1, "#fff")},
            labels=True,
        )
    )
    if new_stable:
        traces.append(
            _stars(
                [e for e in known if e.key in new_stable],
                elements,
                name=f"new stable since {previous_label} ({new_stable_sources(known, new_stable)})",
                colour=NEW_COLOUR,
                size=size + 4,
            )
        )
    if candidate is not None:
        traces.append(_candidate(candidate, elements, size))
    bar = _colour_bar(unstable_trace["marker"]) if unstable else {}
    if bar:
        traces.append(bar.pop("trace"))
    fig = _figure(traces)
    plot_width = [0, PLOT_SHARE] if bar else [0, 1]
    if len(elements) == 2:
        return _layout(
            fig,
            height=480,
            xaxis={
                "title": {"text": f"x in {elements[0]}(1-x){elements[1]}(x)"},
                "range": [-0.02, 1.02],
                "domain": plot_width,
            },
            yaxis={"title": {"text": "formation energy (eV/atom)"}},
            uirevision=data.chemsys,
            **bar,
        )
    if len(elements) == 3:
        return _layout(
            fig,
            height=560,
            **bar,
            ternary={
                "domain": {"x": plot_width},
                "aaxis": {"title": {"text": elements[0]}, "showticklabels": False},
                "baxis": {"title": {"text": elements[1]}, "showticklabels": False},
                "caxis": {"title": {"text": elements[2]}, "showticklabels": False},
            },
            uirevision=data.chemsys,
        )
    return _layout(
        fig,
        height=640,
        scene={**_BARE_SCENE, "camera": TETRAHEDRON_CAMERA, "domain": {"x": plot_width}},
        **bar,
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        # the legend over the plot's top left corner: the whole height is the tetrahedron's
        legend={"orientation": "v", "x": 0, "y": 1, "bgcolor": "rgba(255,255,255,0.8)"},
        uirevision=data.chemsys,
    )

"""The material page's 3D view of a crystal structure: the cell's edges, atoms coloured by element from a
standard table, bonds drawn as two halves in the colours of their atoms (VESTA's style) and translucent
coordination polyhedra. Bonds and polyhedra are always in the figure: the page's choice says whether they show
at first, and a click on their legend entry shows or hides them without a reload."""

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from scipy.spatial import cKDTree

from hull.structure_bonds import Neighbour, Polyhedron, polyhedron_at
from hull.structure_tools import CellGeometry
from portal.pages.figures import _BARE_SCENE, Figure, _figure, _layout, _trace

CELL_COLOUR = "#555"
MISSING_COLOUR = "#ff1493"
BOND_WIDTH = 5
POLYHEDRON_OPACITY = 0.45
SAME_POINT = 0.01  # Å: a bond's far end on an atom drawn


def _shown(visible: bool) -> bool | str:
    return True if visible else "legendonly"


def _cell_trace(geometry: CellGeometry) -> dict:
    xs, ys, zs = [], [], []
    for start, end in geometry.edges:
        for axis, values in enumerate((xs, ys, zs)):
            values.extend([start[axis], end[axis], None])
    return _trace(
        "scatter3d",
        x=xs,
        y=ys,
        z=zs,
        mode="lines",
        line={"color": CELL_COLOUR, "width": 3},
        hoverinfo="skip",
        name="cell",
    )


def _atom_traces(geometry: CellGeometry, colours: dict[str, str]) -> list[dict]:
    traces = []
    for symbol in sorted(set(geometry.symbols)):
        picked = [i for i, s in enumerate(geometry.symbols) if s == symbol]
        traces.append(
            _trace(
                "scatter3d",
                x=[geometry.coords[i][0] for i in picked],
                y=[geometry.coords[i][1] for i in picked],
                z=[geometry.coords[i][2] for i in picked],
                mode="markers",
                name=symbol,
                text=[geometry.labels[i] for i in picked],
                hovertemplate="%{text}<br>%{x:.3f}, %{y:.3f}, %{z:.3f} Å<extra></extra>",
                marker={
                    "size": 9,
                    "color": colours.get(symbol, MISSING_COLOUR),
                    "line": {"color": "#333", "width": 1},
                },
            )
        )
    return traces


def _bond_traces(
    geometry: CellGeometry, neighbours: Sequence[Sequence[Neighbour]], colours: dict[str, str], visible: bool
) -> list[dict]:
    """One trace of half bonds per element (from each atom drawn to the middle of each bond to another atom
    drawn, so a bond shows in the colours of its two atoms), all in one legend group named "bonds". Bonds to
    atoms outside the cell are left out: they would stick out of the picture as loose ends."""
    starts, ends, symbols = [], [], []
    for position, symbol, site in zip(geometry.coords, geometry.symbols, geometry.sites, strict=True):
        for neighbour in neighbours[site]:
            starts.append(position)
            ends.append(neighbour.vector)
            symbols.append(symbol)
    halves: dict[str, list[list]] = defaultdict(lambda: [[], [], []])
    if starts:
        starts = np.array(starts, dtype=float)
        ends = starts + np.array(ends, dtype=float)
        on_atom = cKDTree(np.array(geometry.coords, dtype=float)).query(ends)[0] <= SAME_POINT
        middles = ((starts + ends) / 2).round(4)
        for start, middle, symbol in zip(
            starts[on_atom], middles[on_atom], np.array(symbols)[on_atom], strict=True
        ):
            for values, a, b in zip(halves[str(symbol)], start, middle, strict=True):
                values.extend([float(a), float(b), None])
    traces = []
    for symbol in sorted(halves):
        xs, ys, zs = halves[symbol]
        if not xs:
            continue
        traces.append(
            _trace(
                "scatter3d",
                x=xs,
                y=ys,
                z=zs,
                mode="lines",
                line={"color": colours.get(symbol, MISSING_COLOUR), "width": BOND_WIDTH},
                hoverinfo="skip",
                name="bonds",
                legendgroup="bonds",
                showlegend=not traces,
                visible=_shown(visible),
                meta={"role": "bonds", "element": symbol},
            )
        )
    return traces


def _polyhedra(geometry: CellGeometry, neighbours: Sequence[Sequence[Neighbour]]) -> list[Polyhedron]:
    found = (
        polyhedron_at(symbol, position, neighbours[site])
        for position, symbol, site in zip(geometry.coords, geometry.symbols, geometry.sites, strict=True)
    )
    return [polyhedron for polyhedron in found if polyhedron is not None]


def _polyhedron_traces(polyhedra: Sequence[Polyhedron], colours: dict[str, str], visible: bool) -> list[dict]:
    """One translucent mesh per centre element, all in one legend group named "polyhedra"."""
    by_centre: dict[str, list[Polyhedron]] = defaultdict(list)
    for polyhedron in polyhedra:
        by_centre[polyhedron.centre].append(polyhedron)
    traces = []
    for symbol in sorted(by_centre):
        vertices, faces = [], []
        for polyhedron in by_centre[symbol]:
            offset = len(vertices)
            vertices.extend(polyhedron.vertices)
            faces.extend(tuple(offset + v for v in face) for face in polyhedron.faces)
        traces.append(
            _trace(
                "mesh3d",
                x=[v[0] for v in vertices],
                y=[v[1] for v in vertices],
                z=[v[2] for v in vertices],
                i=[f[0] for f in faces],
                j=[f[1] for f in faces],
                k=[f[2] for f in faces],
                color=colours.get(symbol, MISSING_COLOUR),
                opacity=POLYHEDRON_OPACITY,
                flatshading=True,
                hoverinfo="skip",
                name="polyhedra",
                legendgroup="polyhedra",
                showlegend=not traces,
                visible=_shown(visible),
                meta={"role": "polyhedra", "element": symbol, "count": len(by_centre[symbol])},
            )
        )
    return traces


def structure_view(
    geometry: CellGeometry,
    colours: dict[str, str],
    *,
    neighbours: Sequence[Sequence[Neighbour]] = (),
    bonds: bool = False,
    polyhedra: bool = False,
) -> Figure:
    """Atoms as spheres coloured by element (one trace per element, so the legend names them) inside the
    cell's edges; with ``neighbours`` (per site of the structure), bonds and polyhedra too, shown at first as
    ``bonds`` and ``polyhedra`` say."""
    traces = [_cell_trace(geometry), *_atom_traces(geometry, colours)]
    if neighbours:
        traces += _bond_traces(geometry, neighbours, colours, bonds)
        traces += _polyhedron_traces(_polyhedra(geometry, neighbours), colours, polyhedra)
    return _layout(
        _figure(traces),
        height=420,
        scene=_BARE_SCENE,
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        uirevision="structure",
    )

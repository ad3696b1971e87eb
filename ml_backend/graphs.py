"""Crystal graphs: pymatgen ``Structure``/``Composition`` -> ``jraph.GraphsTuple``.

Structural graphs follow Merchant et al. (2023, Methods, "GNoME"): one node per atom
(one-hot over 94 elements), one directed edge for every ordered pair of atoms closer than
the cutoff (4 A) across all periodic images, and one global per graph. Each edge keeps its
integer image offset so the model recomputes edge vectors from positions and lattice::

    vector = positions[receiver] + offset @ lattice - positions[sender]

which lets the cell be strained or scaled (test-time augmentation) and differentiated.

Compositional graphs (the paper's composition model) have one node per element whose
one-hot is weighted by the element's atomic fraction, and edges between all pairs of nodes.

Node fields: ``species`` (int32, Z-1), ``weights`` (float32: 1 for atoms, the atomic fraction
for compositions), ``positions`` (float32, Cartesian A). Edge fields: ``offsets`` (float32
integer image vectors). Global fields: ``lattice`` (float32, rows are lattice vectors).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from functools import partial

import jraph
import numpy as np
from pymatgen.core import Composition, Structure
from pymatgen.optimization.neighbors import find_points_in_spheres

NUM_SPECIES = 94
DEFAULT_CUTOFF = 4.0
_NUMERICAL_TOL = 1e-8


def _species_indices(structure: Structure) -> np.ndarray:
    z = np.fromiter((sp.Z for sp in structure.species), dtype=np.int32, count=len(structure))
    if z.size and (z.min() < 1 or z.max() > NUM_SPECIES):
        raise ValueError(f"elements must have 1 <= Z <= {NUM_SPECIES}: {structure.composition}")
    return z - 1


def neighbor_edges(structure: Structure, cutoff: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed edges within ``cutoff`` over all periodic images (pymatgen's C neighbour list).

    Returns ``(senders, receivers, offsets)`` with ``offsets`` the integer image of the receiver.
    Self-pairs at zero distance are excluded; an atom's own periodic images are included.
    Calls the C routine behind ``Structure.get_neighbor_list`` directly (same result, less
    Python overhead per structure).
    """
    cart = np.ascontiguousarray(structure.cart_coords, dtype=float)
    centers, neighbors, images, distances = find_points_in_spheres(
        cart,
        cart,
        r=float(cutoff),
        pbc=np.ones(3, dtype=np.int64),
        lattice=np.ascontiguousarray(structure.lattice.matrix, dtype=float),
        tol=_NUMERICAL_TOL,
    )
    keep = ~((centers == neighbors) & (distances <= _NUMERICAL_TOL))
    return centers[keep].astype(np.int32), neighbors[keep].astype(np.int32), images[keep].astype(np.float32)


def structure_to_graph(structure: Structure, cutoff: float = DEFAULT_CUTOFF) -> jraph.GraphsTuple:
    """One structural graph (see the module docstring for the fields)."""
    senders, receivers, offsets = neighbor_edges(structure, cutoff)
    n = len(structure)
    return jraph.GraphsTuple(
        nodes={
            "species": _species_indices(structure),
            "weights": np.ones(n, dtype=np.float32),
            "positions": structure.cart_coords.astype(np.float32),
        },
        edges={"offsets": offsets},
        senders=senders,
        receivers=receivers,
        n_node=np.array([n], dtype=np.int32),
        n_edge=np.array([len(senders)], dtype=np.int32),
        globals={"lattice": structure.lattice.matrix.astype(np.float32)[None]},
    )


def composition_to_graph(composition: Composition | str) -> jraph.GraphsTuple:
    """One compositional graph: a node per element (sorted by Z), all ordered pairs as edges."""
    comp = Composition(composition).fractional_composition
    elements = sorted(comp.elements, key=lambda el: el.Z)
    n = len(elements)
    species = np.array([el.Z - 1 for el in elements], dtype=np.int32)
    if n and species.max() >= NUM_SPECIES:
        raise ValueError(f"elements must have Z <= {NUM_SPECIES}: {composition}")
    weights = np.array([comp[el] for el in elements], dtype=np.float32)
    pairs = np.array([(i, j) for i in range(n) for j in range(n) if i != j], dtype=np.int32).reshape(-1, 2)
    return jraph.GraphsTuple(
        nodes={"species": species, "weights": weights, "positions": np.zeros((n, 3), np.float32)},
        edges={"offsets": np.zeros((len(pairs), 3), np.float32)},
        senders=pairs[:, 0],
        receivers=pairs[:, 1],
        n_node=np.array([n], dtype=np.int32),
        n_edge=np.array([len(pairs)], dtype=np.int32),
        globals={"lattice": np.eye(3, dtype=np.float32)[None]},
    )


def build_graphs(
    structures: Sequence[Structure], cutoff: float = DEFAULT_CUTOFF, processes: int | None = None
) -> list[jraph.GraphsTuple]:
    """Structural graphs for many structures; ``processes`` > 1 uses a process pool (off by default)."""
    if processes and processes > 1 and len(structures) > 4 * processes:
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            return pool.map(partial(structure_to_graph, cutoff=cutoff), structures, chunksize=32)
    return [structure_to_graph(s, cutoff) for s in structures]


def build_composition_graphs(compositions: Sequence[Composition | str]) -> list[jraph.GraphsTuple]:
    """Compositional graphs for many compositions."""
    return [composition_to_graph(c) for c in compositions]


def graph_for_kind(kind: str, item: Structure | Composition | str, cutoff: float) -> jraph.GraphsTuple:
    """Structural graph for ``kind == "structural"``, else the composition's graph."""
    if kind == "structural":
        if not isinstance(item, Structure):
            raise TypeError("the structural model needs pymatgen Structures")
        return structure_to_graph(item, cutoff)
    comp = item.composition if isinstance(item, Structure) else item
    return composition_to_graph(comp)


def average_adjacency(graphs: Sequence[jraph.GraphsTuple]) -> float:
    """Mean number of incoming edges per node over a training set (paper: message normaliser)."""
    nodes = sum(int(g.n_node.sum()) for g in graphs)
    edges = sum(int(g.n_edge.sum()) for g in graphs)
    return max(edges / max(nodes, 1), 1.0)

"""Static-shape batching of crystal graphs (pattern of flax ``examples/ogbg_molpcba``).

XLA compiles one program per input shape, so graphs are packed into batches (first fit) and
padded with ``jraph.pad_with_graphs`` to one of a few fixed budgets (a "ladder": the full
budget and its halves). A whole training or inference run therefore compiles at most
``len(ladder)`` programs. Padded graphs are masked out of losses and metrics with
``jraph.get_graph_padding_mask``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Sequence

import jraph
import numpy as np


@dataclasses.dataclass(frozen=True, order=True)
class Budget:
    """Padded sizes of one batch (including the padding graph's node and the padding graph)."""

    n_node: int
    n_edge: int
    n_graph: int

    def fits(self, n_node: int, n_edge: int, n_graph: int) -> bool:
        # pad_with_graphs needs one spare node and one spare graph for the padding graph.
        return n_node < self.n_node and n_edge <= self.n_edge and n_graph < self.n_graph


@dataclasses.dataclass
class Batch:
    """A padded batch: graphs, per-graph targets (0 on padding) and the real-graph mask."""

    graphs: jraph.GraphsTuple
    targets: np.ndarray
    mask: np.ndarray
    indices: np.ndarray  # positions of the real graphs in the input list


@dataclasses.dataclass
class PaddingStats:
    """Accumulates real versus padded sizes; ``waste_percent`` is what padding costs."""

    real_nodes: int = 0
    real_edges: int = 0
    padded_nodes: int = 0
    padded_edges: int = 0
    batches: int = 0

    def add(self, real_nodes: int, real_edges: int, budget: Budget) -> None:
        self.real_nodes += real_nodes
        self.real_edges += real_edges
        self.padded_nodes += budget.n_node
        self.padded_edges += budget.n_edge
        self.batches += 1

    @property
    def node_waste_percent(self) -> float:
        return 100.0 * (1 - self.real_nodes / max(self.padded_nodes, 1))

    @property
    def edge_waste_percent(self) -> float:
        return 100.0 * (1 - self.real_edges / max(self.padded_edges, 1))


def _round_up(value: float, quantum: int) -> int:
    return int(math.ceil(value / quantum) * quantum)


#: Budgets are rounded up to a multiple of this: one budget is fixed per model (it is stored in the
#: checkpoint), so coarser rounding would only buy padding, not fewer compilations.
SIZE_QUANTUM = 16


def budget_ladder(
    graphs: Sequence[jraph.GraphsTuple], batch_size: int, num_rungs: int = 4, headroom: float = 1.0
) -> list[Budget]:
    """Budgets derived from the data: the largest holds ``batch_size`` average graphs.

    Nodes and edges are sized in the data's own ratio, so a batch packed against them fills both;
    the graph count may reach twice ``batch_size`` (padding graphs cost one global row each), so a
    run of small graphs is bound by nodes and edges, not by the count. Each lower rung halves the
    top one, for the last, partial batch of a run. Every rung holds the largest single graph, so any
    graph fits alone in any rung. Returned smallest first.
    """
    if not graphs:
        raise ValueError("need at least one graph to choose budgets")
    n_nodes = np.array([int(g.n_node.sum()) for g in graphs])
    n_edges = np.array([int(g.n_edge.sum()) for g in graphs])
    batch_size = max(1, min(batch_size, len(graphs)))
    rungs = []
    for level in range(num_rungs):
        size = max(1, batch_size // 2**level)
        node = _round_up(max(size * n_nodes.mean() * headroom, n_nodes.max()) + 1, SIZE_QUANTUM)
        edge = _round_up(max(size * n_edges.mean() * headroom, n_edges.max(), 1), SIZE_QUANTUM)
        rungs.append(Budget(n_node=node, n_edge=edge, n_graph=2 * size + 1))
        if size == 1:
            break
    return sorted(set(rungs))


def extend_ladder(ladder: Sequence[Budget], graph: jraph.GraphsTuple) -> list[Budget]:
    """Add a rung for a graph too large for every budget (a rare, new compilation)."""
    n, e = int(graph.n_node.sum()), int(graph.n_edge.sum())
    if any(b.fits(n, e, 1) for b in ladder):
        return list(ladder)
    top = max(ladder)
    return sorted(
        [
            *ladder,
            Budget(
                max(top.n_node, _round_up(n + 1, SIZE_QUANTUM)),
                max(top.n_edge, _round_up(e, SIZE_QUANTUM)),
                top.n_graph,
            ),
        ]
    )


def pack_indices(
    graphs: Sequence[jraph.GraphsTuple], order: Sequence[int], budget: Budget
) -> Iterator[list[int]]:
    """Group graph indices so each group fits ``budget``, first fit over the open groups.

    Graphs are taken in ``order`` (shuffled for training, largest first for inference) and each goes
    into the first open group with room for it, so small graphs fill the gaps that large ones leave
    (a plain greedy cut leaves each group's last gap empty). A group is closed once it is nearly full
    and then yielded; groups keep their members in ``order``.
    """
    open_groups: list[list] = []  # [indices, nodes, edges]
    smallest_nodes = smallest_edges = None
    for i in order:
        n, e = int(graphs[i].n_node.sum()), int(graphs[i].n_edge.sum())
        if not budget.fits(n, e, 1):
            raise ValueError(f"graph {i} ({n} nodes, {e} edges) does not fit {budget}")
        smallest_nodes = n if smallest_nodes is None else min(smallest_nodes, n)
        smallest_edges = e if smallest_edges is None else min(smallest_edges, e)
        for group in open_groups:
            if budget.fits(group[1] + n, group[2] + e, len(group[0]) + 1):
                group[0].append(i)
                group[1] += n
                group[2] += e
                break
        else:
            open_groups.append([[i], n, e])
        # Yield the groups no graph seen so far could still join.
        still_open = []
        for group in open_groups:
            if budget.fits(group[1] + smallest_nodes, group[2] + smallest_edges, len(group[0]) + 1):
                still_open.append(group)
            else:
                yield group[0]
        open_groups = still_open
    for group in open_groups:
        yield group[0]


def smallest_fitting(ladder: Sequence[Budget], graphs: jraph.GraphsTuple) -> Budget:
    n, e, g = int(graphs.n_node.sum()), int(graphs.n_edge.sum()), len(graphs.n_node)
    for budget in sorted(ladder):
        if budget.fits(n, e, g):
            return budget
    raise ValueError(f"batch of {g} graphs ({n} nodes, {e} edges) fits no budget in {ladder}")


def make_batch(
    graphs: Sequence[jraph.GraphsTuple],
    indices: Sequence[int],
    ladder: Sequence[Budget],
    targets: np.ndarray | None = None,
) -> tuple[Batch, Budget]:
    """Concatenate ``graphs[indices]`` and pad them to the smallest budget that fits."""
    batched = jraph.batch_np([graphs[i] for i in indices])
    budget = smallest_fitting(ladder, batched)
    padded = jraph.pad_with_graphs(batched, budget.n_node, budget.n_edge, budget.n_graph)
    mask = np.zeros(budget.n_graph, dtype=bool)
    mask[: len(indices)] = True
    padded_targets = np.zeros(budget.n_graph, dtype=np.float32)
    if targets is not None:
        padded_targets[: len(indices)] = np.asarray(targets, dtype=np.float32)[list(indices)]
    return Batch(padded, padded_targets, mask, np.asarray(indices, dtype=np.int64)), budget


def iterate_batches(
    graphs: Sequence[jraph.GraphsTuple],
    ladder: Sequence[Budget],
    targets: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
    stats: PaddingStats | None = None,
) -> Iterator[Batch]:
    """Padded batches over all graphs, shuffled when ``rng`` is given.

    Groups are packed against the largest budget; each is padded to the smallest budget
    that fits it (only the last, partial groups use the smaller rungs). Without ``rng`` the
    graphs are packed largest first (first fit decreasing), which leaves the least padding.
    """
    if rng is not None:
        order = rng.permutation(len(graphs))
    else:
        edges = np.array([int(g.n_edge.sum()) for g in graphs])
        order = np.argsort(-edges, kind="stable")
    for group in pack_indices(graphs, order, max(ladder)):
        batch, budget = make_batch(graphs, group, ladder, targets)
        if stats is not None:
            real_nodes = sum(int(graphs[i].n_node.sum()) for i in group)
            real_edges = sum(int(graphs[i].n_edge.sum()) for i in group)
            stats.add(real_nodes, real_edges, budget)
        yield batch

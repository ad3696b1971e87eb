"""GNoME graph networks in flax (Merchant et al., Nature 624, 80-85, 2023, Methods).

Both models share one block: node and edge embeddings to ``latent_size`` features, a global
feature connected to every node, ``num_message_passing_steps`` residual interaction steps made
of shallow MLPs with swish, edge-to-node messages summed and divided by the average adjacency
of the training set, and a linear readout of the global state to the standardised energy per
atom. The module un-standardises its output with the training mean and standard deviation it
was built with, so ``model.apply`` returns eV/atom.

- Structural model: edges carry Gaussian radial basis functions of interatomic distances that
  are computed *inside* the model from positions, lattice and integer image offsets, so the
  prediction is differentiable with respect to positions and cell and a scaled cell is exact.
- Compositional model: one node per element with its one-hot scaled by the atomic fraction,
  edges between all pairs of elements (constant edge inputs).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import jraph

from ml_backend.configs.base import Config, ModelConfig


@dataclasses.dataclass(frozen=True)
class Normalisation:
    """Statistics computed from the training set and stored with every checkpoint."""

    target_mean: float = 0.0
    target_std: float = 1.0
    avg_adjacency: float = 1.0


class MLP(nn.Module):
    """Shallow MLP with swish between layers (the paper's building block)."""

    features: Sequence[int]

    @nn.compact
    def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
        for i, width in enumerate(self.features):
            x = nn.Dense(width)(x)
            if i < len(self.features) - 1:
                x = nn.swish(x)
        return x


def edge_vectors(graphs: jraph.GraphsTuple) -> jnp.ndarray:
    """``pos[receiver] + offset @ lattice - pos[sender]`` for every edge (Cartesian A)."""
    positions = graphs.nodes["positions"]
    lattice = graphs.globals["lattice"]  # [n_graph, 3, 3]
    n_graph = graphs.n_node.shape[0]
    edge_graph = jnp.repeat(jnp.arange(n_graph), graphs.n_edge, total_repeat_length=graphs.senders.shape[0])
    shift = jnp.einsum("ei,eij->ej", graphs.edges["offsets"], lattice[edge_graph])
    return positions[graphs.receivers] + shift - positions[graphs.senders]


def safe_norm(vectors: jnp.ndarray) -> jnp.ndarray:
    """Euclidean norm with a finite gradient at zero (padding edges have zero length)."""
    squared = jnp.sum(vectors**2, axis=-1)
    nonzero = squared > 0
    return jnp.where(nonzero, jnp.sqrt(jnp.where(nonzero, squared, 1.0)), 0.0)


def gaussian_rbf(distances: jnp.ndarray, num_rbf: int, cutoff: float, width: float | None) -> jnp.ndarray:
    """Gaussian radial basis of distances, centres evenly spaced on [0, cutoff]."""
    centres = jnp.linspace(0.0, cutoff, num_rbf)
    width = width or cutoff / max(num_rbf - 1, 1)
    return jnp.exp(-(((distances[:, None] - centres[None, :]) / width) ** 2))


def normalisation_variables(normalisation: Normalisation) -> dict[str, jnp.ndarray]:
    """The ``"normalisation"`` variable collection: statistics as arrays, not compile-time constants,
    so one compiled program serves every model of a config (ensemble members, data subsets)."""
    return {k: jnp.float32(v) for k, v in dataclasses.asdict(normalisation).items()}


def model_variables(params, normalisation: Normalisation) -> dict:
    """Variables for ``model.apply``: trainable ``params`` plus the normalisation statistics."""
    return {"params": params, "normalisation": normalisation_variables(normalisation)}


class GNoMENetwork(nn.Module):
    """Graph network predicting energy per atom (eV/atom) for every graph of a batch.

    ``normalisation`` only provides the initial values of the ``"normalisation"`` collection;
    ``apply`` uses whatever statistics it is given (see :func:`model_variables`).
    """

    config: ModelConfig
    normalisation: Normalisation = Normalisation()

    def setup_sizes(self) -> tuple[int, list[int]]:
        width = self.config.latent_size
        return width, [width] * self.config.mlp_layers

    @nn.compact
    def __call__(self, graphs: jraph.GraphsTuple) -> jnp.ndarray:
        cfg = self.config
        width, mlp = self.setup_sizes()
        stats = {
            name: self.variable("normalisation", name, lambda v=value: jnp.float32(v)).value
            for name, value in dataclasses.asdict(self.normalisation).items()
        }
        n_graph = graphs.n_node.shape[0]
        n_total_nodes = graphs.nodes["species"].shape[0]
        node_graph = jnp.repeat(jnp.arange(n_graph), graphs.n_node, total_repeat_length=n_total_nodes)
        nodes_per_graph = jnp.maximum(graphs.n_node, 1).astype(jnp.float32)[:, None]

        one_hot = jax.nn.one_hot(graphs.nodes["species"], cfg.num_species) * graphs.nodes["weights"][:, None]
        nodes = nn.Dense(width, name="node_embedding")(one_hot)
        if cfg.kind == "structural":
            distances = safe_norm(edge_vectors(graphs))
            edge_inputs = gaussian_rbf(distances, cfg.num_rbf, cfg.cutoff, cfg.rbf_width)
        else:
            edge_inputs = jnp.ones((graphs.senders.shape[0], 1), jnp.float32)
        edges = nn.Dense(width, name="edge_embedding")(edge_inputs)
        globals_ = jnp.zeros((n_graph, width), jnp.float32) + self.param(
            "global_init", nn.initializers.zeros, (width,)
        )

        for step in range(cfg.num_message_passing_steps):
            edges, nodes, globals_ = InteractionBlock(mlp, name=f"block_{step}")(
                edges,
                nodes,
                globals_,
                graphs.senders,
                graphs.receivers,
                node_graph,
                nodes_per_graph,
                stats["avg_adjacency"],
            )

        standardised = nn.Dense(1, name="readout")(globals_)[:, 0]
        return standardised * stats["target_std"] + stats["target_mean"]


class InteractionBlock(nn.Module):
    """One message-passing step: edges, then nodes (with the global), then the global.

    Linear maps of sender/receiver nodes are applied per node before gathering, which equals a
    linear layer on the concatenated ``[edge, sender, receiver, global]`` at a fraction of the cost.
    """

    mlp: Sequence[int]

    @nn.compact
    def __call__(
        self, edges, nodes, globals_, senders, receivers, node_graph, nodes_per_graph, avg_adjacency
    ):
        width = self.mlp[-1]
        n_nodes = nodes.shape[0]
        edge_graph = node_graph[senders]

        pre = (
            nn.Dense(width, name="edge_in_edge")(edges)
            + nn.Dense(width, use_bias=False, name="edge_in_sender")(nodes)[senders]
            + nn.Dense(width, use_bias=False, name="edge_in_receiver")(nodes)[receivers]
            + nn.Dense(width, use_bias=False, name="edge_in_global")(globals_)[edge_graph]
        )
        edges = (
            edges + MLP(self.mlp[1:], name="edge_mlp")(nn.swish(pre)) if len(self.mlp) > 1 else edges + pre
        )

        messages = jax.ops.segment_sum(edges, receivers, num_segments=n_nodes) / avg_adjacency
        node_inputs = jnp.concatenate([nodes, messages, globals_[node_graph]], axis=-1)
        nodes = nodes + MLP(self.mlp, name="node_mlp")(node_inputs)

        node_mean = jax.ops.segment_sum(nodes, node_graph, num_segments=globals_.shape[0]) / nodes_per_graph
        globals_ = globals_ + MLP(self.mlp, name="global_mlp")(
            jnp.concatenate([globals_, node_mean], axis=-1)
        )
        return edges, nodes, globals_


def create_model(config: Config | ModelConfig, normalisation: Normalisation | None = None) -> GNoMENetwork:
    """The one factory: a structural or compositional GNoME network from its config."""
    model_config = config.model if isinstance(config, Config) else config
    if model_config.kind not in ("structural", "compositional"):
        raise ValueError(f"unknown model kind {model_config.kind!r}")
    return GNoMENetwork(config=model_config, normalisation=normalisation or Normalisation())

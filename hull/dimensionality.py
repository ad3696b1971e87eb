"""Structure dimensionality from one neighbour list per cell, with the labels of pymatgen's functions.

- ``cheon_label``: Cheon et al., Nano Lett. 17, 1915 (2017), as ``pymatgen.analysis.dimensionality.
  get_dimensionality_cheon`` computes it: atoms are bonded when some image among the 27 nearest cells
  (offsets -1, 0, 1 of the fractional coordinates as stored) lies closer than the sum of their Jmol radii
  plus the tolerance; the sizes of the bonded clusters of the conventional standard cell are compared with
  those of its 2x2x2 supercell (and, when the ratio is no power of two, of the 3x3x3 supercell of the
  structure as given). pymatgen builds each supercell and tests every pair of its atoms in Python; here the
  bonds of a supercell follow from the neighbour list of the cell (an atom of a k x k x k supercell is an
  atom of the cell plus an offset; a bond of the cell with image t joins the supercell atoms whose offsets
  differ by t modulo k, when the supercell image it needs is one of the 27), and the clusters are the
  connected components of a sparse graph.
- ``larsen_dimensionality``: Larsen et al., Phys. Rev. Materials 3, 034003 (2019), as
  ``get_dimensionality_larsen`` computes it on a bonded structure: the highest rank, over the connected
  components of the bond graph, of the lattice of periodic images of a site that its component reaches
  (one breadth-first search gives each site an image; every bond closing a cycle adds its image
  difference to the component's lattice). The bonds come from ``hull.crystal_nn`` (pymatgen's CrystalNN).

Pure numpy/scipy over pymatgen structures; no Django.
"""

from collections import deque
from functools import cache

import numpy as np
from pymatgen.core import Species, Structure
from pymatgen.optimization.neighbors import find_points_in_spheres
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

CHEON_TOLERANCE = 0.45  # Å, Cheon et al. 2017, pymatgen's default and the GNoME release's column

PBC = np.ones(3, dtype=np.int64)


@cache
def jmol_radii() -> dict[str, float]:
    """The bonding radii that ``get_dimensionality_cheon`` uses by default (``JmolNN().el_radius``)."""
    from pymatgen.analysis.local_env import JmolNN

    return dict(JmolNN().el_radius)


def _radius_keys(structure: Structure, radii: dict[str, float]) -> list[str]:
    """Each site's key into the radii, as pymatgen finds it (a charged species by its element)."""
    keys = []
    for species in map(str, structure.species):
        keys.append(species if species in radii else str(Species.from_str(species).element))
    return keys


def neighbour_list(
    frac: np.ndarray, matrix: np.ndarray, cutoff: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i, j, image t, distance) with site j shifted by t within ``cutoff`` of site i, every ordered
    pair, images relative to the fractional coordinates as given; the pair of a site with itself at t = 0
    left out."""
    cart = np.ascontiguousarray(frac @ matrix)
    centre, point, images, distances = find_points_in_spheres(
        cart, cart, float(cutoff), PBC, np.ascontiguousarray(matrix, dtype=float), tol=1e-8
    )
    images = np.rint(images).astype(np.int64)
    keep = ~((centre == point) & ~images.any(axis=1))
    return centre[keep].astype(np.int64), point[keep].astype(np.int64), images[keep], distances[keep]


def cheon_bonds(
    structure: Structure, tolerance: float, radii: dict[str, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cheon's bonds of a cell: (i, j, image t) with |f_j + t - f_i| < r_i + r_j + tolerance, the distance
    computed as pymatgen does (lattice matrix transposed times the fractional difference), and the
    fractional coordinates as stored."""
    frac = np.array(structure.frac_coords, dtype=float)
    matrix = np.array(structure.lattice.matrix, dtype=float)
    per_site = np.array([radii[key] for key in _radius_keys(structure, radii)], dtype=float)
    if not len(per_site):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros((0, 3), dtype=np.int64), frac
    i, j, t, _ = neighbour_list(frac, matrix, 2 * per_site.max() + tolerance + 0.01)
    diff = (frac[j] - (-t)) - frac[i]  # pymatgen's (fc[j] - n) - fc[i] with n = -t
    distance = np.linalg.norm(diff @ matrix, axis=1)
    bonded = distance < (per_site[i] + per_site[j]) + tolerance
    return i[bonded], j[bonded], t[bonded], frac


def supercell_cluster_sizes(
    n_sites: int, bonds: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], k: int
) -> tuple[int, int]:
    """(largest, smallest) bonded cluster of the k x k x k supercell, as pymatgen's ``find_clusters`` on
    ``find_connected_atoms`` of that supercell answers it: (0, 1) when an atom has no bond, (0, 0) for no
    atoms.

    Supercell atom (i, a) sits at f_i + p(i, a), p(i, a) = a - k floor((f_i + a) / k) (pymatgen folds the
    supercell's sites into it). A bond (i, j, t) of the cell joins (i, a) to (j, b) with b = (a + t) mod k
    when m = (p(i, a) + t - p(j, b)) / k, the supercell image it needs, lies in {-1, 0, 1}^3."""
    if n_sites == 0:
        return 0, 0
    i, j, t, frac = bonds
    offsets = np.array(np.meshgrid(*[np.arange(k)] * 3, indexing="ij")).reshape(3, -1).T  # (k^3, 3)
    cells = len(offsets)
    if k == 1:  # the cell itself: coordinates as stored
        p = np.zeros((len(frac), 1, 3), dtype=np.int64)
    else:
        p = offsets[None, :, :] - k * np.floor((frac[:, None, :] + offsets[None, :, :]) / k).astype(np.int64)
    cell_index = (offsets[:, 0] * k + offsets[:, 1]) * k + offsets[:, 2]
    a = np.repeat(np.arange(cells)[None, :], len(i), axis=0).ravel()
    ii = np.repeat(i, cells)
    jj = np.repeat(j, cells)
    tt = np.repeat(t, cells, axis=0)
    b_vec = np.mod(offsets[a] + tt, k)
    b = (b_vec[:, 0] * k + b_vec[:, 1]) * k + b_vec[:, 2]
    inverse = np.empty(cells, dtype=np.int64)
    inverse[cell_index] = np.arange(cells)
    b = inverse[b]
    k_m = p[ii, a] + tt - p[jj, b]  # k times the supercell image
    keep = (np.abs(k_m) <= k).all(axis=1) & ~((ii == jj) & (a == b))
    source = ii[keep] * cells + a[keep]
    target = jj[keep] * cells + b[keep]
    n_nodes = n_sites * cells
    degree = np.bincount(source, minlength=n_nodes) + np.bincount(target, minlength=n_nodes)
    if (degree == 0).any():
        return 0, 1
    graph = coo_matrix((np.ones(len(source)), (source, target)), shape=(n_nodes, n_nodes)).tocsr()
    _, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels)
    return int(sizes.max()), int(sizes.min())


def _cluster_sizes(
    structure: Structure, k: int, tolerance: float, radii: dict[str, float]
) -> tuple[int, int]:
    return supercell_cluster_sizes(len(structure), cheon_bonds(structure, tolerance, radii), k)


def cheon_label(structure: Structure, tolerance: float = CHEON_TOLERANCE) -> str | None:
    """The label of ``get_dimensionality_cheon(structure, tolerance)`` with its defaults (Jmol radii, the
    conventional standard cell, the 2x2x2 supercell first): "0D" to "3D", "intercalated ion",
    "intercalated molecule" or None; it raises where pymatgen does (a ratio of cluster sizes over a zero
    largest cluster)."""
    radii = jmol_radii()
    conventional = SpacegroupAnalyzer(structure).get_conventional_standard_structure()
    bonds = cheon_bonds(conventional, tolerance, radii)
    max1, min1 = supercell_cluster_sizes(len(conventional), bonds, 1)
    max2, min2 = supercell_cluster_sizes(len(conventional), bonds, 2)
    if min2 == 1:
        return "intercalated ion"
    if min2 == min1:
        return "0D" if max2 == max1 else "intercalated molecule"
    dim = np.log2(float(max2) / max1)
    if dim == int(dim):
        return f"{int(dim)}D"
    # pymatgen's fallback: the 3x3x3 supercell of the structure as given, not of the conventional cell
    max3, min3 = _cluster_sizes(structure, 3, tolerance, radii)
    if min3 == min2:
        return "0D" if max3 == max2 else "intercalated molecule"
    dim = np.log2(float(max3) / max1) / np.log2(3)
    if dim == int(dim):
        return f"{int(dim)}D"
    return None


def larsen_dimensionality(n_sites: int, i, j, t) -> int:
    """``get_dimensionality_larsen`` of the bond graph with edges (i, j, image t): the highest rank over
    its connected components of the image lattice that a component's cycles span (a lone site: 0)."""
    if n_sites == 0:
        raise ValueError("max() arg is an empty sequence")  # as pymatgen on an empty structure
    edges = list(
        zip(
            np.asarray(i).tolist(), np.asarray(j).tolist(), np.asarray(t).reshape(-1, 3).tolist(), strict=True
        )
    )
    adjacency: list[list[tuple[int, list[int]]]] = [[] for _ in range(n_sites)]
    for u, v, shift in edges:
        adjacency[u].append((v, shift))
        adjacency[v].append((u, [-x for x in shift]))
    component = [-1] * n_sites
    image: list[list[int]] = [[0, 0, 0]] * n_sites
    count = 0
    for root in range(n_sites):  # breadth-first: each site gets the image through which it was reached
        if component[root] >= 0:
            continue
        component[root] = count
        queue = deque([root])
        while queue:
            u = queue.popleft()
            for v, shift in adjacency[u]:
                if component[v] < 0:
                    component[v] = count
                    image[v] = [a + b for a, b in zip(image[u], shift, strict=True)]
                    queue.append(v)
        count += 1
    cycles: list[list[list[int]]] = [[] for _ in range(count)]
    for u, v, shift in edges:  # a bond whose ends' images differ from its own closes a periodic cycle
        vector = [a + b - c for a, b, c in zip(image[u], shift, image[v], strict=True)]
        if any(vector):
            cycles[component[u]].append(vector)
    return max(
        (int(np.linalg.matrix_rank(np.array(vectors, dtype=float))) for vectors in cycles if vectors),
        default=0,
    )


def edge_set(i, j, t) -> set[tuple[int, int, tuple[int, int, int]]]:
    """Bonds as pymatgen's StructureGraph stores them: (lower index, higher index, image of the higher
    seen from the lower), a bond of a site with its own image by its image with a positive first non-zero
    component; duplicates merged."""
    edges = set()
    for u, v, shift in zip(
        np.asarray(i).tolist(), np.asarray(j).tolist(), np.asarray(t).tolist(), strict=True
    ):
        shift = tuple(int(x) for x in shift)
        if u > v:
            u, v, shift = v, u, tuple(-x for x in shift)
        if u == v and next(x for x in shift if x) < 0:
            shift = tuple(-x for x in shift)
        edges.add((u, v, shift))
    return edges


def pymatgen_dimensionality(structure: Structure, tolerance: float = CHEON_TOLERANCE) -> dict:
    """pymatgen's answers, the reference of tests and benchmarks: ``get_dimensionality_cheon``'s label (or the
    exception's repr), ``get_dimensionality_larsen`` of ``CrystalNN().get_bonded_structure`` and its bonds
    (as ``edge_set``)."""
    import warnings

    from pymatgen.analysis.dimensionality import get_dimensionality_cheon, get_dimensionality_larsen
    from pymatgen.analysis.local_env import CrystalNN

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cheon = get_dimensionality_cheon(structure, tolerance=tolerance)
        except Exception as exc:
            cheon = repr(exc)
        graph = CrystalNN().get_bonded_structure(structure)
        bonds = {
            (u, v, tuple(int(x) for x in data["to_jimage"])) for u, v, data in graph.graph.edges(data=True)
        }
        return {"cheon": cheon, "larsen": int(get_dimensionality_larsen(graph)), "bonds": bonds}

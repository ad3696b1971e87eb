"""Compiled inner loops of the hull engine (numba): one call per step of a system's computation.

A chemical system holds a handful to a few hundred points, so array calls cost far more in
dispatch than in arithmetic; these kernels do each step of ``hull.engine.system`` in one
compiled call instead. The qhull call itself stays in ``hull.engine.geometry``. Every loop
runs in a fixed order, so a system's result depends only on its own inputs: a full build
and an incremental update compute each system bit for bit alike.

- ``algebra``: facet algebra (inverse vertex matrices, planes, canonical facet order) and the
  location of compositions in facets;
- ``inputs``: a system's formation energies, candidates and hull input points;
- ``construction``: hulls without qhull (beneath-beyond insertion, the proof that the result is
  the lower hull) and a system's hull in one call;
- ``thermo``: stable rows, decompositions, energies above hull and GNoME decomposition energies;
- ``rows``: a system's thermo as a row table, and the rows that changed since an earlier one.

Results of more than a few values are named tuples, and arrays that travel together are passed as one
(numba builds and unpacks them by name). The kernels called once per system from Python
(``construction.hull_of_system``, ``thermo.thermo_rows``) also take those arguments as plain tuples in
their fields' order and name them on entry: numba types a plain tuple of arrays in its compiled fast
path, a named tuple in Python (about 1 us per argument and call, several per cent of a build).
"""

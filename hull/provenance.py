"""Who says an entry is stable: defined once, used by every page, the REST API and OPTIMADE.

A DFT entry's stability is a DFT result ("DFT"); any other entry's (a machine-learned potential such as CHGNet,
whose error on hull distances is about 60 meV/atom on WBM) is a prediction, named with its evaluator and
version ("predicted by CHGNet 0.3.0"). No Django import.
"""

from typing import Any

DFT_LABEL = "DFT"


def stability_source(*, method: str, method_family: str) -> str:
    """``"DFT"`` for a DFT entry, else ``"predicted by <method>"`` (the method label carries the version)."""
    return DFT_LABEL if method_family == "dft" else f"predicted by {method or 'an unnamed evaluator'}"


def stability_source_of(entry: Any) -> str:
    """The label of an entry-like object or dict with ``method`` and ``method_family``."""
    get = entry.get if isinstance(entry, dict) else lambda name: getattr(entry, name, "")
    return stability_source(method=get("method") or "", method_family=get("method_family") or "")

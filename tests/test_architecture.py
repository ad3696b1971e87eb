"""The import graph of the first-party packages, read from the source (every ``import``, including those inside
functions and ``TYPE_CHECKING`` blocks): no import circle, and imports go one way only. ``portal`` (the site)
may import ``discovery`` and ``hull``; ``discovery`` may import ``hull`` and ``ml_backend``; ``hull`` imports
neither; ``ml_backend`` imports no Django and none of the site's packages."""

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("portal", "hull", "discovery", "ml_backend")

# What each package must not import (a top-level name, first-party or not).
FORBIDDEN = {
    "hull": {"discovery", "portal"},
    "discovery": {"portal"},
    "ml_backend": {"django", "hull", "discovery", "portal"},
}


def module_files() -> dict[str, Path]:
    """Module name -> file, for every ``.py`` file of the first-party packages."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def imported_names(name: str, path: Path) -> Iterator[str]:
    """The dotted names ``path`` imports, relative imports resolved; for ``from a import b``, both ``a`` and
    ``a.b`` (``b`` may be a module or a name in ``a``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """First-party module -> the first-party modules it imports; module -> every dotted name it imports."""
    modules = module_files()
    graph, names = {}, {}
    for name, path in modules.items():
        names[name] = set(imported_names(name, path))
        graph[name] = {target for target in names[name] if target in modules and target != name}
    return graph, names


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each as one circle through it."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(start: str) -> None:
        # iterative Tarjan: (node, iterator over its successors)
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(_circle_through(graph, component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _circle_through(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """One circle inside ``component``, from its first module back to it (breadth-first, shortest)."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    for node in queue:
        for successor in sorted(graph[node] & component):
            if successor == start:
                return [*paths[node], start]
            if successor not in paths:
                paths[successor] = [*paths[node], successor]
                queue.append(successor)
    raise AssertionError(f"no circle through {sorted(component)}")


def test_the_graph_is_read():
    graph, _ = import_graph()
    assert "hull.services.ingest" in graph["hull.tasks"]  # a top-level import
    assert "hull.services.features" in graph["hull.tasks"]  # one inside a function
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_import_circles():
    graph, _ = import_graph()
    found = circles(graph)
    assert not found, "import circles:\n" + "\n".join(" -> ".join(circle) for circle in found)


def test_imports_go_one_way():
    _, names = import_graph()
    wrong = [
        f"{module} imports {name}"
        for module, imported in sorted(names.items())
        for name in sorted(imported)
        if name.partition(".")[0] in FORBIDDEN.get(module.partition(".")[0], ())
    ]
    assert not wrong, "\n".join(wrong)

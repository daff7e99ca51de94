"""The import structure of the kmatrix package, read from its source.

Every import between kmatrix's modules stands at the top of a module (none
is deferred into a function, which would hide a cycle), and the modules
import each other without cycles. The twiddle algebra and the builders of
twiddles (constructors, transforms, sparse matrices, the file format) sit
below KMatrix: none of them reaches ``kmatrix._kmatrix``.
"""

import ast
from pathlib import Path

import pytest

# the source tree (an installed package holds no .pyx, and its compiled
# modules are not Python files: read the sources they are built from)
PACKAGE = Path(__file__).resolve().parent.parent / "kmatrix"
BELOW_KMATRIX = ("_algebra", "_constructors", "_transforms", "_sparse", "_io")


def _module_names():
    return {p.stem for p in PACKAGE.glob("*.py")} | {p.stem for p in PACKAGE.glob("*.pyx")}


def _imports(path, modules):
    """(imported kmatrix module, line, deferred) for every import in the file at path.

    A module is named by its file's stem, the package itself "__init__";
    ``deferred`` is True for an import inside a function.
    """
    found = []

    def target(level, module, name):
        # the kmatrix module that ``from <level dots><module> import <name>`` loads
        if level == 0:
            parts = (module or "").split(".")
            if parts[0] != "kmatrix":
                return None
            parts = parts[1:]
        elif level == 1:
            parts = module.split(".") if module else []
        else:
            return None
        if not parts:
            return name if name in modules else "__init__"
        return parts[0]

    def visit(node, deferred):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                mod = target(node.level, node.module, alias.name)
                if mod is not None:
                    found.append((mod, node.lineno, deferred))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                mod = target(0, alias.name, None)
                if mod is not None:
                    found.append((mod, node.lineno, deferred))
        inner = deferred or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(ast.parse(path.read_text(), filename=str(path)), False)
    return found


def _import_graph():
    modules = _module_names()
    edges = {}
    for path in sorted(PACKAGE.glob("*.py")):
        edges[path.stem] = _imports(path, modules)
    return edges


def _find_cycle(graph):
    """A cycle [a, b, ..., a] of the directed graph {node: successors}, or None."""
    state = {}  # 1: on the current path, 2: done
    path = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def _reachable(graph, start):
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        for nxt in graph.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_source_reader_sees_the_imports():
    graph = _import_graph()
    kmatrix = {mod for mod, _, _ in graph["_kmatrix"]}
    assert {"_algebra", "_constructors", "_io", "_kernels"} <= kmatrix
    assert {"_kmatrix", "_approximator"} <= {mod for mod, _, _ in graph["__init__"]}


def test_the_cycle_finder_finds_cycles():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"a"}}) == ["a", "a"]


def test_no_import_between_kmatrix_modules_is_deferred_into_a_function():
    deferred = [f"{name}.py:{line} imports {mod}"
                for name, found in _import_graph().items()
                for mod, line, is_deferred in found if is_deferred]
    assert deferred == []


def test_kmatrix_modules_import_each_other_without_cycles():
    graph = {name: {mod for mod, _, _ in found} for name, found in _import_graph().items()}
    assert _find_cycle(graph) is None, " -> ".join(_find_cycle(graph))


@pytest.mark.parametrize("module", BELOW_KMATRIX)
def test_algebra_and_builders_do_not_reach_kmatrix(module):
    graph = {name: {mod for mod, _, _ in found} for name, found in _import_graph().items()}
    assert "_kmatrix" not in _reachable(graph, module)

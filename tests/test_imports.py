"""The architecture of the kmatrix package, read from its source tree.

The package is layered (see ARCHITECTURE.md and each subpackage's
docstring): ``_core`` < ``_builders`` < ``_operator`` < ``_learning`` and
``_fitting`` (siblings) < ``_jobs`` < the package itself. A module imports
its own subpackage and the layers below it, never one above; every import
between kmatrix's modules stands at the top of a module (a deferred import
would hide a cycle); the modules import each other without cycles; the
layers above the operator reach it through ``kmatrix._operator`` (its
documented interface) and only the operator layer and the thread
configuration call the compiled kernels. Modules stay below ~600 lines and
functions below ~80 lines of code.
"""

import ast
from pathlib import Path

import pytest

# the source tree (an installed package holds no .pyx, and its compiled
# modules are not Python files: read the sources they are built from)
PACKAGE = Path(__file__).resolve().parent.parent / "kmatrix"

# rank of each layer: a module may import its own layer and lower ranks
LAYERS = {"_core": 0, "_builders": 1, "_operator": 2, "_learning": 3, "_fitting": 3,
          "_jobs": 4, "": 5}
# the only modules that call the compiled kernels directly
KERNEL_CALLERS = {"_core.config", "_core.losses", "_core.optimizers", "_operator.products"}
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def _source_files():
    return sorted(p for p in PACKAGE.rglob("*") if p.suffix in (".py", ".pyx"))


def _module_name(path):
    """'_core.config' for kmatrix/_core/config.py; '' for kmatrix/__init__.py."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer(module):
    head = module.split(".")[0]
    return head if head in LAYERS else ""


def _imports(path):
    """(imported kmatrix module, line, deferred) for every import in the file.

    The imported module is named as by :func:`_module_name`, resolving
    relative imports against the file's package, and down to a submodule
    when ``from package import submodule`` names one.
    """
    name = _module_name(path)
    package = name if path.stem == "__init__" else name.rpartition(".")[0]
    modules = {_module_name(p) for p in _source_files()}
    found = []

    def resolve(level, module):
        if level == 0:
            parts = (module or "").split(".")
            if parts[0] != "kmatrix":
                return None
            return ".".join(parts[1:])
        base = package.split(".") if package else []
        base = base[:len(base) - (level - 1)]
        return ".".join(base + ([module] if module else []))

    def visit(node, deferred):
        if isinstance(node, ast.ImportFrom):
            target = resolve(node.level, node.module)
            if target is not None:
                for alias in node.names:
                    sub = f"{target}.{alias.name}" if target else alias.name
                    found.append((sub if sub in modules else target, node.lineno, deferred))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                target = resolve(0, alias.name)
                if target is not None:
                    found.append((target, node.lineno, deferred))
        inner = deferred or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    if path.suffix == ".pyx":   # Cython: read its Python-level imports line by line
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            if line.startswith(("import ", "from ")) and "cimport" not in line:
                visit(ast.parse(line), False)
                found[-1:] = [(m, lineno, d) for m, _, d in found[-1:]]
        return found
    visit(ast.parse(path.read_text(), filename=str(path)), False)
    return found


def _import_graph():
    return {_module_name(p): _imports(p) for p in _source_files()}


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


def _edges():
    """(importer, imported, line) for every import between distinct modules."""
    return [(name, mod, line) for name, found in _import_graph().items()
            for mod, line, _ in found if mod != name]


def test_the_source_reader_sees_the_imports():
    graph = {name: {mod for mod, _, _ in found} for name, found in _import_graph().items()}
    assert {"_core.algebra", "_core.fileformat", "_operator.arithmetic"} <= graph["_operator.kmatrix"]
    assert "_operator" in graph["_fitting.approximator"]
    assert {"_operator", "_fitting.approximator"} <= graph[""]
    assert "_core.native" not in graph   # a .pxd declares, it is not a module
    assert "_core._kernels" in graph["_operator.products"]


def test_the_cycle_finder_finds_cycles():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"a"}}) == ["a", "a"]


def test_every_module_belongs_to_a_layer():
    assert {_layer(name) for name in _import_graph()} == set(LAYERS)


def test_no_import_between_kmatrix_modules_is_deferred_into_a_function():
    deferred = [f"{name}:{line} imports {mod}"
                for name, found in _import_graph().items()
                for mod, line, is_deferred in found if is_deferred]
    assert deferred == []


def test_kmatrix_modules_import_each_other_without_cycles():
    graph = {name: {mod for mod, _, _ in found} - {name} for name, found in _import_graph().items()}
    cycle = _find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_no_layer_imports_a_layer_above_or_a_sibling():
    wrong = [f"{a}:{line} imports {b}" for a, b, line in _edges()
             if _layer(a) != _layer(b)
             and LAYERS[_layer(b)] >= LAYERS[_layer(a)]]
    assert wrong == []


def test_layers_above_the_operator_use_its_package_interface():
    wrong = [f"{a}:{line} imports {b}" for a, b, line in _edges()
             if LAYERS[_layer(a)] > LAYERS["_operator"] and b.startswith("_operator.")]
    assert wrong == []


def test_one_path_to_the_compiled_kernels():
    callers = {a for a, b, _ in _edges() if b == "_core._kernels"}
    assert callers - {""} == KERNEL_CALLERS   # the package re-exports openmp_enabled


def test_every_subpackage_says_its_job_and_what_it_may_import():
    for sub in LAYERS:
        if not sub:
            continue
        doc = ast.get_docstring(ast.parse((PACKAGE / sub / "__init__.py").read_text()))
        assert doc and "Job:" in doc and "May import:" in doc, sub


@pytest.mark.parametrize("path", [p for p in _source_files() if p.suffix == ".py"],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_and_functions_stay_small(path):
    source = path.read_text()
    assert len(source.splitlines()) <= MAX_MODULE_LINES
    long = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines = node.end_lineno - node.lineno + 1
            first = node.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                lines -= first.end_lineno - first.lineno + 1   # the docstring
            if lines > MAX_FUNCTION_LINES:
                long.append(f"{node.name}: {lines} lines")
    assert long == []

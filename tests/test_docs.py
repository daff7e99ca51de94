"""The documentation runs: the Examples sections of the public docstrings print
what they say, every public name and member has the numpydoc sections of its
kind, every ```python block of README.md and every ``.. code-block:: python``
of the site's pages (docs/) runs on its own, and the API reference lists
every public name."""

import ast
import doctest
import importlib
import importlib.util
import inspect
import pathlib
import re
import textwrap

import pytest

def _package_modules():
    """Every Python module of the package (the compiled ones have no docstring examples)."""
    import pkgutil

    import kmatrix
    return sorted(info.name for info in pkgutil.walk_packages(kmatrix.__path__, "kmatrix.")
                  if not info.name.endswith(("._kernels", ".__main__")))


MODULES = _package_modules()

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"

# Packages that only an extra installs, and the extra (pyproject.toml's
# [project.optional-dependencies]). A README block importing one runs when it
# is installed and is skipped otherwise.
OPTIONAL = {"matplotlib": "examples", "dask": "dask", "distributed": "dask"}


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0



def _readme_blocks():
    """(first line number, text before the block, code) of each ```python block."""
    text = README.read_text(encoding="utf-8")
    blocks = []
    for match in re.finditer(r"^```python[ \t]*\n(.*?)^```[ \t]*$", text, re.M | re.S):
        line = text.count("\n", 0, match.start(1)) + 1
        before = text[:match.start()].rsplit("```", 1)[-1]   # back to the previous block
        blocks.append(pytest.param(line, before, match.group(1), id=f"README.md:{line}"))
    return blocks


def _imported_packages(code):
    """The top-level package names that ``code`` imports."""
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_readme_has_python_blocks():
    # the README keeps the tour; the guide's blocks run in the tests of docs/ below
    assert len(_readme_blocks()) >= 1


@pytest.mark.parametrize("line, before, code", _readme_blocks())
def test_readme_block_runs_alone(line, before, code, tmp_path, monkeypatch):
    """Each block runs in a fresh namespace (its own imports, no variable from
    an earlier block), in an empty working directory; a block that needs an
    extra says which, in the block or in the text just before it."""
    _run_block_alone(f"README.md:{line}", before, code, tmp_path, monkeypatch)


def _run_block_alone(where, before, code, tmp_path, monkeypatch):
    """Run a documentation block alone in tmp_path; skip it when an extra it
    imports is missing, fail when it does not name that extra."""
    extras = {OPTIONAL[name]: name for name in _imported_packages(code) if name in OPTIONAL}
    for extra in extras:
        assert f"kmatrix[{extra}]" in before + code, (
            f"{where} imports {extras[extra]} without naming "
            f'pip install "kmatrix[{extra}]" next to it')
    for extra, name in extras.items():
        if importlib.util.find_spec(name) is None:
            pytest.skip(f"{where} needs {name} (kmatrix[{extra}])")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, where, "exec"), {"__name__": "__docs__"})


# --------------------------------------------------------------------------
# numpydoc sections of the public API: every name of kmatrix.__all__ and every
# public method and property that kmatrix defines on a public class (on the
# class or a kmatrix mixin; what a class inherits from scikit-learn or SciPy
# is documented there).

def _public_objects():
    """(qualified name, object, kind) for every documented public object;
    kind is "class", "function" or "property"."""
    import kmatrix

    found = []
    for name in kmatrix.__all__:
        obj = getattr(kmatrix, name)
        if name == "__version__":
            continue
        if inspect.isclass(obj):
            found.append((name, obj, "class"))
            members = {}
            for klass in reversed(obj.__mro__):
                if not klass.__module__.startswith("kmatrix"):
                    continue
                for member, value in vars(klass).items():
                    if member.startswith("_"):
                        continue
                    if isinstance(value, property):
                        members[member] = (value, "property")
                    elif isinstance(value, (classmethod, staticmethod)):
                        members[member] = (value.__func__, "function")
                    elif (inspect.isroutine(value)
                          and getattr(value, "__module__", "").startswith("kmatrix")):
                        # (scikit-learn adds its own routines to a class's
                        # dict: the set_*_request methods of metadata routing)
                        members[member] = (value, "function")
            found.extend((f"{name}.{member}", value, kind)
                         for member, (value, kind) in sorted(members.items()))
        else:
            found.append((name, obj, "function"))
    return found


PUBLIC = _public_objects()


def _sections(doc):
    """The numpydoc section headers of a docstring (a title over a dashed line)."""
    doc = inspect.cleandoc(doc)
    return set(re.findall(r"^([A-Z][A-Za-z ]+)\n-{3,}[ \t]*$", doc, re.M))


def _takes_arguments(func):
    """Whether ``func`` takes arguments besides ``self`` / ``cls``."""
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):   # a compiled function without a signature
        return False
    if params and params[0].name in ("self", "cls"):
        params = params[1:]
    return bool(params)


def _raises_directly(func):
    """Whether the body of ``func`` has a ``raise`` statement of its own that
    a caller can see (not in a nested function, not a re-raise)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):   # compiled, or no source
        return False
    body = tree.body[0]
    stack = list(body.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, ast.Raise) and node.exc is not None:
            return True
        stack.extend(ast.iter_child_nodes(node))
    return False


def test_public_objects_found():
    names = {name for name, _, _ in PUBLIC}
    # a sample from each kind: the walk must reach mixin methods and properties
    assert {"KMatrix", "KMatrix.apply", "KMatrix.random", "KMatrix.T", "KMatrix.matvec",
            "Circuit.trace", "KMatrixRegressor.partial_fit", "KMatrixRandomFeatures.transform",
            "openmp_enabled", "set_workers"} <= names
    # inherited scikit-learn / scipy methods are not kmatrix's to document
    assert not {"KMatrixRegressor.score", "KMatrixOperator.matvec",
                "KMatrixApproximator.get_params"} & names


@pytest.mark.parametrize("name, obj, kind", PUBLIC, ids=[name for name, _, _ in PUBLIC])
def test_numpydoc_sections(name, obj, kind):
    """Examples everywhere; Parameters for a class; Parameters and Returns for
    a callable that takes arguments; Raises for a callable that raises."""
    doc = obj.__doc__
    assert doc and doc.strip(), f"{name} has no docstring"
    summary = inspect.cleandoc(doc).splitlines()[0]
    assert summary.strip(), f"{name}: the docstring must open with a one-line summary"
    sections = _sections(doc)
    required = {"Examples"}
    if kind == "class":
        required |= {"Parameters"}
    elif kind == "function":
        if _takes_arguments(obj):
            required |= {"Parameters", "Returns"}
        if _raises_directly(obj):
            required |= {"Raises"}
    missing = required - sections
    assert not missing, f"{name}: missing numpydoc section(s) {sorted(missing)}"
    assert ">>> " in doc, f"{name}: its Examples section has no doctest"


def _compiled_public_functions():
    """Public functions that the module walk of test_docstring_examples does
    not reach: those defined in a compiled module (Cython)."""
    return [pytest.param(obj, id=name) for name, obj, kind in PUBLIC
            if kind == "function" and "." not in name
            and obj.__module__ not in MODULES]


@pytest.mark.parametrize("func", _compiled_public_functions())
def test_compiled_docstring_examples(func):
    """The doctests of compiled public functions (openmp_enabled) run too."""
    parser = doctest.DocTestParser()
    test = parser.get_doctest(func.__doc__, {}, func.__name__, func.__module__, 0)
    assert test.examples, f"{func.__name__} has no doctest"
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


def test_compiled_functions_are_checked():
    assert "openmp_enabled" in [p.id for p in _compiled_public_functions()]


# --------------------------------------------------------------------------
# the documentation site

def test_api_reference_lists_every_public_name():
    import kmatrix

    listed = set(re.findall(r"^   (\w+)$", (DOCS / "api.rst").read_text(encoding="utf-8"), re.M))
    missing = set(kmatrix.__all__) - {"__version__"} - listed
    assert not missing, f"docs/api.rst does not list {sorted(missing)}"


def _site_blocks():
    """(file, line, text before, code) of each ``.. code-block:: python`` of docs/."""
    blocks = []
    for path in sorted(DOCS.glob("*.rst")) + sorted(DOCS.glob("user_guide/*.rst")):
        text = path.read_text(encoding="utf-8")
        pattern = r"^\.\. code-block:: python[ \t]*\n\n((?:(?:   .*)?\n)+)"
        for match in re.finditer(pattern, text, re.M):
            line = text.count("\n", 0, match.start(1)) + 1
            before = text[:match.start()].rsplit("code-block::", 1)[-1]
            code = textwrap.dedent(match.group(1))
            where = f"{path.relative_to(ROOT)}:{line}"
            blocks.append(pytest.param(where, before, code, id=where))
    return blocks


def test_site_has_python_blocks():
    assert len(_site_blocks()) >= 10


@pytest.mark.parametrize("where, before, code", _site_blocks())
def test_site_block_runs_alone(where, before, code, tmp_path, monkeypatch):
    """As the README's blocks: each alone, in an empty folder; one that needs
    an extra names it."""
    _run_block_alone(where, before, code, tmp_path, monkeypatch)


# ------------------------------------------------------ the set-up commands --
ROOT = README.parent


def _setup_lines():
    """The README's two set-up lines (the first ```bash block)."""
    block = re.search(r"^## Set up\n.*?^```bash\n(.*?)^```", README.read_text(encoding="utf-8"),
                      re.M | re.S).group(1)
    return [line.strip() for line in block.splitlines() if line.strip()]


def test_the_setup_lines_install_the_build_requirements_then_build_in_place():
    import shlex

    tomllib = pytest.importorskip("tomllib")   # Python >= 3.11

    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    demo, tests = _setup_lines()
    for line in (demo, tests):
        first, build = line.split(" && ")[:2]
        # the tools a --no-build-isolation build needs: pyproject's, and ninja
        assert shlex.split(first) == ["pip", "install", *requires, "ninja"]
        assert "--no-build-isolation" in build and "-Cbuild-dir=build" in build
    assert demo.endswith("python examples/quickstart.py")
    assert tests.endswith('".[test]" && pytest')


def test_ci_and_the_guide_run_the_readme_test_line():
    demo, tests = _setup_lines()
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if line.strip() and not line.startswith(("#", "set ", "cd "))]
    assert ci == [tests]
    guide = (ROOT / "docs" / "user_guide" / "install.rst").read_text()
    assert demo in guide and tests in guide


def test_one_command_builds_the_site_everywhere_it_is_given():
    command = ('pip install ".[docs]" && sphinx-build -W --keep-going -b html docs '
               'docs/_build/html')
    for path in (README, ROOT / "docs" / "user_guide" / "install.rst", ROOT / "docs" / "conf.py"):
        assert command in path.read_text(encoding="utf-8"), path

"""The documentation runs: the Examples sections of the public docstrings print
what they say, and every ```python block of README.md runs on its own."""

import ast
import doctest
import importlib
import importlib.util
import pathlib
import re

import pytest

def _package_modules():
    """Every Python module of the package (the compiled ones have no docstring examples)."""
    import pkgutil

    import kmatrix
    return sorted(info.name for info in pkgutil.walk_packages(kmatrix.__path__, "kmatrix.")
                  if not info.name.endswith(("._kernels", ".__main__")))


MODULES = _package_modules()

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"

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
    assert len(_readme_blocks()) >= 5


@pytest.mark.parametrize("line, before, code", _readme_blocks())
def test_readme_block_runs_alone(line, before, code, tmp_path, monkeypatch):
    """Each block runs in a fresh namespace (its own imports, no variable from
    an earlier block), in an empty working directory; a block that needs an
    extra says which, in the block or in the text just before it."""
    extras = {OPTIONAL[name]: name for name in _imported_packages(code) if name in OPTIONAL}
    for extra in extras:
        assert f"kmatrix[{extra}]" in before + code, (
            f"README.md:{line} imports {extras[extra]} without naming "
            f'pip install "kmatrix[{extra}]" next to it')
    for extra, name in extras.items():
        if importlib.util.find_spec(name) is None:
            pytest.skip(f"README.md:{line} needs {name} (kmatrix[{extra}])")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"README.md:{line}", "exec"), {"__name__": "__readme__"})

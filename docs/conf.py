"""Sphinx configuration of the kmatrix documentation site.

Build it (warnings are errors) from the repository root with::

    pip install ".[docs]" && sphinx-build -W --keep-going -b html docs docs/_build/html
"""

import os
import sys

import kmatrix

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # _api, _gallery

project = "kmatrix"
author = "the kmatrix developers"
copyright = "the kmatrix developers"
release = kmatrix.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip"]
templates_path = ["_templates"]
default_role = "code"

# -- API reference: autosummary pages of every name in kmatrix.__all__ -------
autosummary_generate = True
from _api import public_classes   # noqa: E402

autosummary_context = {"public_members": public_classes()}
autosummary_imported_members = True
autodoc_default_options = {"inherited-members": False}
autodoc_typehints = "none"
# numpydoc renders the sections; its class member tables would list the
# scikit-learn and scipy methods a class inherits, so the templates list the
# members instead
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- the gallery: examples/ ----------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # the plot_*.py examples run (at reduced sizes, see _gallery.py); the
    # others are shown with their code, not run: they time products for
    # minutes and print tables (run them yourself, see each one's usage)
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"(__init__|_timing)\.py",
    "reset_argv": "_gallery.reset_argv",
    "doc_module": ("kmatrix",),
    "backreferences_dir": "generated/backreferences",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 1,
    "abort_on_example_error": True,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
}

# -- HTML ---------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"kmatrix {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path = []
html_show_sourcelink = False

myst_heading_anchors = 3
suppress_warnings = []


def setup(app):
    # The examples' docstrings open with a one-paragraph summary, not a
    # reStructuredText title; the gallery page of each gets that paragraph
    # as its title (the examples are scripts first and are not edited for it).
    from _gallery import title_example_pages
    app.connect("source-read", title_example_pages)

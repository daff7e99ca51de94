"""Helpers of the sphinx-gallery configuration (docs/conf.py).

``reset_argv`` gives the executed examples their command-line arguments:
sizes small enough for the site to build in a few minutes on two cores
(the figures quoted in the user guide come from the scripts' default
arguments, run by hand), and an output file outside the source tree.
"""

import os
import re
import tempfile

# sizes chosen so that each example runs in well under a minute on 2 cores
_ARGS = {
    "plot_approximation.py": ["--n", "128", "--speed-n", "0"],
    "plot_regressor_vs_dense.py": ["--n", "128", "--train-sizes", "150,600"],
    "plot_random_features.py": ["--size", "16", "--components", "64,256,1024",
                                "--projections", "16,64,128", "--repeat", "3"],
    "plot_scrambled_digits.py": ["--hidden", "256", "--side", "16", "--train-sizes", "100,300"],
    "plot_structured_teacher.py": ["--n", "64", "--samples", "1000", "--max-iter", "200",
                                   "--train-sizes", "500,1000"],
    "plot_toeplitz_preconditioner.py": ["--n", "4096"],
}


def reset_argv(gallery_conf, script_vars):
    """The arguments an executed example runs with (sys.argv[1:])."""
    name = os.path.basename(script_vars["src_file"])
    output = os.path.join(tempfile.gettempdir(), "kmatrix-docs-" + name.replace(".py", ".png"))
    return [*_ARGS.get(name, []), "--output", output]


_LABEL = re.compile(r"^\.\. _sphx_glr_auto_examples_\w+\.py:[ \t]*\n\n", re.M)


def title_example_pages(app, docname, source):
    """Make the first paragraph of a gallery page its title, when it has none.

    sphinx-gallery writes an example's docstring after the page's label
    (``.. _sphx_glr_auto_examples_NAME.py:``); the examples' docstrings
    open with a one-paragraph summary, not a reStructuredText title.
    """
    if not docname.startswith("auto_examples/"):
        return
    text = source[0]
    match = _LABEL.search(text)
    if match is None:
        return
    first, sep, after = text[match.end():].partition("\n\n")
    lines = first.splitlines()
    if len(lines) >= 2 and re.fullmatch(r"([=\-~^\"'`#*+])\1{2,}", lines[1].strip()):
        return   # already a title
    title = " ".join(line.strip() for line in lines)
    source[0] = f"{text[:match.end()]}{title}\n{'=' * len(title)}{sep}{after}"

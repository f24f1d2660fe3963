"""Sphinx configuration for the unigen docs (built with warnings as errors)."""

import ast
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from unigen import __version__  # noqa: E402

project = "unigen"
author = "the unigen developers"
copyright = "2026, the unigen developers"
release = version = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]
autodoc_member_order = "bysource"
autodoc_typehints = "none"
autodoc_default_options = {"show-inheritance": False}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# Keras base-class docstrings are not ours to fix; document only our members.
autodoc_inherit_docstrings = False
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path = ["_static"]
suppress_warnings = ["config.cache"]


def _output_section(stem):
    """What the example produced at its smoke budget: the files that
    ``python docs/make_gallery.py`` keeps under docs/_static/examples/<stem>/."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import make_gallery

    files = make_gallery.outputs(stem)
    lines = ["Output", "------", ""]
    if not files:
        print(f"docs: examples/{stem}.py has no committed output; run "
              f"`python docs/make_gallery.py {stem}` and commit docs/_static/examples/{stem}/")
        return [*lines, f"No output committed yet: run ``python docs/make_gallery.py "
                        f"{stem}``.", ""]
    lines += [f"Produced by ``python examples/{stem}.py --smoke`` (a seconds-long budget: "
              f"the full run's outputs are better).", ""]
    for name in files:
        path = f"/_static/examples/{stem}/{name}"
        if name.endswith(".png"):
            lines += [f"``{name}``:", "", f".. image:: {path}", f"   :alt: {name}", ""]
        elif name == make_gallery.OUTPUT:
            lines += ["Printed:", "", f".. literalinclude:: ..{path}", "   :language: text", ""]
        else:
            lines += [f"``{name}``:", "", f".. literalinclude:: ..{path}",
                      "   :language: " + ("json" if name.endswith(".json") else "text"), ""]
    return lines


def _examples_gallery(app):
    """Writes docs/examples/: one page per script in examples/, from its header."""
    source = os.path.join(ROOT, "examples")
    target = os.path.join(app.srcdir, "examples")
    os.makedirs(target, exist_ok=True)
    entries = []
    for name in sorted(os.listdir(source)):
        if not name.endswith(".py") or name.startswith("_"):
            continue
        with open(os.path.join(source, name)) as f:
            doc = ast.get_docstring(ast.parse(f.read())) or ""
        stem = name[:-3]
        title = doc.strip().splitlines()[0] if doc.strip() else stem
        body = "\n".join(doc.strip().splitlines()[1:]).strip()
        page = [
            title, "=" * len(title), "",
            f"Script: ``examples/{name}``. Run it with ``python examples/{name}`` "
            f"(add ``--smoke`` for a seconds-long check).", "",
            "::", "",
            *("    " + line for line in body.splitlines()), "",
            *_output_section(stem),
            "Source", "------", "",
            f".. literalinclude:: ../../examples/{name}", "   :language: python", "",
        ]
        with open(os.path.join(target, f"{stem}.rst"), "w") as f:
            f.write("\n".join(page))
        entries.append(stem)
    index = ["Examples", "========", "",
             "Every script in ``examples/`` is a plain program with a ``--smoke`` flag",
             "that the test suite runs.", "", ".. toctree::", "   :maxdepth: 1", ""]
    index += [f"   {stem}" for stem in entries]
    with open(os.path.join(target, "index.rst"), "w") as f:
        f.write("\n".join(index) + "\n")


def setup(app):
    app.connect("builder-inited", _examples_gallery)

"""The docs gallery shows every example's output (docs/make_gallery.py)."""

import os
import sys
import types

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "docs"))

import make_gallery


def test_every_example_has_committed_outputs_that_its_page_shows(tmp_path):
    import conf

    missing = [n for n in make_gallery.example_names() if not any(
        f.endswith(".png") for f in make_gallery.outputs(n))
        or make_gallery.OUTPUT not in make_gallery.outputs(n)]
    assert not missing, (f"examples without committed outputs: {missing}; run "
                         f"`python docs/make_gallery.py {' '.join(missing)}` and commit "
                         f"docs/_static/examples/")
    conf._examples_gallery(types.SimpleNamespace(srcdir=str(tmp_path)))
    for name in make_gallery.example_names():
        page = (tmp_path / "examples" / f"{name}.rst").read_text()
        for file in make_gallery.outputs(name):
            assert f"_static/examples/{name}/{file}" in page, (name, file)


def test_make_gallery_regenerates_an_example(tmp_path):
    files = make_gallery.run_example("realnvp_two_moons", gallery=str(tmp_path), timeout=300)
    assert make_gallery.OUTPUT in files and any(f.endswith(".png") for f in files)
    assert (tmp_path / "realnvp_two_moons" / make_gallery.OUTPUT).read_text().strip()

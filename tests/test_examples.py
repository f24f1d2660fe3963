"""Every script in examples/ runs with --smoke and says what it shows."""

import ast
import json
import os

import pytest
from conftest import ROOT, run_python

EXAMPLES = sorted(
    name for name in os.listdir(os.path.join(ROOT, "examples"))
    if name.endswith(".py") and not name.startswith("_")
)


def test_there_are_examples():
    assert "quickstart.py" in EXAMPLES


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory):
    """Every example run once with --smoke, all in one fresh process (`_job_examples`)."""
    out = tmp_path_factory.mktemp("examples")
    results = out / "results.json"
    run_python([os.path.join(ROOT, "tests", "_job_examples.py"), str(out), str(results),
                *[os.path.join(ROOT, "examples", name) for name in EXAMPLES]], timeout=900)
    with open(results) as f:
        return json.load(f), out


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_has_a_header_and_runs_with_smoke(name, smoke_runs):
    path = os.path.join(ROOT, "examples", name)
    with open(path) as f:
        doc = ast.get_docstring(ast.parse(f.read()))
    assert doc and len(doc.splitlines()) >= 2, f"{name} needs a header docstring"
    assert "--smoke" in open(path).read()
    results, out = smoke_runs
    assert results[name]["ok"], f"{name} --smoke failed:\n{results[name]['error']}"
    assert os.path.isdir(out / name[:-3]) and os.listdir(out / name[:-3]), (
        f"{name} --smoke --out DIR wrote nothing into DIR")


def test_an_example_that_fails_is_reported_with_its_traceback(tmp_path):
    # The shared runner must not hide a failing example behind the others.
    bad, good = tmp_path / "bad.py", tmp_path / "good.py"
    bad.write_text("raise RuntimeError('broken example')\n")
    good.write_text("import sys, os\nos.makedirs(sys.argv[-1])\n")
    results = tmp_path / "results.json"
    run_python([os.path.join(ROOT, "tests", "_job_examples.py"), str(tmp_path / "out"),
                str(results), str(bad), str(good)])
    with open(results) as f:
        got = json.load(f)
    assert not got["bad.py"]["ok"] and "RuntimeError: broken example" in got["bad.py"]["error"]
    assert got["good.py"]["ok"] and os.path.isdir(tmp_path / "out" / "good")

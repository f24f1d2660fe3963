"""Every script in examples/ runs with --smoke and says what it shows."""

import ast
import os

import pytest
from conftest import ROOT, run_python

EXAMPLES = sorted(
    name for name in os.listdir(os.path.join(ROOT, "examples"))
    if name.endswith(".py") and not name.startswith("_")
)


def test_there_are_examples():
    assert "quickstart.py" in EXAMPLES


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_has_a_header_and_runs_with_smoke(name, tmp_path):
    path = os.path.join(ROOT, "examples", name)
    with open(path) as f:
        doc = ast.get_docstring(ast.parse(f.read()))
    assert doc and len(doc.splitlines()) >= 2, f"{name} needs a header docstring"
    assert "--smoke" in open(path).read()
    run_python([path, "--smoke", "--out", str(tmp_path / "out")], timeout=600)

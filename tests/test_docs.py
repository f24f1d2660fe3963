"""The docs build with warnings as errors, and the README's code runs."""

import os
import re

from conftest import ROOT, run_python


def test_docs_build_without_warnings(tmp_path):
    run_python(["-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                os.path.join(ROOT, "docs"), str(tmp_path / "html")], timeout=600)
    assert (tmp_path / "html" / "index.html").exists()
    assert (tmp_path / "html" / "examples" / "quickstart.html").exists()
    assert (tmp_path / "html" / "api" / "core.html").exists()


def test_readme_quick_start_runs(tmp_path):
    with open(os.path.join(ROOT, "README.md")) as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
    assert blocks, "README.md has no python block"
    script = tmp_path / "quickstart.py"
    script.write_text(blocks[0])
    run_python([str(script)], timeout=600, cwd=str(tmp_path))
    assert (tmp_path / "runs" / "gauss" / "model.keras").exists()


def test_ci_runs_the_readme_test_command():
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    with open(os.path.join(ROOT, ".ci", "run")) as f:
        ci = f.read()
    command = 'pip install -e ".[test]" && ruff check . && python -m pytest -q'
    assert command in readme and command in ci


def test_claims_page_names_existing_tests():
    # docs/theory/claims.rst maps the lecture notes' claims to tests: every
    # ``tests/FILE.py::name`` it cites must exist, so that the page cannot rot.
    with open(os.path.join(ROOT, "docs", "theory", "claims.rst"), encoding="utf-8") as f:
        page = f.read()
    cited = set(re.findall(r"(tests/[\w/]+\.py)::(\w+)", page))
    assert len(cited) >= 40, sorted(cited)
    missing = []
    for path, name in sorted(cited):
        full = os.path.join(ROOT, path)
        if not os.path.exists(full):
            missing.append(f"{path} (no such file)")
            continue
        with open(full, encoding="utf-8") as f:
            if not re.search(rf"^def {name}\(", f.read(), re.M):
                missing.append(f"{path}::{name}")
    assert not missing, "docs/theory/claims.rst cites tests that do not exist: " + ", ".join(
        missing)

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


def _cited_tests(text):
    """``(path, name or None)`` for every ``tests/FILE.py[::name]`` a page cites."""
    return set(re.findall(r"(tests/[\w/]+\.py)(?:::(\w+))?", text))


def _missing(cited):
    missing = []
    for path, name in sorted(cited, key=lambda c: (c[0], c[1] or "")):
        full = os.path.join(ROOT, path)
        if not os.path.exists(full):
            missing.append(f"{path} (no such file)")
            continue
        with open(full, encoding="utf-8") as f:
            if name and not re.search(rf"^(async )?def {name}\(", f.read(), re.M):
                missing.append(f"{path}::{name}")
    return missing


def test_claims_page_names_existing_tests():
    # docs/theory/claims.rst maps the lecture notes' claims to tests: every
    # ``tests/FILE.py::name`` it cites must exist, so that the page cannot rot.
    with open(os.path.join(ROOT, "docs", "theory", "claims.rst"), encoding="utf-8") as f:
        cited = {c for c in _cited_tests(f.read()) if c[1]}
    assert len(cited) >= 40, sorted(cited)
    missing = _missing(cited)
    assert not missing, "docs/theory/claims.rst cites tests that do not exist: " + ", ".join(
        missing)


def test_every_test_file_and_test_the_docs_cite_exists():
    # Tests move between folders; a page that cites the old path sends readers nowhere.
    pages = [os.path.join(ROOT, "README.md")]
    for folder, _, files in os.walk(os.path.join(ROOT, "docs")):
        if "_build" not in folder:
            pages += [os.path.join(folder, f) for f in files if f.endswith((".rst", ".md"))]
    missing, count = [], 0
    for page in pages:
        with open(page, encoding="utf-8") as f:
            cited = _cited_tests(f.read())
        count += len(cited)
        missing += [f"{os.path.relpath(page, ROOT)}: {m}" for m in _missing(cited)]
    assert count >= 60, count
    assert not missing, "the docs cite tests that do not exist:\n" + "\n".join(missing)

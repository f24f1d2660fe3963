"""The package declares what it imports.

`pip install -e .` (the README's main job) installs only ``install_requires``;
a module imported by ``unigen`` but reachable only through a test or docs
extra works in CI and fails for users. This test reads every import in
``unigen/`` and checks it against ``setup.py``.
"""

import ast
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

# import name -> distribution name, where they differ
DISTRIBUTION = {
    "sklearn": "scikit-learn",
    "tensorflow_probability": "tensorflow-probability",
    "tf_keras": "tf-keras",
}
# Imported only behind a check that raises an error naming the extra to install.
OPTIONAL = {"tensorboard"}
# Installed with a declared dependency and imported for a helper of it only.
TRANSITIVE = {"threadpoolctl": "scikit-learn"}


def _setup_keyword(name):
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == name:
            return ast.literal_eval(node.value)
    raise AssertionError(f"setup.py has no {name}=")


def _requirement_name(requirement):
    for separator in "<>=!~[; ":
        requirement = requirement.split(separator)[0]
    return requirement.strip().lower()


def _third_party_imports():
    found = {}
    for path in sorted((ROOT / "unigen").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "unigen":
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_every_import_of_the_package_is_a_core_dependency():
    required = {_requirement_name(r) for r in _setup_keyword("install_requires")}
    imports = _third_party_imports()
    assert {"tensorflow", "keras", "numpy"} <= set(imports), imports
    missing = {}
    for module, where in imports.items():
        if module in OPTIONAL:
            continue
        distribution = TRANSITIVE.get(module, DISTRIBUTION.get(module, module)).lower()
        if distribution not in required:
            missing[module] = where
    assert not missing, (
        f"imported by unigen but not in setup.py install_requires: {missing}")


def test_optional_imports_are_declared_as_extras():
    extras = {_requirement_name(r) for reqs in _setup_keyword("extras_require").values()
              for r in reqs}
    for module in OPTIONAL:
        assert DISTRIBUTION.get(module, module) in extras, module


def test_the_tracked_tree_stays_small_enough_to_travel():
    # The working tree is what a clone downloads and what the GPU benchmark run
    # (`python -m benchmarks speed --device gpu`) sends to its machine, whose
    # limit is 64 MiB. Trained run directories (a report's models/) are ignored.
    import subprocess

    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                            check=False)
    if listed.returncode:
        import pytest

        pytest.skip("not a git checkout (an sdist or wheel): nothing tracked to measure")
    paths = [ROOT / p for p in listed.stdout.decode().split("\0") if p]
    sizes = {p: p.stat().st_size for p in paths if p.is_file()}
    total = sum(sizes.values())
    largest = sorted(sizes, key=sizes.get, reverse=True)[:5]
    assert total < 32 * 2**20, (
        f"tracked files take {total / 2**20:.1f} MiB; largest: "
        + ", ".join(f"{p.relative_to(ROOT)} ({sizes[p] / 2**20:.1f} MiB)" for p in largest))
    assert len(paths) > 100  # the listing worked

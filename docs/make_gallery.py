"""Runs every example at its smoke budget and keeps its outputs for the docs gallery.

    python docs/make_gallery.py [NAME ...] [--timeout 600]

For each ``examples/NAME.py`` (all of them by default) this runs
``python examples/NAME.py --smoke --out TMP``, then replaces
``docs/_static/examples/NAME/`` with what the script wrote (PNG images, JSON
and text files, at most ``MAX_BYTES`` each) and its printed output
(``output.txt``). ``docs/conf.py`` shows those files on the example's page;
an example without them gets a page that says to run this script, and
``tests/test_gallery.py`` fails until its outputs are committed. Run it after
adding or changing an example, and commit ``docs/_static/examples/``.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
GALLERY = os.path.join(ROOT, "docs", "_static", "examples")
KEEP = (".png", ".json", ".txt")
MAX_BYTES = 400_000
OUTPUT = "output.txt"


def example_names():
    """The stems of the scripts in examples/ (as the docs gallery lists them)."""
    return sorted(n[:-3] for n in os.listdir(EXAMPLES)
                  if n.endswith(".py") and not n.startswith("_"))


def outputs(name, gallery=GALLERY):
    """The committed output files of example ``name`` (sorted), or []."""
    folder = os.path.join(gallery, name)
    if not os.path.isdir(folder):
        return []
    return sorted(f for f in os.listdir(folder) if f.endswith(KEEP))


def run_example(name, *, timeout=600, gallery=GALLERY):
    """Runs one example with ``--smoke --out`` and copies its outputs; returns them."""
    with tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3"}
        proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, name + ".py"),
                               "--smoke", "--out", out], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"examples/{name}.py --smoke failed ({proc.returncode}):\n"
                               f"{proc.stderr[-3000:]}")
        target = os.path.join(gallery, name)
        if os.path.isdir(target):
            shutil.rmtree(target)
        os.makedirs(target)
        for folder, _, files in os.walk(out):
            for file in sorted(files):
                path = os.path.join(folder, file)
                if file.endswith(KEEP) and os.path.getsize(path) <= MAX_BYTES:
                    flat = os.path.relpath(path, out).replace(os.sep, "_")
                    shutil.copyfile(path, os.path.join(target, flat))
        printed = "\n".join(line for line in proc.stdout.splitlines() if line.strip())
        with open(os.path.join(target, OUTPUT), "w") as f:
            f.write((printed or "(the script printed nothing)") + "\n")
    return outputs(name, gallery)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="examples to run (default: all)")
    parser.add_argument("--timeout", type=int, default=600)
    args = parser.parse_args()
    for name in args.names or example_names():
        files = run_example(name, timeout=args.timeout)
        print(f"{name}: {', '.join(files)}", flush=True)


if __name__ == "__main__":
    main()

"""Runs example scripts with --smoke one after another in this one process.

    python tests/_job_examples.py OUT_DIR RESULTS.json EXAMPLE.py [EXAMPLE.py ...]

Each example runs as ``python EXAMPLE.py --smoke --out OUT_DIR/<name>`` would
run it (``runpy`` with ``__name__ == "__main__"`` and its own ``sys.argv``),
so that the examples share one TensorFlow start-up (about 5 s each on CI's
machine) instead of paying it each. Between examples the Keras session, the
global precision policy and matplotlib's figures are reset. Writes
``{name: {"ok": bool, "seconds": float, "error": traceback or None}}``.
"""

import json
import os
import runpy
import sys
import time
import traceback


def _reset():
    import keras

    keras.backend.clear_session()
    keras.mixed_precision.set_global_policy("float32")
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def main():
    out, results_path, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
    results = {}
    for path in paths:
        name = os.path.basename(path)
        sys.argv = [path, "--smoke", "--out", os.path.join(out, name[:-3])]
        start, error = time.perf_counter(), None
        try:
            runpy.run_path(path, run_name="__main__")
        except SystemExit as exit_:
            if exit_.code not in (None, 0):
                error = f"SystemExit({exit_.code!r})"
        except Exception:  # reported per example; the next one still runs
            error = traceback.format_exc()
        results[name] = {"ok": error is None, "seconds": time.perf_counter() - start,
                         "error": error}
        print(f"{name}: {'ok' if error is None else 'FAILED'} "
              f"({results[name]['seconds']:.1f} s)", flush=True)
        _reset()
    with open(results_path, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()

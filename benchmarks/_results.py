"""Where benchmark results go and how they are written: the one place for every script.

Every benchmark writes its figures as one JSON record,
``benchmarks/results/<name>.json`` unless its ``--out`` says otherwise, through
`write_result`. The record keeps the script's own keys and gains one more,
``"meta"``: what a reader of a figure needs to know about the run that
measured it,

* ``utc``: when the record was written (ISO 8601, seconds);
* ``git_commit`` and ``git_dirty``: the commit of the checkout the benchmark
  ran from and whether tracked files differed from it (both ``None`` outside a
  git checkout or without git);
* ``argv``: the command line (``sys.argv``) and ``cwd``;
* ``machine`` (`describe_machine`): device, CPU model and count, GPUs, Python,
  TensorFlow, Keras and TensorFlow Probability versions, platform, and the load
  average at the start of the run (when the script passes it) and at the end
  (when the record is written).

The speed suite already records the machine under its own ``"machine"`` key
(its tables read it there); it passes ``machine_key="machine"`` and ``meta``
does not repeat it.

With ``merge=True`` the top-level entries of the existing file that this run
does not write are kept (a script that reruns one part of a record);
``meta["keys"]`` then lists the entries this run wrote, and ``meta["earlier"]``
keeps the ``meta`` of earlier runs for the entries they still own.
"""

import datetime
import json
import os
import platform
import subprocess
import sys

__all__ = ["RESULTS", "cpu_model", "describe_machine", "provenance", "read_result",
           "results_path", "write_result"]

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(_ROOT, "benchmarks", "results")
META = "meta"


def results_path(name, out=None):
    """The JSON file of result ``name``.

    Args:
        name: the record's name, without ``.json`` (``"glow_convs"``, ``"speed_cpu"``).
        out: ``None`` for ``benchmarks/results/<name>.json``; a path ending in
            ``.json`` is the file itself; any other path is a directory that
            gets ``<name>.json``.
    """
    if not name or name.endswith(".json") or os.sep in name:
        raise ValueError(f"`name` must be a bare record name such as 'glow_convs', got {name!r}.")
    if out is None:
        return os.path.join(RESULTS, name + ".json")
    out = os.fspath(out)
    return out if out.endswith(".json") else os.path.join(out, name + ".json")


def read_result(name, out=None):
    """The record at ``results_path(name, out)``, or ``None`` when there is no such file."""
    path = results_path(name, out)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not valid JSON ({err}); fix or remove it before "
                             "a run merges its results into it.") from err


def cpu_model():
    """The CPU's model name (``/proc/cpuinfo``), else what `platform` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_machine(device="cpu"):
    """What the figures were measured on: CPU, cores, GPUs, versions, load at start."""
    import keras
    import tensorflow as tf

    info = {"device": device, "cpu": cpu_model(), "cores": os.cpu_count(),
            "python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "platform": platform.platform()}
    if device == "gpu":
        gpus = tf.config.list_physical_devices("GPU")
        info["gpus"] = [tf.config.experimental.get_device_details(g).get("device_name", g.name)
                        for g in gpus]
    try:
        import tensorflow_probability as tfp

        info["tensorflow_probability"] = tfp.__version__
    except ImportError:
        pass
    info["load_average_start"] = list(os.getloadavg())
    return info


def _git(*args):
    """Output of ``git <args>`` in the checkout holding this package, or None."""
    try:
        proc = subprocess.run(["git", *args], cwd=_ROOT, capture_output=True, text=True,
                              timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def provenance(load_average_start=None, machine=True):
    """The ``meta`` block of a record written now (see the module docstring).

    Args:
        load_average_start: ``os.getloadavg()`` taken when the run started, if the
            caller has it; the load at the end is taken now.
        machine: whether to describe the machine (`describe_machine`).
    """
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no") if commit else None
    meta = {"utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "git_commit": commit.strip() if commit else None,
            "git_dirty": None if status is None else bool(status.strip()),
            "argv": list(sys.argv), "cwd": os.getcwd()}
    if machine:
        import tensorflow as tf

        info = describe_machine("gpu" if tf.config.list_physical_devices("GPU") else "cpu")
        info.pop("load_average_start")
        if load_average_start is not None:
            info["load_average_start"] = list(load_average_start)
        info["load_average_end"] = list(os.getloadavg())
        meta["machine"] = info
    return meta


def _jsonable(value):
    """numpy scalars and arrays as Python numbers and lists; anything else as a float."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return float(value)


def _merged(old, record, meta):
    """``record`` over ``old``; ``meta`` names the keys written now and keeps the
    ``meta`` of earlier runs for the keys they still own."""
    if not isinstance(old, dict):
        raise ValueError(f"cannot merge into a record that is a {type(old).__name__}, "
                         "not a JSON object; write it without merge=True.")
    written = sorted(k for k in record if k != META)
    meta = {**meta, "keys": written}
    earlier = []
    old_meta = old.get(META)
    if isinstance(old_meta, dict):
        runs = [{k: v for k, v in old_meta.items() if k != "earlier"},
                *old_meta.get("earlier", [])]
        for run in runs:
            owned = run.get("keys", sorted(k for k in old if k != META))
            kept = [k for k in owned if k not in record]
            if kept:
                earlier.append({**run, "keys": kept})
    if earlier:
        meta["earlier"] = earlier
    return {**{k: v for k, v in old.items() if k != META}, **record, META: meta}


def write_result(name, record, *, out=None, merge=False, load_average_start=None,
                 machine_key=None, echo=False):
    """Writes ``record`` (a dict) with its provenance to ``results_path(name, out)``.

    Args:
        name, out: where, see `results_path`.
        record: the script's figures; its keys are kept as they are, and
            ``"meta"`` (`provenance`) is added.
        merge: keep the entries of an existing file that ``record`` does not have.
        load_average_start: the load average when the run started, if known.
        machine_key: the record's key that already holds `describe_machine`
            (the speed suite's ``"machine"``): its ``load_average_end`` is set
            there and ``meta`` does not repeat the machine.
        echo: also print the record.

    Returns:
        The path written. The file is replaced in one step (written beside it,
        then renamed), so a run cut short never leaves half a record.
    """
    if not isinstance(record, dict):
        raise TypeError(f"`record` must be a dict, got {type(record).__name__}.")
    if META in record:
        raise ValueError(f"`record` already has a {META!r} key; `write_result` adds it.")
    path = results_path(name, out)
    meta = provenance(load_average_start, machine=machine_key is None)
    if machine_key is not None:
        machine = dict(record[machine_key])
        machine.setdefault("load_average_end", list(os.getloadavg()))
        record = {**record, machine_key: machine}
    if merge:
        record = _merged(read_result(name, out) or {}, record, meta)
    else:
        record = {**record, META: meta}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    partial = f"{path}.{os.getpid()}.tmp"
    try:
        with open(partial, "w") as f:
            json.dump(record, f, indent=1, default=_jsonable)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):  # json.dump failed: no half-written file is left
            os.remove(partial)
    if echo:
        print(json.dumps(record, indent=1, default=_jsonable))
    print(f"wrote {path}", flush=True)
    return path

"""What a run is: the settings that decide its trajectory, and the check on resume.

A rerun into the same ``output_dir`` resumes only when every setting that
changes the training trajectory is the same as in the stored ``config.json``:
the model's config, the optimizer and its learning rate (or schedule), batch
size, seed, precision, the number of replicas, shuffling, XLA, and a
fingerprint of the data. ``epochs`` may grow (that is what resuming is for).
The name of the data, where known (``"dataset"``: what `unigen.datasets.load`
loaded them from), is recorded to name the data in the message, not compared.
"""

import hashlib

import keras
import numpy as np

from unigen import errors
from unigen._version import __version__
from unigen.training import _rundir

__all__ = []

# Settings compared on resume; a setting missing from an older config.json is
# not compared (it was not recorded).
COMPARED = ("model", "optimizer", "learning_rate", "batch_size", "seed", "precision",
            "num_replicas", "data", "shuffle", "shuffle_buffer", "jit_compile")
# Compile settings that change speed, not the numbers.
_SPEED_ONLY = ("steps_per_execution", "run_eagerly")
_SAMPLE_SIZE = 256


def model_identity(model):
    """The model's class and config without its auto-generated name."""
    config = keras.saving.serialize_keras_object(model)
    inner = {k: v for k, v in config.get("config", {}).items() if k != "name"}
    return {"class_name": config.get("class_name"), "module": config.get("module"),
            "config": inner}


def optimizer_identity(model):
    """The model's compile config (optimizers with learning rates or schedules)."""
    try:
        config = model.get_compile_config()
    except Exception:  # a model that cannot describe its compilation
        config = None
    if not isinstance(config, dict):
        optimizer = getattr(model, "optimizer", None)
        if optimizer is None:
            return None
        config = {"optimizer": keras.saving.serialize_keras_object(optimizer)}
    config = {k: v for k, v in config.items() if k not in _SPEED_ONLY}
    return _without_names(_rundir.normalized(config))


def _without_names(value):
    """Drops the auto-generated ``name`` entries ("adam_3") at every depth."""
    if isinstance(value, dict):
        return {k: _without_names(v) for k, v in value.items() if k != "name"}
    if isinstance(value, list):
        return [_without_names(v) for v in value]
    return value


def data_fingerprint(data, first, num_examples, arrays):
    """A cheap identity of the training data.

    A dataset name is its name and split. Anything else is its number of
    examples, the shape and dtype of its features and a SHA-256 of a fixed
    sample: the first batch, and for in-memory arrays also up to 256 examples at
    evenly spaced indices.
    """
    if isinstance(data, str):
        return {"name": data, "split": "train", "num_examples": int(num_examples)}
    digest = hashlib.sha256()
    features = first[0] if isinstance(first, tuple) else first
    for part in first if isinstance(first, tuple) else (first,):
        _update(digest, np.asarray(part))
    if arrays is not None:
        index = np.unique(np.linspace(0, len(arrays[0]) - 1, _SAMPLE_SIZE).astype(np.int64))
        for array in arrays:
            _update(digest, np.asarray(array)[index])
    return {"num_examples": int(num_examples),
            "shape": [int(d) for d in np.shape(features)[1:]],
            "dtype": str(np.asarray(features).dtype),
            "sample_sha256": digest.hexdigest()}


def _update(digest, array):
    digest.update(f"{array.dtype.str}{array.shape}".encode())
    digest.update(np.ascontiguousarray(array).tobytes())


def run_config(model, *, data, first, num_examples, arrays, batch_size, user_seed,
               data_seed, epochs, replicas, learning_rate, shuffle, shuffle_buffer,
               jit_compile):
    """The ``config.json`` of a run (call after the model is compiled)."""
    from unigen.datasets._loading import source

    dataset = source(data)
    return {
        "unigen_version": __version__,
        "model": model_identity(model),
        "optimizer": optimizer_identity(model),
        "batch_size": batch_size,
        "seed": user_seed,
        "data_seed": int(data_seed),
        "epochs": epochs,
        "num_replicas": replicas,
        "num_examples": num_examples,
        "learning_rate": float(learning_rate),
        "data": data_fingerprint(data, first, num_examples, arrays),
        "precision": model.precision,
        "shuffle": bool(shuffle),
        "shuffle_buffer": int(min(shuffle_buffer, num_examples)) if shuffle else None,
        "jit_compile": bool(jit_compile) if isinstance(jit_compile, bool) else str(jit_compile),
        **({"dataset": dataset} if dataset else {}),
    }


def differences(old, new):
    """``{setting: (old, new)}`` for each compared setting that differs.

    Nested settings (the model's or the optimizer's config) are named down to
    the differing leaf, for example ``optimizer.optimizer.config.learning_rate``.
    """
    found = {}
    for key in COMPARED:
        if key not in old:
            continue
        if key == "precision":  # runs written before precision was recorded were float32
            a, b = old.get(key) or "float32", new.get(key) or "float32"
        elif key == "data" and isinstance(old.get(key), str):
            # Written before data were fingerprinted: a dataset name, or only a type name.
            a, b = old[key], (new.get(key) or {}).get("name")
            if b is None and a not in _dataset_names():
                continue
        else:
            a, b = old.get(key), new.get(key)
        _diff(key, _rundir.normalized(a), _rundir.normalized(b), found)
    return found


def _dataset_names():
    from unigen import datasets

    return datasets.available()


def _diff(name, a, b, found):
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            _diff(f"{name}.{key}", a.get(key), b.get(key), found)
    elif a != b:
        found[name] = (a, b)


def check_same_run(directory, old, config):
    """Raises `RunMismatchError` naming each setting that differs, old and new."""
    found = differences(old, config)
    if not found:
        return
    lines = [f"  {name}: was {_short(a)}, now {_short(b)}" for name, (a, b) in found.items()]
    kinds = sorted({name.split(".")[0] for name in found})
    hint = ""
    if "model" in kinds:
        hint = " (a different model)"
    data = _data_message(old, config) if "data" in kinds else ""
    raise errors.RunMismatchError(
        f"output_dir {directory!r} holds a run with other settings{hint}; resuming it "
        f"would not continue the same training. Differences ({', '.join(kinds)}):\n"
        + "\n".join(lines) + data
        + "\nUse a new output_dir (--out on the command line), or start over in this one "
        "with resume=False (unigen train --overwrite), which deletes the run's files.",
        path=directory, differences=found)


def _dataset(config):
    """The recorded ``"dataset"`` of a config (older runs: a name in ``"data"``), or None."""
    data = config.get("data")
    if config.get("dataset"):
        return config["dataset"]
    if isinstance(data, str) and data in _dataset_names():
        return {"name": data}
    if isinstance(data, dict) and data.get("name"):
        return {"name": data["name"], "split": data.get("split", "train")}
    return None


def _dataset_label(dataset):
    """``'digits'``, or ``'digits' (split 'test', data_dir='/d')`` beyond the defaults."""
    extra = [f"split {dataset['split']!r}"] if dataset.get("split", "train") != "train" else []
    extra += [f"{k}={v!r}" for k, v in dataset.items() if k not in ("name", "split")]
    return f"{dataset['name']!r}" + (f" ({', '.join(extra)})" if extra else "")


def _data_message(old, new):
    """The lines naming the run's data and this call's, where known, and the fix."""
    was, now = _dataset(old), _dataset(new)
    if was is None and now is None:
        return ""
    if was is None:
        return (f"\nThis call trains on dataset {_dataset_label(now)}; the run does not "
                f"record the name of the data it was trained on (arrays, or a run written "
                f"before unigen recorded it).")
    same = now is not None and _dataset_label(now) == _dataset_label(was)
    if same:
        now_text = "the same name, but its examples differ (other files, or another version)"
    else:
        now_text = f"dataset {_dataset_label(now)}" if now else "other data"
    return (f"\nThe run was trained on dataset {_dataset_label(was)}; this call gives "
            f"{now_text}. To resume the run, train on its data (--data {was['name']} on "
            f"the command line).")


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."

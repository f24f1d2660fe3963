"""The output directory of a run: config, checkpoints, history, samples.

Layout of ``output_dir``::

    config.json              what was run (model config, fit arguments, versions)
    checkpoint.npz           model, optimizer and random-generator state after the
                             last completed epoch (written atomically)
    model.keras              the model after the last completed epoch
    history.json             per-epoch metrics of every epoch so far
    samples/epoch_NNN.png    a sample grid per epoch (image data)

Checkpoints store every variable the training depends on as NumPy arrays, in the
order of `GenerativeModel.training_state`, so a resumed run continues with the
same weights, optimizer moments, step counter and random-generator states.
"""

import json
import os

import numpy as np

__all__ = []

CONFIG = "config.json"
CHECKPOINT = "checkpoint.npz"
MODEL = "model.keras"
HISTORY = "history.json"


def _atomic_write(path, write):
    tmp = f"{path}.tmp-{os.getpid()}"
    write(tmp)
    os.replace(tmp, path)


def write_json(path, obj):
    def write(tmp):
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=2, sort_keys=True, default=_jsonable)
    _atomic_write(path, write)


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def read_json(path):
    with open(path) as f:
        return json.load(f)


def save_checkpoint(directory, variables, epoch):
    """Writes the values of ``variables`` and the number of finished epochs."""
    arrays = {f"v{i:05d}": np.asarray(v.numpy()) for i, v in enumerate(variables)}
    names = np.array([v.path if hasattr(v, "path") else v.name for v in variables])

    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, epoch=np.int64(epoch), names=names, **arrays)
    _atomic_write(os.path.join(directory, CHECKPOINT), write)


def load_checkpoint(directory):
    """Returns (epoch, list of arrays) or None when there is no checkpoint."""
    path = os.path.join(directory, CHECKPOINT)
    if not os.path.exists(path):
        return None
    with np.load(path, allow_pickle=False) as data:
        keys = sorted(k for k in data.files if k.startswith("v"))
        return int(data["epoch"]), [data[k] for k in keys], list(data["names"])


def restore_variables(variables, arrays, names, path):
    if len(arrays) != len(variables):
        raise ValueError(
            f"The checkpoint in {path} holds {len(arrays)} variables but the model "
            f"has {len(variables)}: it was written by a different model. Use another "
            f"output_dir, or resume=False to start over."
        )
    for var, value, name in zip(variables, arrays, names, strict=False):
        if tuple(var.shape) != tuple(value.shape):
            raise ValueError(
                f"The checkpoint in {path} has shape {value.shape} for {name} but "
                f"the model has {tuple(var.shape)}. Use another output_dir, or "
                f"resume=False to start over."
            )
        var.assign(value)


def previous_config(directory):
    path = os.path.join(directory, CONFIG)
    return read_json(path) if os.path.exists(path) else None


def check_same_run(directory, old, config):
    """Raises when ``old`` (the config in ``directory``) is a different run."""
    def norm(value):
        return json.loads(json.dumps(value, default=_jsonable))

    diffs = [k for k in ("model", "batch_size", "seed") if norm(old.get(k)) != norm(config.get(k))]
    # Runs written before precision was recorded were float32.
    if old.get("precision", "float32") != config.get("precision", "float32"):
        diffs.append("precision")
    if diffs:
        raise ValueError(
            f"output_dir {directory!r} holds a run with a different "
            f"{', '.join(diffs)}; resuming it would not continue the same training. "
            f"Use a new output_dir, or pass resume=False to overwrite it."
        )

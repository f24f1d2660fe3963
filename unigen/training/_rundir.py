"""The output directory of a run: its files, written so that no kill loses work.

Layout of ``output_dir``::

    config.json              what was run (model config, optimizer, fit arguments,
                             a fingerprint of the data and, where known, the
                             dataset's name and options; versions)
    checkpoint.npz           the unit of progress: model, optimizer and
                             random-generator state, the number of finished epochs
                             and the history of every finished epoch, in one file
    history.json             per-epoch metrics (a readable copy of the history in
                             the checkpoint, rewritten from it when behind)
    model.keras              the model after the last finished epoch
    samples/epoch_NNN.png    a sample grid per epoch (image data)
    .lock                    the advisory lock of the writing process

Every file is written to a temporary name beside it (``NAME.tmp-PID``), flushed
to disk (fsync) and renamed over the old one, so each file is always either the
old or the new version, never a partial one. The checkpoint is written first:
a kill after its rename keeps the epoch (weights and history together), a kill
before it loses only the unfinished epoch. The files written after it
(``history.json``, ``model.keras``) are repaired from it when a rerun finds them
behind. Temporary files left by a killed run are deleted by the next run.

Checkpoints store every variable the training depends on as NumPy arrays, in the
order of `GenerativeModel.training_state`, and are read with
``allow_pickle=False``: a crafted file can hold data but never run code.
"""

import contextlib
import json
import os
import re
import shutil
import zipfile

import numpy as np

from unigen import _checks, errors

__all__ = []

CONFIG = "config.json"
CHECKPOINT = "checkpoint.npz"
MODEL = "model.keras"
HISTORY = "history.json"
SAMPLES = "samples"
LOCK = ".lock"
_TMP = ".tmp-"
_FORMAT = 2  # checkpoints of format 1 held no history
_TEMPORARY = re.compile(r".+\.tmp-\d+(\.[A-Za-z0-9]+)?")  # what temporary_name gives


def _fault_point(stage, epoch):
    """Called between the steps of every write; does nothing.

    Tests replace it to kill the process at a given ``stage`` of epoch ``epoch``
    (for example ``"checkpoint.tmp"``: the temporary checkpoint is on disk but not
    yet renamed), which is how the kill-and-resume guarantees are tested without
    any reliance on timing.
    """


def _fsync_directory(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # not supported on every platform
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temporary_name(path):
    """The temporary name of ``path`` in this process; keeps the extension."""
    root, ext = os.path.splitext(path)
    return f"{root}{_TMP}{os.getpid()}{ext}"


def atomic_write(path, write, *, stage, epoch=None):
    """Writes ``path`` through ``write(tmp_path)``, fsync and an atomic rename."""
    tmp = temporary_name(path)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        _fault_point(f"{stage}.tmp", epoch)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    _fsync_directory(os.path.dirname(path) or ".")
    _fault_point(f"{stage}.replaced", epoch)


def write_json(path, obj, *, stage="json", epoch=None):
    def write(tmp):
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=2, sort_keys=True, default=_jsonable)
    atomic_write(path, write, stage=stage, epoch=epoch)


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def normalized(value):
    """``value`` as it reads back from JSON (tuples become lists, ...)."""
    return json.loads(json.dumps(value, default=_jsonable))


def _fix(directory):
    return (f"Use a new output_dir, or start over in {directory!r} with "
            f"resume=False (unigen train --overwrite), which deletes the run's files.")


def read_json(path, what="run file"):
    """Reads a JSON file of a run; a damaged one raises `RunDirectoryError`."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError, UnicodeDecodeError) as err:
        directory = os.path.dirname(path)
        raise errors.RunDirectoryError(
            f"The {what} {path!r} is damaged and cannot be read "
            f"({type(err).__name__}); unigen will not guess what it held. "
            f"{_fix(directory)}", path=path) from None


def save_checkpoint(directory, variables, epoch, history):
    """Writes the values of ``variables``, ``epoch`` and ``history`` as one file."""
    arrays = {f"v{i:05d}": np.asarray(v.numpy()) for i, v in enumerate(variables)}
    names = np.array([str(v.path if hasattr(v, "path") else v.name) for v in variables])
    history_text = np.array(json.dumps(normalized(history), sort_keys=True))

    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, epoch=np.int64(epoch), names=names, history=history_text,
                     format=np.int64(_FORMAT), **arrays)
    atomic_write(os.path.join(directory, CHECKPOINT), write, stage="checkpoint", epoch=epoch)


def load_checkpoint(directory):
    """Returns ``(epoch, arrays, names, history)``, or None when there is none.

    ``history`` is None for checkpoints written before it was stored in them.
    A damaged or foreign file raises `RunDirectoryError` (never a pickle load).
    """
    path = os.path.join(directory, CHECKPOINT)
    if not os.path.exists(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = sorted(k for k in data.files if k.startswith("v"))
            epoch = int(data["epoch"])
            arrays = [data[k] for k in keys]
            names = [str(n) for n in data["names"]]
            history = json.loads(str(data["history"])) if "history" in data.files else None
    except Exception as err:
        # Not NumPy's own message: for a non-zip file it advises allow_pickle=True,
        # which a loader of untrusted files must never suggest.
        raise errors.RunDirectoryError(
            f"The checkpoint {path!r} is damaged or is not a unigen checkpoint "
            f"({type(err).__name__}); it was not loaded. {_fix(directory)}",
            path=path) from None
    if epoch < 1 or len(names) != len(arrays) or (
            history is not None and not _history_ok(history, epoch)):
        raise errors.RunDirectoryError(
            f"The checkpoint {path!r} is inconsistent (epoch {epoch}, {len(arrays)} "
            f"arrays, {len(names)} names); it was not loaded. {_fix(directory)}",
            path=path)
    return epoch, arrays, names, history


def _history_ok(history, epoch):
    return isinstance(history, dict) and all(
        isinstance(v, list) and len(v) == epoch for v in history.values())


def restore_variables(variables, arrays, names, path):
    if len(arrays) != len(variables):
        raise errors.RunMismatchError(
            f"The checkpoint in {path} holds {len(arrays)} variables but the model "
            f"has {len(variables)}: it was written by a different model. "
            f"{_fix(path)}", path=path)
    for var, value, name in zip(variables, arrays, names, strict=False):
        if tuple(var.shape) != tuple(value.shape):
            raise errors.RunMismatchError(
                f"The checkpoint in {path} has shape {value.shape} for {name} but "
                f"the model has {tuple(var.shape)}. {_fix(path)}", path=path)
        var.assign(value)


def read_history(directory, checkpoint_history, epoch):
    """The history of a resumed run, with ``history.json`` repaired if behind.

    The checkpoint's copy is the truth (it is written with the weights); a
    ``history.json`` that a kill left one epoch behind is rewritten from it.
    """
    path = os.path.join(directory, HISTORY)
    if checkpoint_history is not None:
        on_disk = read_json(path, "history") if os.path.exists(path) else None
        if normalized(on_disk) != normalized(checkpoint_history):
            write_json(path, checkpoint_history, stage="history", epoch=epoch)
        return checkpoint_history
    # A checkpoint of format 1: history.json is the only record.
    if not os.path.exists(path):
        raise errors.RunDirectoryError(
            f"{path!r} is missing beside a checkpoint of epoch {epoch}. "
            f"{_fix(directory)}", path=path)
    history = read_json(path, "history")
    if not _history_ok(history, epoch):
        raise errors.RunDirectoryError(
            f"{path!r} does not hold {_checks.plural(epoch, 'epoch')}, as the checkpoint beside it "
            f"does. {_fix(directory)}", path=path)
    return history


def previous_config(directory):
    """The config of the run in ``directory``; None for a new or empty directory.

    A checkpoint, history or model without a ``config.json`` beside it raises
    `RunDirectoryError`: without the config, resuming cannot be checked.
    """
    path = os.path.join(directory, CONFIG)
    if os.path.exists(path):
        config = read_json(path, "run config")
        if not isinstance(config, dict):
            raise errors.RunDirectoryError(
                f"The run config {path!r} is not a JSON object. {_fix(directory)}", path=path)
        return config
    orphans = [name for name in (CHECKPOINT, HISTORY, MODEL)
               if os.path.exists(os.path.join(directory, name))]
    if orphans:
        raise errors.RunDirectoryError(
            f"{directory!r} holds {', '.join(orphans)} but no {CONFIG}, so unigen "
            f"cannot check that resuming would continue the same training, and will "
            f"not overwrite the checkpoint. {_fix(directory)}", path=path)
    return None


def has_trained(directory):
    """Whether the run in ``directory`` finished an epoch (it wrote a checkpoint,
    history or model); a ``config.json`` alone is a run stopped in its first epoch."""
    return any(os.path.exists(os.path.join(directory, name))
               for name in (CHECKPOINT, HISTORY, MODEL))


def prepare(directory):
    """Creates ``directory`` or checks that it is one (`unigen._checks.check_output_dir`)."""
    _checks.check_output_dir(directory)


def remove_temporaries(directory):
    """Deletes the temporary files that a killed run left (the caller holds the lock)."""
    for folder in (directory, os.path.join(directory, SAMPLES)):
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            if _TEMPORARY.fullmatch(name):
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(folder, name))


def clear_run(directory):
    """Deletes the files of the run in ``directory`` (``resume=False``); keeps others."""
    for name in (CHECKPOINT, HISTORY, MODEL, CONFIG):
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(directory, name))
    shutil.rmtree(os.path.join(directory, SAMPLES), ignore_errors=True)


# --------------------------------------------------------------------- locking
class RunLock:
    """An exclusive advisory lock on ``directory/.lock``, held while a run writes.

    The lock belongs to the open file, so the operating system drops it when the
    process ends for any reason (a SIGKILL included): it never goes stale. A
    second writer fails at once with `RunDirectoryLockedError`.
    """

    def __init__(self, directory):
        self.directory = directory
        self._file = None

    def __enter__(self):
        path = os.path.join(self.directory, LOCK)
        self._file = open(path, "a+")
        try:
            _lock_file(self._file)
        except OSError:
            self._file.close()
            self._file = None
            raise errors.RunDirectoryLockedError(
                f"Another process is writing to output_dir {self.directory!r} (it "
                f"holds {path}). Wait for it to finish, or use another output_dir; "
                f"two runs in one directory would mix their checkpoints.",
                path=self.directory) from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"{os.getpid()}\n")
        self._file.flush()
        return self

    def __exit__(self, *exc):
        if self._file is not None:
            _unlock_file(self._file)
            self._file.close()
            self._file = None
        return False


def _lock_file(f):
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        return
    fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unlock_file(f):
    try:
        import fcntl
    except ImportError:
        import msvcrt

        f.seek(0)
        with contextlib.suppress(OSError):
            msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)
        return
    fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def model_file_matches(path, model):
    """True when ``path`` is a readable model file with ``model``'s weights."""
    from unigen.training.saving import load  # safe mode and size caps

    if not os.path.exists(path) or not zipfile.is_zipfile(path):
        return False
    try:
        saved = load(path, compile=False)
        ours, theirs = model.get_weights(), saved.get_weights()
    except Exception:
        return False
    return len(ours) == len(theirs) and all(
        a.shape == b.shape and np.array_equal(a, b) for a, b in zip(ours, theirs, strict=True))


def save_model(directory, model, epoch):
    """Writes ``model.keras`` under a temporary name and renames it into place."""
    atomic_write(os.path.join(directory, MODEL), model.save, stage="model", epoch=epoch)

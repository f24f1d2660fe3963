"""Loading saved models safely.

Only the native ``.keras`` format is accepted, and always with Keras's
``safe_mode=True``: ``.h5``/``.hdf5`` files, SavedModel directories and pickles
can run arbitrary code when loaded (CVE-2025-1550, CVE-2025-8747, CVE-2025-9905,
CVE-2025-9906, CVE-2026-1462), and so can a ``Lambda`` layer in a ``.keras`` file,
which safe mode refuses to deserialise.

Before Keras reads anything, the archive's directory is checked against two
caps, so a small crafted file cannot make the loader decompress gigabytes:
``config.json`` and ``metadata.json`` at most `MAX_CONFIG_BYTES` (16 MiB) each
and the whole archive at most `MAX_ARCHIVE_BYTES` (8 GiB) uncompressed, both
adjustable per call.
"""

import os
import zipfile

import keras

from unigen import errors

__all__ = ["MAX_ARCHIVE_BYTES", "MAX_CONFIG_BYTES", "load"]

MAX_CONFIG_BYTES = 16 * 2**20
MAX_ARCHIVE_BYTES = 8 * 2**30
_JSON_MEMBERS = ("config.json", "metadata.json")


def load(path, *, compile=True, max_config_bytes=MAX_CONFIG_BYTES,
         max_archive_bytes=MAX_ARCHIVE_BYTES):
    """Loads a unigen model saved with ``model.save("....keras")`` or by a training run.

    Example::

        model = unigen.load("runs/glow")              # the run's model.keras
        model = unigen.load("runs/glow/model.keras")  # the same model

    Args:
        path: path (str or `os.PathLike`) of a ``.keras`` file, or of a training
            run's directory (the ``output_dir`` of `unigen.fit`, the ``--out``
            of ``unigen train``), whose ``model.keras`` is loaded: the model
            after the run's last finished epoch. The file gets the same checks
            either way.
        compile: restore the training configuration (optimizers) too.
        max_config_bytes: largest accepted uncompressed size of the archive's
            ``config.json`` (and ``metadata.json``); 16 MiB by default, far above
            any unigen model's config.
        max_archive_bytes: largest accepted uncompressed size of the whole
            archive; 8 GiB by default.

    Returns:
        The `unigen.GenerativeModel`, ready to ``sample`` and ``log_prob``.

    Raises:
        FileNotFoundError: nothing at ``path``, or a directory that is not a
            training run's (the message lists what it holds).
        unigen.errors.RunDirectoryError: a training run's directory without
            ``model.keras`` (the run stopped before its first epoch finished,
            or before it wrote the model file); the message says how to go on.
        unigen.errors.UnsafeModelFileError: the file is not a ``.keras`` file
            (a SavedModel directory included), is not a valid archive, is larger
            than the caps when uncompressed, or holds a layer that can run code
            (such as ``Lambda``).
    """
    from unigen.base import GenerativeModel

    path = os.fspath(path)
    if os.path.isdir(path):
        path = _model_of_directory(path)
    elif not os.path.exists(path) and not os.path.splitext(path)[1]:  # a run's folder?
        raise FileNotFoundError(
            f"No file or directory at {path!r}. unigen.load takes a .keras file or a "
            f"training run's directory (the output_dir of unigen.fit) holding model.keras.")
    if not path.endswith(".keras"):
        raise errors.UnsafeModelFileError(
            f"unigen loads only .keras files, got {path!r}. Formats such as .h5, "
            f"SavedModel directories and pickles can run code when loaded; re-save "
            f"the model with model.save('model.keras') from a trusted session."
        )
    if not os.path.exists(path):
        raise FileNotFoundError(f"No model file at {path!r}.")
    _check_archive(path, max_config_bytes, max_archive_bytes)
    try:
        model = keras.saving.load_model(path, compile=compile, safe_mode=True)
    except ValueError as err:
        if "lambda" in str(err).lower() or "safe_mode" in str(err):
            raise errors.UnsafeModelFileError(
                f"{path!r} holds a layer that can run arbitrary code when loaded "
                f"(a Lambda layer); unigen refuses it. Rebuild the model without "
                f"Lambda layers. ({err})"
            ) from None
        raise
    if not isinstance(model, GenerativeModel):
        raise TypeError(
            f"{path!r} holds a {type(model).__name__}, not a unigen model; load it "
            f"with keras.saving.load_model instead."
        )
    return model


def _model_of_directory(directory):
    """The ``model.keras`` of a training run's directory; else a clear error."""
    from unigen.training import _rundir

    inside = os.path.join(directory, _rundir.MODEL)
    if os.path.isfile(inside):
        return inside
    try:
        names = sorted(os.listdir(directory))
    except OSError as err:
        raise errors.RunDirectoryError(
            f"The directory {directory!r} cannot be read ({type(err).__name__}); "
            f"unigen.load looks there for {_rundir.MODEL}.", path=directory) from None
    holds = _listing(names)
    if "saved_model.pb" in names:
        raise errors.UnsafeModelFileError(
            f"{directory!r} is a TensorFlow SavedModel directory ({holds}); unigen loads "
            f"only .keras files, since SavedModels can run code when loaded. Re-save "
            f"the model with model.save('model.keras') from a trusted session.")
    fit = f"unigen.fit(model, data, output_dir={directory!r})"
    if _rundir.CHECKPOINT in names:
        raise errors.RunDirectoryError(
            f"The training run in {directory!r} has a checkpoint but no {_rundir.MODEL} "
            f"({holds}): it stopped after saving its checkpoint and before writing the "
            f"model file, or the file was deleted. Run the same {fit} call again (or "
            f"`unigen train` with the same options and --out {directory}): it resumes "
            f"from the checkpoint and writes {_rundir.MODEL}; then load {directory!r}.",
            path=inside)
    if _rundir.CONFIG in names or _rundir.HISTORY in names:
        raise errors.RunDirectoryError(
            f"The training run in {directory!r} saved no model ({holds}): it stopped in "
            f"its first epoch (the loss diverged, the data were refused, or it was "
            f"interrupted), before any epoch finished. Train again: {fit} starts "
            f"afresh there and writes {_rundir.MODEL} after each epoch.", path=inside)
    raise FileNotFoundError(
        f"No {_rundir.MODEL} in the directory {directory!r} ({holds}). unigen.load takes "
        f"a .keras file, or a training run's directory (the output_dir of unigen.fit, "
        f"the --out of unigen train) holding {_rundir.MODEL}.")


def _listing(names, limit=8):
    """'it holds a, b and 3 more' / 'it is empty'."""
    if not names:
        return "it is empty"
    shown = ", ".join(names[:limit])
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return f"it holds {shown}{more}"


def model_name(path):
    """The display name of a saved model: the file's stem, or the run's directory.

    ``runs/x/model.keras`` and ``runs/x`` (a run's directory) give ``"x"``,
    ``gan_v2.keras`` gives ``"gan_v2"``; the rule of ``unigen compare --models``.
    """
    path = os.path.normpath(os.fspath(path))
    if os.path.isdir(path):
        return os.path.basename(os.path.abspath(path))
    name = os.path.splitext(os.path.basename(path))[0]
    if name == "model":  # runs/x/model.keras -> "x"
        name = os.path.basename(os.path.dirname(os.path.abspath(path))) or name
    return name


def load_named(spec, *, what="the model"):
    """``(name, model)`` of a saved model given by path: `model_name` and `load`.

    The one place where ``unigen compare --models``, `unigen.compare` and
    `unigen.evaluate` turn a path into a model (loaded with ``compile=False``,
    so with every check of `load`). ``what`` names the argument in the
    error for a value that is not a path.
    """
    if not isinstance(spec, (str, os.PathLike)):
        raise TypeError(f"{what} must be a model or the path of a saved one (a .keras "
                        f"file or a training run's directory), got "
                        f"{type(spec).__name__} {spec!r:.60}.")
    path = os.fspath(spec)
    if not os.path.exists(path) and not path.endswith(".keras") and os.sep not in path \
            and "/" not in path:
        from unigen import models

        if path.lower().replace("-", "_") in models.available():
            raise FileNotFoundError(
                f"{what}: {path!r} is a model name, not a saved model; nothing is at that "
                f"path. Train it first, unigen.fit(unigen.models.create({path!r}, ...), "
                f"data, output_dir='runs/{path}'), and pass 'runs/{path}'; or let the "
                f"command line train it: unigen compare --models {path} ...")
    return model_name(path), load(path, compile=False)


def _check_archive(path, max_config_bytes, max_archive_bytes):
    """Checks the zip directory of a ``.keras`` file; reads no member."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise errors.UnsafeModelFileError(
            f"{path!r} is not a valid .keras archive ({type(err).__name__}); it may be "
            f"truncated or not a model file. Save the model again with "
            f"model.save('model.keras')."
        ) from None
    for info in members:
        if info.filename in _JSON_MEMBERS and info.file_size > max_config_bytes:
            raise errors.UnsafeModelFileError(
                f"{path!r} holds a {info.filename} of {info.file_size:,} bytes when "
                f"uncompressed, above the cap of {max_config_bytes:,} bytes; unigen "
                f"refuses it (a model's config is a few kB). If you trust the file, "
                f"pass max_config_bytes= to unigen.load."
            )
    total = sum(info.file_size for info in members)
    if total > max_archive_bytes:
        raise errors.UnsafeModelFileError(
            f"{path!r} holds {total:,} bytes when uncompressed, above the cap of "
            f"{max_archive_bytes:,} bytes; unigen refuses it. If you trust the file, "
            f"pass max_archive_bytes= to unigen.load."
        )

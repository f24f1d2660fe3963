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
    """Loads a unigen model saved with ``model.save("....keras")``.

    Args:
        path: path of a ``.keras`` file.
        compile: restore the training configuration (optimizers) too.
        max_config_bytes: largest accepted uncompressed size of the archive's
            ``config.json`` (and ``metadata.json``); 16 MiB by default, far above
            any unigen model's config.
        max_archive_bytes: largest accepted uncompressed size of the whole
            archive; 8 GiB by default.

    Returns:
        The `unigen.GenerativeModel`, ready to ``sample`` and ``log_prob``.

    Raises:
        FileNotFoundError: no file at ``path``.
        unigen.errors.UnsafeModelFileError: the file is not a ``.keras`` file, is
            not a valid archive, is larger than the caps when uncompressed, or
            holds a layer that can run code (such as ``Lambda``).
    """
    from unigen.base import GenerativeModel

    path = os.fspath(path)
    inside = os.path.join(path, "model.keras")
    if os.path.isdir(path) and os.path.isfile(inside):
        raise errors.UnsafeModelFileError(
            f"{path!r} is a directory (a training run's output_dir?), not a .keras file; "
            f"the run's model is {inside!r}: load that file.")
    if os.path.isdir(path) or not path.endswith(".keras"):
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

"""Loading saved models safely.

Only the native ``.keras`` format is accepted, and always with Keras's
``safe_mode=True``: ``.h5``/``.hdf5`` files, SavedModel directories and pickles
can run arbitrary code when loaded (CVE-2025-1550, CVE-2025-8747, CVE-2025-9905,
CVE-2025-9906, CVE-2026-1462), and so can a ``Lambda`` layer in a ``.keras`` file,
which safe mode refuses to deserialise.
"""

import os

import keras

from unigen import errors

__all__ = ["load"]


def load(path, *, compile=True):
    """Loads a unigen model saved with ``model.save("....keras")``.

    Args:
        path: path of a ``.keras`` file.
        compile: restore the training configuration (optimizers) too.

    Returns:
        The `unigen.GenerativeModel`, ready to ``sample`` and ``log_prob``.

    Raises:
        FileNotFoundError: no file at ``path``.
        unigen.errors.UnsafeModelFileError: the file is not a ``.keras`` file, or
            it holds a layer that can run code (such as ``Lambda``).
    """
    from unigen.base import GenerativeModel

    path = os.fspath(path)
    if os.path.isdir(path) or not path.endswith(".keras"):
        raise errors.UnsafeModelFileError(
            f"unigen loads only .keras files, got {path!r}. Formats such as .h5, "
            f"SavedModel directories and pickles can run code when loaded; re-save "
            f"the model with model.save('model.keras') from a trusted session."
        )
    if not os.path.exists(path):
        raise FileNotFoundError(f"No model file at {path!r}.")
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

"""Exceptions raised by unigen.

Every error says what was wrong and how to fix it. All of them derive from the
built-in exception a user would expect (``ValueError``, ``FileNotFoundError``,
``RuntimeError``), so ``except ValueError`` keeps working.
"""

__all__ = [
    "DataError",
    "DatasetNotFoundError",
    "ImplicitModelError",
    "RunDirectoryError",
    "RunDirectoryLockedError",
    "RunMismatchError",
    "TrainingDivergedError",
    "UnsafeModelFileError",
]


class DataError(ValueError):
    """The data passed to a model or to `unigen.fit` is not what it expects."""


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are not on this machine (unigen never downloads)."""


class ImplicitModelError(NotImplementedError):
    """The model defines no tractable density (for example a GAN)."""


class RunDirectoryError(ValueError):
    """An ``output_dir`` cannot be used as it is: a file is missing, damaged or
    unreadable, or the path is not a directory.

    The message names the file and the fix. `unigen.fit` never trains over such
    a directory: it raises before anything in it is changed. The two ways out
    are a new ``output_dir``, or ``resume=False`` (``unigen train --overwrite``),
    which deletes the run's files and starts over.

    Attributes:
        path: the file or directory at fault.
    """

    def __init__(self, message, path=None):
        super().__init__(message)
        self.path = path


class RunDirectoryLockedError(RunDirectoryError):
    """Another process is writing to the same ``output_dir``.

    `unigen.fit` holds an advisory lock on ``output_dir/.lock`` for the whole
    run; the operating system releases it when the process ends, even when it is
    killed, so this error always means a live writer.
    """


class RunMismatchError(RunDirectoryError):
    """``output_dir`` holds a run with other settings than this call.

    Attributes:
        differences: dict mapping each differing setting to ``(old, new)``.
    """

    def __init__(self, message, path=None, differences=None):
        super().__init__(message, path)
        self.differences = dict(differences or {})


class TrainingDivergedError(RuntimeError):
    """The training loss became NaN or infinite; the run was stopped.

    Attributes:
        history: the `keras.callbacks.History` of the stopped run.
        checkpoint: path of the last good checkpoint, or None.
    """

    def __init__(self, message, history=None, checkpoint=None):
        super().__init__(message)
        self.history = history
        self.checkpoint = checkpoint


class UnsafeModelFileError(ValueError):
    """A model file is in a format, or holds a layer, that can run code on load."""

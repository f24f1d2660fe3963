"""Keeping a healthy run's log free of false alarms, without hiding real errors.

The ``tensorflow`` wheel is built with CUDA. On a machine without an NVIDIA
driver its first device query calls ``cuInit``, which fails, and TensorFlow logs
``E ... cuda_platform.cc:52] failed call to cuInit: ... (303)`` at ERROR level
(tensorflow/tensorflow#37689), although the run then proceeds on the CPU as
intended. `probe_devices` makes that first query itself, with the C++ stderr
(file descriptor 2) captured, and writes every captured line back except that
one, and drops it only when the query found no GPU. Any other message, and the
cuInit failure on a machine that does have a GPU, still reaches the user. The
query lists physical devices only, so it does not start the TensorFlow runtime
(strategies and logical-device splits can still be set up after it).
"""

from unigen._startup import captured_stderr, write_stderr

__all__ = []

_NO_DRIVER_LINE = "failed call to cuInit"
_probed = False


def probe_devices():
    """Lists the GPUs once per process, dropping the no-driver cuInit error line."""
    global _probed
    if _probed:
        return
    _probed = True
    import tensorflow as tf

    captured = gpus = None
    try:
        with captured_stderr() as captured:
            gpus = tf.config.list_physical_devices("GPU")
    finally:
        if captured:
            write_stderr([line for line in captured[0].splitlines(keepends=True)
                          if gpus or _NO_DRIVER_LINE not in line])

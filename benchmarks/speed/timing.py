"""A/B timing that shares the machine's noise fairly, and a description of the machine.

Every speed figure of the suite is a ratio of two rates measured in the same
process and the same minutes: the contenders run in alternating order (A, B,
then B, A, ...) in rounds, the first round (tracing, warm-up) is dropped, and
the medians of the remaining rounds are compared. Load from other processes
then hits both sides alike, and the median ignores the odd slow round.
"""

import os
import platform
import statistics
import time

import keras

__all__ = ["EpochTimer", "alternate", "label", "machine", "ratio"]


class EpochTimer(keras.callbacks.Callback):
    """Seconds of each epoch, from ``on_epoch_begin`` to ``on_epoch_end``."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def alternate(runners, rounds, warmup=1):
    """Runs each contender once per round, alternating the order; returns rates.

    Args:
        runners: dict name -> zero-argument function that runs one timed block
            and returns its rate (steps per second, higher is better). A
            function may raise; the error is recorded and that contender drops out.
        rounds: timed rounds kept.
        warmup: rounds run first and dropped (tracing and compilation).

    Returns:
        dict name -> {"rates": [...], "median": float} or {"error": str}.
    """
    names = list(runners)
    rates = {name: [] for name in names}
    errors = {}
    for r in range(warmup + rounds):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            if name in errors:
                continue
            try:
                rate = float(runners[name]())
            except Exception as err:  # recorded in the results, not hidden
                errors[name] = f"{type(err).__name__}: {str(err)[:300]}"
                continue
            if r >= warmup:
                rates[name].append(rate)
    out = {}
    for name in names:
        if name in errors:
            out[name] = {"error": errors[name]}
        else:
            out[name] = {"rates": rates[name], "median": statistics.median(rates[name])}
    return out


def ratio(results, numerator, denominator):
    """median(numerator) / median(denominator), or None when either failed."""
    a, b = results.get(numerator, {}), results.get(denominator, {})
    if "median" not in a or "median" not in b or not b["median"]:
        return None
    return a["median"] / b["median"]


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(device):
    """What the figures were measured on: CPU, cores, GPU, versions, load."""
    import tensorflow as tf

    info = {"device": device, "cpu": _cpu_model(), "cores": os.cpu_count(),
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


def label(info):
    """One line naming the device, for the Markdown table."""
    where = ", ".join(info.get("gpus", [])) or f"{info['cpu']} ({info['cores']} cores)"
    return f"{info['device']}: {where}; TensorFlow {info['tensorflow']}, Keras {info['keras']}"

"""A/B timing that shares the machine's noise fairly, and a one-line label of the machine.

Every speed figure of the suite is a ratio of two rates measured in the same
process and the same minutes: the contenders run in alternating order (A, B,
then B, A, ...) in rounds, the first round (tracing, warm-up) is dropped, and
the medians of the remaining rounds are compared. Load from other processes
then hits both sides alike, and the median ignores the odd slow round.
"""

import statistics
import threading
import time

import keras

__all__ = ["EpochTimer", "alternate", "alternate_epochs", "label", "ratio"]


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
    return _summary(names, rates, errors)


def _summary(names, rates, errors):
    out = {}
    for name in names:
        if name in errors:
            out[name] = {"error": errors[name]}
        elif rates[name]:
            out[name] = {"rates": rates[name], "median": statistics.median(rates[name])}
        else:
            out[name] = {"error": "no timed epoch (training stopped early)"}
    return out


def alternate_epochs(trainers, rounds, steps, warmup=1, steps_per_batch=None, between=None):
    """Alternates the epochs of several Keras ``fit`` calls; returns steps per second.

    Keras traces the training step again in the first epoch of every ``fit``
    call, so each contender trains in one call of ``warmup + rounds`` epochs,
    in its own thread, and the threads take turns epoch by epoch, in a fresh
    order each round (`benchmarks.speed.steps.round_order`): only one
    contender computes at a time. An epoch is
    timed from its ``on_epoch_begin`` (once it has the turn) to its
    ``on_epoch_end``; the ``warmup`` first epochs (tracing) are dropped.

    Args:
        trainers: dict name -> function(epochs, callbacks) making one ``fit``
            call with those epochs and callbacks.
        rounds: timed epochs per contender.
        steps: steps per epoch.
        warmup: epochs dropped first (their seconds are kept as "trace_seconds").
        steps_per_batch: dict name -> training steps per Keras batch callback
            (``steps_per_execution``); 1 when absent.
        between: optional zero-argument function run after every round, while
            no contender computes (the matmul peak); its results are returned
            under the key ``"between"``.

    Every Keras batch is timed too, from ``on_train_batch_begin`` to
    ``on_train_batch_end`` (divided by its steps). The rate of an epoch is
    1 / (median seconds per step in it), so the odd step slowed by another
    process does not move it; "round_medians" holds those per-epoch medians,
    "median" is 1 / median of all timed steps.

    Returns:
        dict name -> {"rates": [...], "median": float, "round_medians": [...],
        "trace_seconds": float} or {"error": str}.
    """
    per_batch = steps_per_batch or {}
    names = list(trainers)
    from benchmarks.speed.steps import round_order

    schedule = [n for r in range(warmup + rounds) for n in round_order(names, r)]
    turn = threading.Condition()
    state = {"position": 0}
    gone, errors = set(), {}
    seconds = {name: [] for name in names}
    step_seconds = {name: [] for name in names}  # per epoch, a list per step

    def current():
        return schedule[state["position"]] if state["position"] < len(schedule) else None

    between_results = []

    def advance():  # called with `turn` held
        state["position"] += 1
        if between is not None and state["position"] % len(names) == 0 and \
                state["position"] > warmup * len(names):
            between_results.append(between())
        while current() in gone:
            state["position"] += 1
        turn.notify_all()

    class _Turn(keras.callbacks.Callback):
        def __init__(self, name):
            super().__init__()
            self.name = name

        def on_epoch_begin(self, epoch, logs=None):
            with turn:
                turn.wait_for(lambda: current() == self.name)
            self._start = time.perf_counter()
            step_seconds[self.name].append([])

        def on_train_batch_begin(self, batch, logs=None):
            self._batch_start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            k = per_batch.get(self.name, 1)
            step_seconds[self.name][-1].extend(
                [(time.perf_counter() - self._batch_start) / k] * k)

        def on_epoch_end(self, epoch, logs=None):
            seconds[self.name].append(time.perf_counter() - self._start)
            with turn:
                advance()

    def work(name):
        try:
            trainers[name](warmup + rounds, [_Turn(name)])
        except Exception as err:  # recorded in the results, not hidden
            errors[name] = f"{type(err).__name__}: {str(err)[:300]}"
        with turn:
            gone.add(name)
            if current() == name:
                advance()

    threads = [threading.Thread(target=work, args=(name,), daemon=True) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out = _summary(names, {name: [1.0 / statistics.median(b) for b in step_seconds[name][warmup:]
                                  if b] for name in names}, errors)
    for name in names:
        timed = [s for b in step_seconds[name][warmup:] for s in b]
        if "median" in out[name] and timed:
            out[name].update(median=1.0 / statistics.median(timed),
                             round_medians=[statistics.median(b)
                                            for b in step_seconds[name][warmup:] if b],
                             trace_seconds=sum(seconds[name][:warmup]),
                             epoch_seconds=seconds[name][warmup:], steps_per_epoch=steps)
    if between is not None:
        out["between"] = between_results
    return out


def ratio(results, numerator, denominator):
    """median(numerator) / median(denominator), or None when either failed."""
    a, b = results.get(numerator, {}), results.get(denominator, {})
    if "median" not in a or "median" not in b or not b["median"]:
        return None
    return a["median"] / b["median"]


def label(info):
    """One line naming the device of `benchmarks.describe_machine`, for the Markdown table."""
    where = ", ".join(info.get("gpus", [])) or f"{info['cpu']} ({info['cores']} cores)"
    return f"{info['device']}: {where}; TensorFlow {info['tensorflow']}, Keras {info['keras']}"

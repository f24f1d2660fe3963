"""Callbacks that `unigen.fit` adds to every run; usable with `Model.fit` too."""

import math
import os
import shutil
import tempfile
import time

import keras
import numpy as np

from unigen.images import save_grid
from unigen.training import _rundir

__all__ = ["RunWriter", "StopOnNonFinite", "TrainingClock"]


class StopOnNonFinite(keras.callbacks.Callback):
    """Stops training as soon as a reported value is NaN or infinite.

    Every value the model reports is watched, not only ``loss``: after each
    batch the training metrics (a critic's ``critic_loss``, a VAE's ``kl``,
    ...), at each epoch's end also the validation ones (``val_loss``). A
    critic or a validation score can break while the generator's loss is still
    finite; before, such an epoch was only left without a checkpoint and the
    run went on.

    Unlike `keras.callbacks.TerminateOnNaN` it remembers where it stopped
    (``stopped_at`` = (epoch, batch, value), batch None at an epoch's end,
    and ``metric``, the name of the value) so `unigen.fit` can report it, and
    it tells `RunWriter` not to checkpoint the bad weights.

    With ``keep_last_good=True`` it also holds a copy of the model's training
    state (`training_state`: weights and optimizer variables) as it was when
    training began and after every epoch whose values were all finite, so
    that `restore_last_good` can put the model back where it last was good
    (``last_good_epoch``: the number of epochs finished then; 0 for the start).
    `unigen.fit` uses it when no checkpoint on disk can serve.
    """

    def __init__(self, keep_last_good=False, initial_epoch=0):
        super().__init__()
        self.stopped_at = None
        self.metric = None
        self.epoch = initial_epoch  # the epoch running (or the last one that ran)
        self.keep_last_good = keep_last_good
        self.last_good_epoch = None
        self._last_good = None

    def on_train_begin(self, logs=None):
        if self.keep_last_good:
            self._keep(self.epoch)

    def _keep(self, finished_epochs):
        self._last_good = [np.array(v.numpy()) for v in self.model.training_state()]
        self.last_good_epoch = finished_epochs

    def restore_last_good(self):
        """Puts the kept state back into the model; False when none was kept."""
        if self._last_good is None:
            return False
        for variable, value in zip(self.model.training_state(), self._last_good, strict=True):
            variable.assign(value)
        return True

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self._check(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._check(None, logs)
        if self.keep_last_good and self.stopped_at is None:
            self._keep(epoch + 1)

    def _check(self, batch, logs):
        if self.stopped_at is not None:
            return
        for name, value in sorted((logs or {}).items(), key=lambda item: item[0] != "loss"):
            bad = _non_finite(value)
            if bad is not None:
                self.stopped_at = (self.epoch, batch, bad)
                self.metric = name
                self.model.stop_training = True
                return


def _non_finite(value):
    """The first NaN or infinite number in a reported value, or None."""
    try:
        values = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        return None
    bad = values[~np.isfinite(values)]
    return float(bad[0]) if bad.size else None


class RunWriter(keras.callbacks.Callback):
    """Writes the run directory after each epoch (see `unigen.training._rundir`).

    Args:
        directory: the run's output directory.
        state_variables: zero-argument function returning the variables to
            checkpoint (model, optimizers, random generators).
        history: metrics of earlier epochs (when resuming), extended in place.
        stop_guard: a `StopOnNonFinite`; no checkpoint is written once it fired.
        sample_grid: None, or dict(num_samples, seed, num_levels) to write a PNG
            grid of samples per epoch.
        enabled: False on non-chief workers. They run the same operations (some
            are collective under multi-worker training, so every worker must run
            them) into a temporary directory that is deleted at once.
        resumed_epoch: the epoch of the checkpoint a resumed run started from
            (its last good epoch until a new one finishes), or None.

    Each epoch's end writes, in order: the checkpoint (weights, optimizer and
    random-generator state, epoch number and history in one file), then
    ``history.json``, ``model.keras`` and the sample grid, each atomically.
    """

    def __init__(self, directory, state_variables, history, stop_guard,
                 sample_grid=None, enabled=True, resumed_epoch=None):
        super().__init__()
        self.directory = directory
        self.state_variables = state_variables
        self.history = history
        self.stop_guard = stop_guard
        self.sample_grid = sample_grid
        self.enabled = enabled
        self.last_good_epoch = resumed_epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.stop_guard is not None and self.stop_guard.stopped_at is not None:
            return
        values = {k: float(np.asarray(v)) for k, v in (logs or {}).items()}
        if not all(math.isfinite(v) for v in values.values()):
            return
        for key, value in values.items():
            self.history.setdefault(key, []).append(value)
        self.last_good_epoch = epoch + 1
        directory = self.directory if self.enabled else tempfile.mkdtemp(prefix="unigen-")
        try:
            self._write(directory, epoch)
        finally:
            if not self.enabled:
                shutil.rmtree(directory, ignore_errors=True)

    def _write(self, directory, epoch):
        done = epoch + 1
        _rundir.save_checkpoint(directory, self.state_variables(), done, self.history)
        _rundir.write_json(os.path.join(directory, _rundir.HISTORY), self.history,
                           stage="history", epoch=done)
        _rundir.save_model(directory, self.model, done)
        if self.sample_grid is not None:
            grid = self.sample_grid
            images = np.asarray(self.model.sample(grid["num_samples"], seed=grid["seed"]))
            path = os.path.join(directory, _rundir.SAMPLES, f"epoch_{done:03d}.png")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            _rundir.atomic_write(
                path, lambda tmp: save_grid(tmp, images, num_levels=grid.get("num_levels")),
                stage="samples", epoch=done)


class TrainingClock(keras.callbacks.Callback):
    """A training-time budget and evaluations at fixed training times.

    The training time is the wall-clock time since ``fit`` began (or since the
    end of the first ``warmup_steps`` batches) minus the time spent in
    ``evaluate``: t = (now - start) - sum of evaluation times. After
    each batch, once t reaches the next multiple of ``every`` (``every``,
    ``2 every``, ...), ``evaluate(model)`` runs and its result is added to
    `curve`; once t reaches ``budget`` training stops. One last evaluation runs
    when training ends, unless the last batch was just evaluated. Curves of
    several models measured this way share one time axis ("time to reach a
    score") however long their evaluations take.

    Example::

        clock = TrainingClock(budget=300, every=30,
                              evaluate=lambda m: {"fid": score(m)})
        unigen.fit(gan, x, epochs=1000, callbacks=[clock])
        clock.curve     # [{"seconds": 30.2, "steps": 171, "fid": ...}, ...]

    Args:
        budget: seconds of training time after which training stops; None:
            no limit (``fit`` runs its epochs).
        every: seconds of training time between evaluations; None: only the
            final one (if ``evaluate`` is given).
        evaluate: None, or a function of the model returning a dict of floats.
        warmup_steps: batches before the clock starts (the first one traces
            and compiles the step); they count in `steps`, not in `seconds`.
        clock: the time function (default `time.perf_counter`).

    Attributes:
        steps: batches trained (counted over all of this callback's ``fit``
            calls).
        seconds: training time so far.
        evaluation_seconds: time spent in ``evaluate``.
        curve: one dict per evaluation: ``seconds`` (training time),
            ``steps`` and the entries ``evaluate`` returned.
    """

    def __init__(self, budget=None, every=None, evaluate=None, warmup_steps=0,
                 clock=time.perf_counter):
        super().__init__()
        for name, value in (("budget", budget), ("every", every)):
            if value is not None and not float(value) > 0:
                raise ValueError(f"`{name}` must be a positive number of seconds or None, "
                                 f"got {value!r}.")
        if every is not None and evaluate is None:
            raise ValueError("`every` needs `evaluate`, the function to call.")
        self.budget = None if budget is None else float(budget)
        self.every = None if every is None else float(every)
        self.evaluate = evaluate
        self.warmup_steps = int(warmup_steps)
        if self.warmup_steps < 0:
            raise ValueError(f"`warmup_steps` must be >= 0, got {warmup_steps!r}.")
        self.clock = clock
        self.steps = 0
        self.seconds = 0.0
        self.evaluation_seconds = 0.0
        self.curve = []
        self._next = self.every
        self._started = None

    def on_train_begin(self, logs=None):
        # Resumes the count when the same clock is passed to another fit call.
        self._started = self.clock() - self.seconds

    def _now(self):
        return self.clock() - self._started

    def _record(self):
        started = self.clock()
        point = {"seconds": self.seconds, "steps": self.steps,
                 **{k: float(v) for k, v in self.evaluate(self.model).items()}}
        self.curve.append(point)
        spent = self.clock() - started
        self.evaluation_seconds += spent
        self._started += spent  # evaluation time is off the training clock

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if self.steps <= self.warmup_steps:
            self._started = self.clock()  # the clock starts after the warm-up
            return
        self.seconds = self._now()
        if self._next is not None and self.seconds >= self._next:
            self._record()
            while self._next <= self.seconds:
                self._next += self.every
        if self.budget is not None and self.seconds >= self.budget:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        self.seconds = self._now()
        if self.evaluate is not None and self.steps and (
                not self.curve or self.curve[-1]["steps"] != self.steps):
            self._record()

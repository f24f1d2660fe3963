"""`TrainingClock`: the budget, evaluations at training times, evaluation time off the clock."""

import keras
import numpy as np
import pytest

from unigen.training.callbacks import TrainingClock


class _FakeTime:
    """A clock that one second of "training" advances per batch."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class _Tick(keras.callbacks.Callback):
    def __init__(self, clock):
        super().__init__()
        self.clock = clock

    def on_train_batch_end(self, batch, logs=None):
        self.clock.now += 1.0


def _fit(callbacks, epochs=20):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.zeros((8, 2), "float32")
    model.fit(x, x[:, :1], batch_size=2, epochs=epochs, verbose=0, callbacks=callbacks)
    return model


def test_budget_and_curve_exclude_evaluation_time():
    fake = _FakeTime()
    calls = []

    def evaluate(model):
        calls.append(model)
        fake.now += 100.0  # a slow evaluation: must not count as training time
        return {"score": len(calls)}

    clock = TrainingClock(budget=5, every=2, evaluate=evaluate, clock=fake)
    model = _fit([_Tick(fake), clock])
    # One second per batch: stops after the 5th batch, evaluated after batches 2, 4
    # and at the end; 300 s of evaluation are not training time.
    assert clock.steps == 5
    assert clock.seconds == 5.0
    assert clock.evaluation_seconds == 300.0
    assert [p["seconds"] for p in clock.curve] == [2.0, 4.0, 5.0]
    assert [p["steps"] for p in clock.curve] == [2, 4, 5]
    assert [p["score"] for p in clock.curve] == [1.0, 2.0, 3.0]
    assert all(m is model for m in calls)


def test_no_budget_runs_all_epochs_and_final_point_once():
    fake = _FakeTime()
    clock = TrainingClock(every=4, evaluate=lambda m: {"x": 0.0}, clock=fake)
    _fit([_Tick(fake), clock], epochs=2)  # 8 batches, evaluations at 4 and 8 only
    assert clock.steps == 8
    assert [p["steps"] for p in clock.curve] == [4, 8]


def test_warmup_steps_are_counted_but_not_timed():
    fake = _FakeTime()
    clock = TrainingClock(budget=3, warmup_steps=2, clock=fake)
    _fit([_Tick(fake), clock])
    assert clock.steps == 5 and clock.seconds == 3.0


def test_bad_arguments():
    with pytest.raises(ValueError, match="`budget` must be a positive"):
        TrainingClock(budget=0)
    with pytest.raises(ValueError, match="`every` needs `evaluate`"):
        TrainingClock(every=3)

"""The per-step A/B harness of the speed suite (`benchmarks.speed.steps`).

No timed assertions: the harness runs on trivial contenders and its
statistics are checked on hand-made round medians.
"""

import pytest

from benchmarks.speed import steps


def _result(a, b, twin):
    return {"contenders": {"a": {"round_medians": a}, "b": {"round_medians": b},
                           "a (A/A)": {"round_medians": twin}},
            "control": {"name": "a", "twin": "a (A/A)",
                        "ratio": {"median": 1.0, "quartiles": [1.0, 1.0]}}}


def test_interleave_times_every_contender_with_a_control_and_a_peak():
    calls = []
    result = steps.interleave({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
                              rounds=3, steps_per_round=2, warmup_steps=1, control="a",
                              peak=lambda: 100.0)
    assert set(result["contenders"]) == {"a", "b", "a (A/A)"}
    for entry in result["contenders"].values():
        assert entry["steps_timed"] == 6 and len(entry["round_medians"]) == 3
        assert entry["trace_seconds"] >= 0 and entry["steps_per_second"] > 0
    # first call + 1 warm-up each (the twin shares a's function) + 3 rounds x 2 steps
    assert calls.count("a") == 1 + 2 + 2 * 3 * 2 and calls.count("b") == 1 + 1 + 3 * 2
    assert result["peak_gflops"] == [100.0] * 3 and len(result["load_average"]) == 3
    assert "median" in result["control"]["ratio"]
    with pytest.raises(ValueError, match="control"):
        steps.interleave({"a": lambda: None}, 1, 1, control="c")


def test_compare_is_per_round_and_says_no_difference_within_the_aa_spread():
    result = _result(a=[1.0, 2.0, 1.0, 1.0], b=[2.0, 4.0, 2.0, 2.0], twin=[1.0, 2.0, 1.0, 1.0])
    result["control"]["ratio"] = steps.compare(result, "a", "a (A/A)", with_verdict=False)
    ratio = steps.compare(result, "a", "b")
    assert ratio["per_round"] == [2.0, 2.0, 2.0, 2.0] and ratio["median"] == 2.0
    assert ratio["noise_floor"] == 0.0 and ratio["verdict"] == "faster"
    assert steps.compare(result, "b", "a")["verdict"] == "slower"
    # An A/A pair that differs by up to 10 % makes a 5 % effect "no difference".
    noisy = _result(a=[1.0] * 4, b=[1.05] * 4, twin=[0.9, 1.1, 0.95, 1.1])
    noisy["control"]["ratio"] = steps.compare(noisy, "a", "a (A/A)", with_verdict=False)
    verdict = steps.compare(noisy, "a", "b")
    assert verdict["noise_floor"] >= 0.05 and verdict["verdict"] == "no difference"


def test_the_noise_floor_is_a_factor_so_a_large_slowdown_is_not_hidden_by_load():
    # A/A quartiles 0.9x to 3.7x (load 10): a 20x slower contender is still "slower",
    # and r and 1/r are equally far from 1.
    result = _result(a=[1.0] * 4, b=[0.05] * 4, twin=[0.3, 0.3, 1.0, 3.7])
    result["control"]["ratio"] = steps.compare(result, "a", "a (A/A)", with_verdict=False)
    floor = steps.noise_floor(result)
    assert 2.0 < floor <= 2.7 + 1e-9
    assert steps.compare(result, "a", "b")["verdict"] == "slower"
    assert steps.compare(result, "b", "a")["verdict"] == "faster"
    assert steps._distance_from_one(0.8) == steps._distance_from_one(1.25)


def test_quartiles():
    assert steps.quartiles([3.0]) == (3.0, 3.0, 3.0)
    assert steps.quartiles([1.0, 2.0, 3.0, 4.0, 5.0]) == (2.0, 3.0, 4.0)


def test_round_orders_put_every_pair_adjacent_and_apart():
    names = ["a", "b", "c", "a (A/A)"]
    orders = [steps.round_order(names, r) for r in range(16)]
    assert orders == [steps.round_order(names, r) for r in range(16)]  # a fixed seed
    for x in names:
        for y in names:
            if x < y:
                gaps = {abs(o.index(x) - o.index(y)) for o in orders}
                assert {1, 3} <= gaps, (x, y, gaps)
    assert all(sorted(o) == sorted(names) for o in orders)


def test_interleave_records_process_cpu_time_and_compares_on_it():
    import time

    def busy():  # CPU work, no waiting: CPU time close to wall time
        end = time.process_time() + 0.002
        while time.process_time() < end:
            pass

    result = steps.interleave({"busy": busy, "sleepy": lambda: time.sleep(0.002)}, rounds=2,
                              steps_per_round=2, warmup_steps=0, control="busy")
    busy_entry, sleepy_entry = result["contenders"]["busy"], result["contenders"]["sleepy"]
    assert len(busy_entry["cpu_round_medians"]) == 2
    assert busy_entry["cpu_step_seconds_median"] >= 0.002 - 1e-4
    assert sleepy_entry["cpu_step_seconds_median"] < busy_entry["cpu_step_seconds_median"]
    assert "median" in result["control"]["cpu_ratio"]
    cpu = steps.compare(result, "sleepy", "busy", clock="cpu")
    assert cpu["median"] > 1.0 and "verdict" in cpu  # sleeping costs no CPU time


def test_train_step_runner_steps_the_model_and_the_graph_counts_its_ops():
    import numpy as np
    import tensorflow as tf

    import unigen

    model = unigen.models.Gaussian((3,))
    model.compile(optimizer="sgd")
    data = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices(data).batch(4)
    step = steps.train_step_runner(model, dataset)
    before = [w.numpy().copy() for w in model.trainable_weights]
    losses = [step() for _ in range(3)]  # three steps: past the end of one pass
    assert all(isinstance(loss, float) and np.isfinite(loss) for loss in losses)
    assert any(not np.array_equal(b, w.numpy())
               for b, w in zip(before, model.trainable_weights, strict=True))
    graph, ops = steps.train_step_graph(model, (4, 3))
    assert sum(ops.values()) == len(graph.get_operations()) > 0

"""Kills, interrupts and a second writer at every point of the epoch-end write.

A job (tests/training/_fault_job.py) dies with os._exit at a named step of the
run writer (a hook, never a timer); the same `unigen.fit` call run again must
give the weights, history and model file of a run that was never interrupted.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, run_python

import unigen
from unigen.errors import RunDirectoryLockedError
from unigen.training import _rundir

JOB = os.path.join(ROOT, "tests", "training", "_fault_job.py")
EPOCHS = 3
# Every step of the epoch-end write, in order: temporary file on disk, then renamed.
STAGES = ["checkpoint.tmp", "checkpoint.replaced", "history.tmp", "history.replaced",
          "model.tmp", "model.replaced", "samples.tmp", "samples.replaced"]


def _fit(out, **kwargs):
    model = unigen.models.Gaussian((8, 8, 1), num_levels=17)
    history = unigen.fit(model, "digits", epochs=EPOCHS, batch_size=100, seed=0,
                         learning_rate=0.05, output_dir=out, verbose=0, **kwargs)
    return model, history


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    model, history = _fit(str(tmp_path_factory.mktemp("reference") / "run"))
    return model.get_weights(), history.history


def _check_like_reference(out, model, history, reference):
    weights, losses = reference
    for a, b in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert history.history == losses and len(history.history["loss"]) == EPOCHS
    with open(os.path.join(out, "history.json")) as f:
        assert json.load(f) == losses
    with np.load(os.path.join(out, "checkpoint.npz")) as ckpt:
        assert int(ckpt["epoch"]) == EPOCHS
    saved = unigen.load(os.path.join(out, "model.keras"))
    for a, b in zip(weights, saved.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    leftovers = [n for _, _, files in os.walk(out) for n in files if ".tmp-" in n]
    assert leftovers == []


@pytest.mark.parametrize(("stage", "epoch"), [*((s, EPOCHS) for s in STAGES),
                                              ("checkpoint.replaced", 2), ("model.tmp", 2)])
def test_kill_at_each_step_of_the_epoch_write_then_rerun(stage, epoch, reference, tmp_path):
    out = str(tmp_path / "run")
    killed = run_python([JOB, "--out", out, "--stage", stage, "--epoch", str(epoch)],
                        check=False)
    assert killed.returncode == 3, killed.stderr[-3000:]
    model, history = _fit(out)
    _check_like_reference(out, model, history, reference)


def test_an_emptied_model_file_of_a_finished_run_is_rewritten(reference, tmp_path):
    out = str(tmp_path / "run")
    _fit(out)
    open(os.path.join(out, "model.keras"), "wb").close()  # 0 bytes, as a kill could leave
    model, history = _fit(out)
    _check_like_reference(out, model, history, reference)


@pytest.mark.parametrize("stage", ["checkpoint.tmp", "history.tmp", "model.tmp"])
def test_ctrl_c_during_the_epoch_write_then_rerun(stage, reference, tmp_path, monkeypatch):
    out = str(tmp_path / "run")

    def interrupt(at, epoch):
        if (at, epoch) == (stage, 2):
            raise KeyboardInterrupt

    monkeypatch.setattr(_rundir, "_fault_point", interrupt)
    with pytest.raises(KeyboardInterrupt):
        _fit(out)
    monkeypatch.undo()
    model, history = _fit(out)  # the lock was released by the interrupted run
    _check_like_reference(out, model, history, reference)


def _wait_for(path, proc):
    """Waits until the job reaches its hold point (or fails); no timing involved."""
    while not os.path.exists(path):
        if proc.poll() is not None:
            raise AssertionError(f"job exited {proc.returncode}: {proc.stderr.read()[-3000:]}")
        try:
            proc.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            pass


def test_a_second_writer_is_refused_while_the_first_runs(tmp_path):
    out, hold = str(tmp_path / "run"), tmp_path / "hold"
    hold.mkdir()
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "2"}
    first = subprocess.Popen(
        [sys.executable, JOB, "--out", out, "--stage", "checkpoint.replaced", "--epoch", "1",
         "--hold", str(hold)], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(str(hold / "reached"), first)
        second = run_python([JOB, "--out", out, "--stage", "none", "--epoch", "0",
                             "--seed", "1"], check=False)
        assert second.returncode == 1
        assert "RunDirectoryLockedError" in second.stderr
        assert "Another process is writing" in second.stderr
        with pytest.raises(RunDirectoryLockedError, match="another output_dir"):
            unigen.fit(unigen.models.Gaussian((8, 8, 1), num_levels=17), "digits",
                       seed=1, batch_size=100, output_dir=out, verbose=0)
    finally:
        (hold / "release").touch()
        first.communicate(timeout=300)
    assert first.returncode == 0
    with open(os.path.join(out, "config.json")) as f:
        assert json.load(f)["seed"] == 0  # the second writer changed nothing


def test_a_killed_writer_leaves_no_stale_lock(reference, tmp_path):
    out = str(tmp_path / "run")
    killed = run_python([JOB, "--out", out, "--stage", "checkpoint.replaced", "--epoch", "1"],
                        check=False)
    assert killed.returncode == 3
    assert os.path.exists(os.path.join(out, ".lock"))
    model, history = _fit(out)
    _check_like_reference(out, model, history, reference)

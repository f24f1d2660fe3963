"""`unigen.fit` across processes: seeds, kill-and-resume, replicas, workers.

Each test starts fresh Python processes (tests/training/jobs.py), because bit-for-bit
repetition, a killed job and the strategies all need a new process.
"""

import json
import os
import socket

import numpy as np
import pytest
from conftest import ROOT, run_python

JOB = os.path.join(ROOT, "tests", "training", "jobs.py")


def _load(path):
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def _weights(d):
    return [d[k] for k in sorted(k for k in d if k.startswith("w"))]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("uninterrupted")
    run_python([JOB, "--out", str(tmp / "run"), "--dump", str(tmp / "a.npz")])
    return tmp


def test_same_seed_two_processes_identical(uninterrupted, tmp_path):
    run_python([JOB, "--dump", str(tmp_path / "b.npz")])
    a, b = _load(uninterrupted / "a.npz"), _load(tmp_path / "b.npz")
    for wa, wb in zip(_weights(a), _weights(b), strict=True):
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(a["samples"], b["samples"])
    np.testing.assert_array_equal(a["loss"], b["loss"])


def test_kill_and_resume_matches_uninterrupted(uninterrupted, tmp_path):
    out = str(tmp_path / "run")
    killed = run_python([JOB, "--out", out, "--dump", str(tmp_path / "k.npz"),
                         "--kill-after", "2"], check=False)
    assert killed.returncode == 3, killed.stderr[-2000:]
    assert not (tmp_path / "k.npz").exists()
    with open(os.path.join(out, "history.json")) as f:
        assert len(json.load(f)["loss"]) == 2
    run_python([JOB, "--out", out, "--dump", str(tmp_path / "r.npz")])
    a, r = _load(uninterrupted / "a.npz"), _load(tmp_path / "r.npz")
    for wa, wr in zip(_weights(a), _weights(r), strict=True):
        np.testing.assert_array_equal(wa, wr)
    np.testing.assert_allclose(a["loss"], r["loss"], rtol=0, atol=0)


def test_two_mirrored_replicas_match_one_device(uninterrupted, tmp_path):
    run_python([JOB, "--replicas", "2", "--dump", str(tmp_path / "m.npz")])
    a, m = _load(uninterrupted / "a.npz"), _load(tmp_path / "m.npz")
    for wa, wm in zip(_weights(a), _weights(m), strict=True):
        np.testing.assert_allclose(wa, wm, atol=1e-5)
    np.testing.assert_allclose(a["loss"], m["loss"], atol=1e-5)


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def test_multiworker_two_processes_match_single_process(uninterrupted, tmp_path):
    import subprocess
    import sys

    ports = _free_ports(2)
    cluster = {"worker": [f"localhost:{p}" for p in ports]}
    procs = []
    for index in range(2):
        env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "2",
               "TF_CONFIG": json.dumps({"cluster": cluster,
                                        "task": {"type": "worker", "index": index}})}
        procs.append(subprocess.Popen(
            [sys.executable, JOB, "--multiworker", "--out", str(tmp_path / f"out{index}"),
             "--dump", str(tmp_path / f"w{index}.npz")],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-4000:]
    w0, w1 = _load(tmp_path / "w0.npz"), _load(tmp_path / "w1.npz")
    a = _load(uninterrupted / "a.npz")
    for x0, x1, xa in zip(_weights(w0), _weights(w1), _weights(a), strict=True):
        np.testing.assert_array_equal(x0, x1)
        np.testing.assert_allclose(x0, xa, atol=1e-5)
    # Only the chief (worker 0) writes the run directory.
    assert (tmp_path / "out0" / "checkpoint.npz").exists()
    assert (tmp_path / "out0" / "model.keras").exists()
    assert not (tmp_path / "out1").exists() or not os.listdir(tmp_path / "out1")

"""Shared fixtures: quiet TensorFlow, and running jobs in fresh processes."""

import os
import subprocess
import sys

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_python(args, *, env=None, timeout=300, check=True, cwd=ROOT):
    """Runs ``python ARGS`` from the repository root in a fresh process."""
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": ROOT, **(env or {})}
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"python {' '.join(args)} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-5000:]}"
        )
    return proc


def run_pythons(arg_lists, *, timeout=300):
    """Runs several ``python ARGS`` at once (fresh processes) and checks each like `run_python`.

    For jobs that are long and mostly single-threaded (tracing, Python), so that two of
    them share a 2-core machine in about the time of one.
    """
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": ROOT}
    procs = [subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for args in arg_lists]
    results = []
    try:
        for args, proc in zip(arg_lists, procs, strict=True):
            stdout, stderr = proc.communicate(timeout=timeout)
            if proc.returncode != 0:
                raise AssertionError(
                    f"python {' '.join(args)} exited {proc.returncode}\n"
                    f"stdout:\n{stdout[-3000:]}\nstderr:\n{stderr[-5000:]}")
            results.append(stdout)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    return results


@pytest.fixture
def python_job():
    return run_python

"""``unigen.fit(jit_compile="auto")``: XLA on GPUs and TPUs, off on CPUs; every family compiles."""

import os
import sys
import types

import numpy as np
import pytest
import tensorflow as tf

import unigen
from unigen.training._distribute import resolve_jit_compile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "models"))
import contract_models as cm


def _fake_strategy(*devices):
    return types.SimpleNamespace(extended=types.SimpleNamespace(worker_devices=devices))


def test_auto_is_xla_on_accelerators_only():
    cpu = "/job:localhost/replica:0/task:0/device:CPU:0"
    assert resolve_jit_compile("auto", tf.distribute.get_strategy()) is False
    assert resolve_jit_compile("auto", _fake_strategy(cpu)) is False
    assert resolve_jit_compile("auto", _fake_strategy("/device:GPU:0", "/device:GPU:1")) is True
    assert resolve_jit_compile("auto", _fake_strategy("/job:worker/task:0/device:TPU:0")) is True
    assert resolve_jit_compile(True, _fake_strategy(cpu)) is True
    assert resolve_jit_compile(False, _fake_strategy("/device:GPU:0")) is False


def test_bad_value_is_named_before_training():
    with pytest.raises(ValueError, match='`jit_compile` must be True, False or "auto", got '):
        unigen.fit(lambda: cm.build("gaussian"), cm.data("gaussian"), epochs=1,
                   jit_compile="yes", verbose=0)


def test_default_on_this_cpu_is_plain_tensorflow():
    result = unigen.fit(lambda: cm.build("gaussian"), cm.data("gaussian"), epochs=1,
                        batch_size=32, verbose=0)
    assert result.model.jit_compile is False


@pytest.mark.parametrize("name", ["glow", "dcgan"])
def test_families_train_under_xla(name):
    result = unigen.fit(lambda: cm.build(name), cm.data(name), epochs=1, batch_size=32,
                        seed=0, jit_compile=True, verbose=0)
    assert result.model.jit_compile is True
    assert np.isfinite(result.history["loss"]).all()

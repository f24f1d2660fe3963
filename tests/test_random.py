"""unigen._random draws what keras.random draws (outside XLA), through one fast path."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from unigen import _random

CASES = [
    ("normal", lambda m, s: m.normal((4, 3), seed=s)),
    ("normal_mean_std_f64", lambda m, s: m.normal((5,), mean=2.0, stddev=0.5, dtype="float64",
                                                  seed=s)),
    ("uniform", lambda m, s: m.uniform((2, 3, 2), seed=s)),
    ("uniform_range_f16", lambda m, s: m.uniform((6,), minval=1e-5, maxval=1 - 1e-5,
                                                 dtype="float16", seed=s)),
    ("randint", lambda m, s: m.randint((7,), 0, 5, seed=s)),
    ("randint_int64", lambda m, s: m.randint((3, 2), -4, 9, dtype="int64", seed=s)),
    ("randint_uint8", lambda m, s: m.randint((4,), 0, 200, dtype="uint8", seed=s)),
]


@pytest.mark.parametrize("name, draw", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("seed", [7, -3, 2**33 + 5])
def test_int_seeds_give_keras_values(name, draw, seed):
    ours, theirs = draw(_random, seed), draw(keras.random, seed)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("name, draw", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("graph", [False, True])
def test_seed_generators_give_keras_values_and_advance_alike(name, draw, graph):
    mine, reference = keras.random.SeedGenerator(11), keras.random.SeedGenerator(11)
    ours, theirs = (lambda: draw(_random, mine)), (lambda: draw(keras.random, reference))
    if graph:
        ours, theirs = tf.function(ours), tf.function(theirs)
    first = ours()
    for _ in range(3):
        np.testing.assert_array_equal(ours() if _ else first, theirs())
    np.testing.assert_array_equal(mine.state.numpy(), reference.state.numpy())
    assert not np.array_equal(ours(), first)  # the stream moves on


def test_under_xla_draws_are_seeded_uniform_and_advance_the_generator():
    generator = keras.random.SeedGenerator(3)
    draw = tf.function(lambda: _random.uniform((20000,), seed=generator), jit_compile=True)
    a, b = draw().numpy(), draw().numpy()
    assert not np.array_equal(a, b)
    assert 0.0 <= a.min() and a.max() < 1.0 and abs(a.mean() - 0.5) < 0.01
    again = keras.random.SeedGenerator(3)
    redo = tf.function(lambda: _random.uniform((20000,), seed=again), jit_compile=True)
    np.testing.assert_array_equal(redo().numpy(), a)  # deterministic from the seed


def test_other_seeds_go_to_keras():
    assert _random._stateless_seed(None) is None
    assert _random.normal((3,)).shape == (3,)  # Keras's global generator
    with pytest.raises(ValueError, match="seed"):
        _random.uniform((2,), seed="abc")

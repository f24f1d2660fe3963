"""`unigen.fit` against a plain Keras loop on the same networks, and with XLA.

For each of DCGAN, the conv VAE and Glow, three contenders train on the same
data with the same batch size and optimizer (Adam, learning rate 1e-3; beta_1
0.5 for the GAN's two optimizers, as `unigen.fit` compiles them):

* ``plain``: the keras-io pattern (`benchmarks.speed.plain_loops`);
* ``unigen``: ``unigen.fit(model, x, epochs=1, ...)`` with its defaults on the CPU;
* ``unigen_xla``: the same with ``jit_compile=True, steps_per_execution=k``.

* ``unigen (A/A)``: a second ``unigen`` contender, built and trained exactly
  like the first: the noise floor of the run.

Each contender makes one ``fit`` call of 1 + rounds short epochs in its own
thread, and the threads take turns epoch by epoch (`timing.alternate_epochs`;
Keras traces the step again in the first epoch of every ``fit`` call, so the
first epoch is dropped and reported as tracing). Every step is timed from
Keras's ``on_train_batch_begin`` to ``on_train_batch_end`` for all of them, so
unigen's per-call set-up (checks, counting the data) is left out and its
per-step costs (its callbacks, pipeline and train_step) are in. A round's
rate is 1 / its median step; ratios are per round, with a verdict against
the A/A spread.
"""

import math

import keras

from benchmarks.speed import configs
from benchmarks.speed.plain_loops import plain_dataset, plain_twin
from benchmarks.speed.steps import compare
from benchmarks.speed.timing import alternate_epochs, ratio

__all__ = ["run"]

LEARNING_RATE = 1e-3


def _unigen_trainer(model, x, cfg, **compile_kwargs):
    import unigen

    def train(epochs, callbacks):
        # seed=None: a seed would reset TensorFlow's global seed, and every
        # tf.function traced before (the other contenders') would trace again.
        unigen.fit(model, x, epochs=epochs, batch_size=cfg["batch"], seed=None, verbose=0,
                   learning_rate=LEARNING_RATE, callbacks=callbacks, **compile_kwargs)

    return train


def _plain_trainer(model, x, cfg):
    data = plain_dataset(x, cfg["batch"])

    def train(epochs, callbacks):
        model.fit(data, epochs=epochs, verbose=0, callbacks=callbacks, shuffle=False)

    return train


def _count(model):
    return int(sum(math.prod(v.shape) for v in model.trainable_variables))


def contenders(name, cfg, x):
    """dict contender -> (model, block function) for the model ``name``."""
    make = configs.factory(name, cfg)
    keras.utils.set_random_seed(0)
    ours, fast, twin, again = make(), make(), make(), make()
    plain = plain_twin(twin, x[:cfg["batch"]], LEARNING_RATE)
    k = cfg["steps_per_execution"]
    return {
        "plain": (plain, _plain_trainer(plain, x, cfg)),
        "unigen": (ours, _unigen_trainer(ours, x, cfg)),
        "unigen_xla": (fast, _unigen_trainer(fast, x, cfg, jit_compile=True,
                                             steps_per_execution=k)),
        _CONTROL: (again, _unigen_trainer(again, x, cfg)),
    }


_CONTROL = "unigen (A/A)"


def run(cfg, names=configs.MODELS, peak=None):
    """Per model: per-step rates of the contenders and the ratios between them.

    Ratios are per round (`benchmarks.speed.steps.compare`) with a verdict
    against the A/A control: a second unigen model, built and trained exactly
    like the first, timed as a contender of its own. ``peak`` (a
    `benchmarks.speed.flops.peak_probe`) runs after every round.
    """
    x = configs.training_data(cfg)
    out = {}
    for name in names:
        entries = contenders(name, cfg, x)
        rates = alternate_epochs({k: v[1] for k, v in entries.items()}, cfg["rounds"],
                                 cfg["steps"],
                                 steps_per_batch={"unigen_xla": cfg["steps_per_execution"]},
                                 between=peak)
        peaks = rates.pop("between", [])
        unigen_over_plain = ratio(rates, "unigen", "plain")
        out[name] = {
            "rates_steps_per_second": rates,
            "overhead": None if unigen_over_plain is None else 1.0 / unigen_over_plain - 1.0,
            "unigen_over_plain": unigen_over_plain,
            "xla_over_plain": ratio(rates, "unigen_xla", "plain"),
            **_per_round(rates),
            "peak_gflops_per_round": peaks,
            "steps_per_execution": cfg["steps_per_execution"],
            "trainable_parameters": {k: _count(v[0]) for k, v in entries.items()},
            "models": {k: v[0] for k, v in entries.items()},  # for the FLOP count; dropped
        }
    return out


def _per_round(rates):
    """Per-round ratios with their A/A verdicts (absent when a contender failed)."""
    if any("round_medians" not in rates.get(n, {}) for n in ("plain", "unigen", _CONTROL)):
        return {}
    rounds = {"contenders": {n: {"round_medians": r["round_medians"]}
                             for n, r in rates.items() if "round_medians" in r}}
    rounds["control"] = {"name": "unigen", "twin": _CONTROL,
                         "ratio": compare(rounds, "unigen", _CONTROL, with_verdict=False)}
    out = {"aa_unigen": rounds["control"]["ratio"],
           "per_round_unigen_over_plain": compare(rounds, "unigen", "plain")}
    if "unigen_xla" in rounds["contenders"]:
        out["per_round_xla_over_plain"] = compare(rounds, "unigen_xla", "plain")
    return out

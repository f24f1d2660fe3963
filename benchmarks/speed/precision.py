"""float32 against mixed precision policies: training speed, and test bits/dim at the same budget.

    python -m benchmarks speed --device cpu --only precision  # "mixed_bfloat16", DCGAN, VAE, Glow
    python -m benchmarks speed --device gpu                   # both mixed policies, Glow (GPU plan)

Per family, ``unigen.fit`` runs at the same size on the same batches
(``seed=0`` for the data order, every contender), alternated epoch by epoch
with `benchmarks.speed.timing.alternate_epochs` (every step timed, the tracing
epoch dropped and reported apart):

* ``float32``: the model in float32, initial weights and noise from seed 0;
* ``float32 (A/A)``: the same network from seed 1, the control: its speed ratio
  to ``float32`` is the noise floor, and its test bits/dim the change that
  another seed causes;
* each policy (``mixed_float16``, ``mixed_bfloat16``): seed 0, built by
  ``unigen.fit(factory, ..., mixed_precision=policy)``: the networks compute in
  16 bits, variables, densities and losses stay float32.

Speed: images per second of each, and the per-round ratio policy / float32
with its verdict against the A/A spread (`benchmarks.speed.steps.compare`),
per policy under ``over_float32``. (The records written in session 10 before
several policies were supported hold one policy: ``policy``,
``policy_over_float32`` and ``bits_per_dim_change_policy``.)

Quality at the same budget (families with a likelihood, when test data are
given): each model's mean test bits/dim after the timed epochs. The change a
policy causes (policy - float32, same seed; ``bits_per_dim_change``) is
reported beside the change another seed causes (A/A - float32); a change
inside the seed's is no evidence that the precision costs likelihood. The
DCGAN has no likelihood; its sample quality at a budget this short is not
measured here.
"""

import time

import numpy as np

__all__ = ["run"]


def _images_per_second(rates, batch):
    entry = dict(rates)
    if "median" in entry:
        entry["images_per_second"] = batch * entry["median"]
    return entry


def _family(name, policies, cfg, train, test, eval_examples, between):
    import unigen
    from benchmarks.speed import configs
    from benchmarks.speed.steps import compare
    from benchmarks.speed.timing import alternate_epochs

    contenders = {"float32": (0, None), "float32 (A/A)": (1, None),
                  **{policy: (0, policy) for policy in policies}}
    models = {}
    x = train[:cfg["batch"] * cfg["steps"]]

    def trainer(contender):
        seed, precision = contenders[contender]
        factory = configs.factory(name, cfg, seed=seed)

        def train_fn(epochs, callbacks):
            history = unigen.fit(factory, x, epochs=epochs, batch_size=cfg["batch"], seed=0,
                                 verbose=0, callbacks=callbacks, mixed_precision=precision,
                                 sample_every_epoch=0)
            models[contender] = history.model
        return train_fn

    rates = alternate_epochs({c: trainer(c) for c in contenders}, cfg["rounds"], cfg["steps"],
                             between=between)
    peaks = rates.pop("between", [])
    out = {"batch_size": cfg["batch"], "steps_trained": (1 + cfg["rounds"]) * cfg["steps"],
           "rates_steps_per_second": {c: _images_per_second(r, cfg["batch"])
                                      for c, r in rates.items()},
           "precision": {c: m.precision for c, m in models.items()}}
    if peaks:
        out["peak_per_round"] = peaks
    if all("round_medians" in r for r in rates.values()):
        rounds = {"contenders": {c: {"round_medians": r["round_medians"]}
                                 for c, r in rates.items()}}
        rounds["control"] = {"ratio": compare(rounds, "float32", "float32 (A/A)",
                                              with_verdict=False)}
        out["aa_float32"] = rounds["control"]["ratio"]
        out["over_float32"] = {p: compare(rounds, p, "float32") for p in policies}
    first = next(iter(models.values()), None)
    if test is not None and first is not None and first.has_log_prob and \
            len(models) == len(contenders):
        held = test[:eval_examples]
        started = time.perf_counter()
        out["test_bits_per_dim"] = {
            c: float(np.mean(np.concatenate([m.bits_per_dim(held[i:i + 250]).numpy()
                                             for i in range(0, len(held), 250)])))
            for c, m in models.items()}
        out["eval_examples"] = len(held)
        out["eval_seconds"] = time.perf_counter() - started
        bpd = out["test_bits_per_dim"]
        out["bits_per_dim_change"] = {p: bpd[p] - bpd["float32"] for p in policies}
        out["bits_per_dim_change_seed"] = bpd["float32 (A/A)"] - bpd["float32"]
    return out


def run(policies, families, cfg, train, test=None, eval_examples=1000, between=None):
    """Measures each policy against float32 for each family (see the module docstring).

    Args:
        policies: a sequence of "mixed_float16" and/or "mixed_bfloat16".
        families: names of `benchmarks.speed.configs.MODELS` ("dcgan", "vae", "glow").
        cfg: a `benchmarks.speed.configs.config` (batch, steps per epoch, timed
            rounds, image shape, levels and widths).
        train: uint8 images of ``cfg["shape"]``, at least ``batch * steps`` of them.
        test: held-out images for the bits/dim at the same budget, or None.
        eval_examples: test images scored per model.
        between: optional function run after every round (the matmul peak).

    Returns:
        dict family -> its figures, plus "policies".
    """
    policies = list(policies)
    out = {"policies": policies}
    for name in families:
        out[name] = _family(name, policies, cfg, train, test, eval_examples, between)
    return out

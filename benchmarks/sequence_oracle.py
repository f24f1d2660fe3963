"""Sequence GANs against maximum likelihood after equal training time, and temperature sweeps.

    python benchmarks/sequence_oracle.py --data oracle [--budget 150] [--smoke]
    python benchmarks/sequence_oracle.py --data words [--budget 100]

Protocol (both datasets): a `SequenceModel` (GRU, 64 units, embedding 32) is
trained by maximum likelihood for ``budget`` seconds of wall time. The GANs
(`GumbelGAN`, `SeqGAN`: the same generator, a `conv_critic`, the "js" game)
start from the MLE model's weights at half the budget (``from_mle``) and train
adversarially for the other half, so every model gets the same training time.
The MLE model at half the budget (the GANs' starting point) is scored too,
so that what adversarial training added is visible. Then, on the test split:
exact test NLL, and at temperatures 0.5 .. 1.5 the
temperature sweep (oracle: oracle NLL of 1,000 samples against test NLL at that
temperature; words: BLEU-4 against test and self-BLEU-4 of 500 samples).

Writes benchmarks/results/sequence_oracle.json (one key per dataset, merged)
and the sweep figure docs/_static/sequences/sweep_<data>.png. Time: about
2 x budget + 2 minutes of evaluation on 2 shared CPU cores (--smoke: 1 minute).
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
STATIC = os.path.join(ROOT, "docs", "_static", "sequences")


def _budget_callback(seconds):
    import keras

    class TimeBudget(keras.callbacks.Callback):
        """Stops training after ``seconds`` of wall time; counts the steps."""

        def on_train_begin(self, logs=None):
            self.start, self.steps = time.perf_counter(), 0

        def on_train_batch_end(self, batch, logs=None):
            self.steps += 1
            if time.perf_counter() - self.start > seconds:
                self.model.stop_training = True

    return TimeBudget()


def _train(model, train, seconds, learning_rate):
    import unigen

    budget = _budget_callback(seconds)
    start = time.perf_counter()
    unigen.fit(model, train, epochs=60, batch_size=64, seed=0, verbose=0,
               learning_rate=learning_rate, callbacks=[budget])
    return {"seconds": time.perf_counter() - start, "steps": budget.steps}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=("oracle", "words"), default="oracle")
    parser.add_argument("--budget", type=float, default=None,
                        help="training seconds per model (default 150 oracle, 100 words)")
    parser.add_argument("--smoke", action="store_true", help="tiny budget: checks the harness")
    args = parser.parse_args()
    budget = args.budget or (6.0 if args.smoke else {"oracle": 150.0, "words": 100.0}[args.data])
    import unigen
    from unigen.models.sequence import GumbelGAN, SeqGAN, SequenceModel

    info = unigen.datasets.info(args.data)
    train = unigen.datasets.as_numpy(args.data, "train")
    test = unigen.datasets.as_numpy(args.data, "test")
    shapes = {"event_shape": info.event_shape, "num_levels": info.num_levels}
    net = {"embedding_dim": 32, "hidden_units": 64}

    mle = SequenceModel(**shapes, **net, seed=0)
    training = {"mle_first_half": _train(mle, train, budget / 2, 3e-3)}
    gans = {
        "gumbel_gan": GumbelGAN.from_mle(mle, seed=1, anneal_steps=300, final_temperature=0.2,
                                         discriminator_learning_rate=1e-3),
        "seqgan": SeqGAN.from_mle(mle, seed=2, discriminator_learning_rate=1e-3),
    }
    half = SequenceModel(**shapes, **net, seed=0)  # the GANs' starting point, kept
    half._ensure_built()
    half.network.set_weights(mle.network.get_weights())
    training["sequence_lm"] = _train(mle, train, budget / 2, 3e-3)
    for name, gan in gans.items():
        training[name] = _train(gan, train, budget / 2, 1e-4)
    models = {"sequence_lm (MLE)": mle, "MLE at half budget": half,
              "gumbel_gan": gans["gumbel_gan"], "seqgan": gans["seqgan"]}

    ctx = unigen.evaluation.EvaluationData(test, dataset=args.data)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        report = unigen.evaluation.compare_sequences(
            models, ctx, output_dir=folder, num_samples=200 if args.smoke else 1000,
            temperatures=(0.7, 1.0) if args.smoke else (0.5, 0.7, 0.85, 1.0, 1.2, 1.5),
            title=f"Equal training time ({budget:g} s) on {args.data}")
        if not args.smoke:
            os.makedirs(STATIC, exist_ok=True)
            shutil.copy(os.path.join(folder, "temperature_sweep.png"),
                        os.path.join(STATIC, f"sweep_{args.data}.png"))
    result = {"budget_seconds": budget, "training": training,
              "evaluation_seconds": time.perf_counter() - start, **report.as_dict()}
    print(report.to_markdown())
    print(json.dumps(training, indent=1))
    if args.smoke:
        return
    from benchmarks import write_result

    write_result("sequence_oracle", {args.data: result}, merge=True)  # one key per dataset


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()

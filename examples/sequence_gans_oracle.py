"""Sequence GANs against maximum likelihood on the oracle, where sample quality is exact.

    python examples/sequence_gans_oracle.py [--steps 600] [--out DIR] [--smoke]

The ``oracle`` data are sequences from a known Markov chain (`unigen.datasets.oracle()`),
so the oracle's NLL of a model's samples is an exact quality score, and the
model's NLL of test sequences its likelihood. Trains a recurrent language model
by maximum likelihood, then a Gumbel-softmax GAN and a REINFORCE GAN (SeqGAN)
starting from it, and writes the temperature sweep of all three (quality
against diversity, one curve per model) with a table to OUT (report.md,
temperature_sweep.png, scores.json). Prints a few decoded samples.

Time on 2 CPU cores: about 4 minutes; --smoke under 30 seconds.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    parser = argparse.ArgumentParser(description="Sequence GANs vs MLE on the oracle")
    parser.add_argument("--steps", type=int, default=600, help="MLE training steps")
    parser.add_argument("--out", default=os.path.join("runs", "sequence_gans_oracle"))
    parser.add_argument("--smoke", action="store_true", help="tiny run (< 30 s)")
    args = parser.parse_args()

    import unigen
    from unigen.models.sequence import GumbelGAN, SeqGAN, SequenceModel

    info = unigen.datasets.info("oracle")
    train = unigen.datasets.as_numpy("oracle", "train",
                                     num_examples=256 if args.smoke else None)
    steps = 4 if args.smoke else args.steps
    size = ({"embedding_dim": 4, "hidden_units": 8} if args.smoke
            else {"embedding_dim": 32, "hidden_units": 64})
    shapes = {"event_shape": info.event_shape, "num_levels": info.num_levels}

    def fit(model, num_steps, learning_rate):
        epochs = max(1, num_steps * 64 // len(train))
        unigen.fit(model, train, epochs=epochs, batch_size=64, seed=0, verbose=0,
                   learning_rate=learning_rate)

    mle = SequenceModel(**shapes, **size)
    fit(mle, steps, 3e-3)
    models = {"sequence_lm (MLE)": mle}
    for name, cls, options in (("gumbel_gan", GumbelGAN, {"anneal_steps": 200}),
                               ("seqgan", SeqGAN, {})):
        gan = cls.from_mle(mle, critic_filters=8 if args.smoke else 64, **options)
        fit(gan, steps // 3, 1e-4)  # adversarial fine-tuning of the MLE generator
        models[name] = gan

    test = unigen.datasets.as_numpy("oracle", "test", num_examples=200 if args.smoke else None)
    ctx = unigen.evaluation.EvaluationData(test, dataset="oracle")
    report = unigen.evaluation.compare_sequences(
        models, ctx, output_dir=args.out, num_samples=100 if args.smoke else 1000,
        temperatures=(0.7, 1.0) if args.smoke else (0.5, 0.7, 0.85, 1.0, 1.2, 1.5))
    print(report.quality_table())
    for name, model in models.items():
        text = info.vocabulary.decode(model.sample(4, seed=0))
        print(f"{name}: {text}")
    print(f"wrote {os.path.join(args.out, 'report.md')} and temperature_sweep.png")


if __name__ == "__main__":
    main()

"""Subprocess job of the model-contract tests (a fresh process per run).

    python tests/models/jobs_contract.py train --replicas 1|2 --dump out.npz
        every configuration trained 2 steps by a factory under a MirroredStrategy
        of that many CPU replicas (1: the default strategy); dumps the weights.
    python tests/models/jobs_contract.py seeds --dump out.npz
        every configuration built before `unigen.fit(seed=0)` and by a factory,
        trained 2 steps each; dumps the weights of both.
    python tests/models/jobs_contract.py strategies
        two MirroredStrategy runs one after another in one process.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))


def _weights(model):
    return [v.numpy() for v in model.weights]


def _train(name, model, strategy=None):
    import contract_models as cm

    import unigen

    return unigen.fit(model, cm.data(name), epochs=1, batch_size=32, seed=0, verbose=0,
                      strategy=strategy).model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["train", "seeds", "strategies"])
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--dump")
    args = parser.parse_args()
    import unigen

    if args.replicas > 1 or args.mode == "strategies":
        devices = unigen.split_cpu(2)  # before any TensorFlow op
    import contract_models as cm
    import numpy as np
    import tensorflow as tf

    arrays = {}
    if args.mode == "train":
        strategy = (tf.distribute.MirroredStrategy(devices) if args.replicas > 1 else None)
        for name in cm.CONFIGS:
            model = _train(name, lambda name=name: cm.build(name), strategy)
            for i, w in enumerate(_weights(model)):
                arrays[f"{name}/{i}"] = w
    elif args.mode == "seeds":
        for name in cm.CONFIGS:
            before = _train(name, cm.build(name))
            factory = _train(name, lambda name=name: cm.build(name))
            for i, (a, b) in enumerate(zip(_weights(before), _weights(factory), strict=True)):
                arrays[f"{name}/before/{i}"], arrays[f"{name}/factory/{i}"] = a, b
    else:
        for name in ("gan_wgan_gp", "vae_adversarial"):
            for _ in range(2):  # a second strategy after a first one, same process
                strategy = tf.distribute.MirroredStrategy(devices)
                model = _train(name, lambda name=name: cm.build(name), strategy)
                assert all(np.isfinite(w).all() for w in _weights(model)), name
        print("two strategies: ok")
    if args.dump:
        np.savez(args.dump, **arrays)


if __name__ == "__main__":
    main()

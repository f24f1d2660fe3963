"""Training jobs that tests run in fresh processes.

    python tests/training/jobs.py --out DIR --dump FILE [--epochs N] [--kill-after E]
                         [--replicas R] [--multiworker]

Trains the discretised Gaussian on digits with seed 0 and writes the final
weights, the per-epoch losses and 16 samples (seed 1) to FILE (.npz). With
--kill-after E the process dies (os._exit) right after epoch E is checkpointed,
as a killed job would. --replicas 2 splits the CPU into two devices and uses
MirroredStrategy; --multiworker uses strategy="multiworker" (TF_CONFIG set by
the caller).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


from _job_strategy import strategy_from_args


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=None)
    parser.add_argument("--dump", required=True)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--kill-after", type=int, default=None)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--multiworker", action="store_true")
    args = parser.parse_args()

    import unigen  # no TensorFlow op runs at import

    strategy = strategy_from_args(args)

    import keras
    import numpy as np

    callbacks = []
    if args.kill_after is not None:
        class Kill(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch + 1 == args.kill_after:
                    os._exit(3)
        callbacks.append(Kill())

    history = unigen.fit(
        lambda: unigen.models.Gaussian((8, 8, 1), num_levels=17),
        "digits", epochs=args.epochs, batch_size=64, seed=0, strategy=strategy,
        output_dir=args.out, callbacks=callbacks, learning_rate=0.05, verbose=0)
    model_weights = [np.asarray(w) for w in history.model.get_weights()]
    np.savez(args.dump, loss=np.asarray(history.history["loss"]),
             samples=np.asarray(history.model.sample(16, seed=1)),
             **{f"w{i}": w for i, w in enumerate(model_weights)})


if __name__ == "__main__":
    main()

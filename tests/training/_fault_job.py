"""A training job that a test stops at a chosen point of the epoch-end write.

    python tests/training/_fault_job.py --out DIR --stage STAGE --epoch E
        [--epochs N] [--seed S] [--hold DIR]

Trains the discretised Gaussian on digits (batch 100, learning rate 0.05) and
replaces `unigen.training._rundir._fault_point`, which the run writer calls
between the steps of every write, so that at (STAGE, E) the process dies with
``os._exit(3)`` as a SIGKILL would (no cleanup, no ``finally``). With --hold
DIR it instead creates DIR/reached and waits until DIR/release exists, so a
test can act while the run holds its lock, without relying on timing.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--stage", required=True)
    parser.add_argument("--epoch", type=int, required=True)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hold", default=None)
    args = parser.parse_args()

    import unigen
    from unigen.training import _rundir

    def fault(stage, epoch):
        if (stage, epoch) != (args.stage, args.epoch):
            return
        if args.hold is None:
            os._exit(3)
        open(os.path.join(args.hold, "reached"), "w").close()
        while not os.path.exists(os.path.join(args.hold, "release")):
            time.sleep(0.05)

    _rundir._fault_point = fault
    unigen.fit(unigen.models.Gaussian((8, 8, 1), num_levels=17), "digits",
               epochs=args.epochs, batch_size=100, seed=args.seed, learning_rate=0.05,
               output_dir=args.out, verbose=0)


if __name__ == "__main__":
    main()

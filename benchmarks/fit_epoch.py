"""Seconds per `unigen.fit` epoch of the Gaussian baseline on digits.

    python benchmarks/fit_epoch.py [--epochs 5] [--batch-size 128]

Prints the time of every epoch (the first includes tracing) and writes
benchmarks/results/fit_epoch.json.
"""

import argparse
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import unigen
from benchmarks import write_result
from benchmarks.speed.timing import EpochTimer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    timer = EpochTimer()
    start = time.perf_counter()
    history = unigen.fit(unigen.models.Gaussian((8, 8, 1), num_levels=17), "digits",
                         epochs=args.epochs, batch_size=args.batch_size, seed=0,
                         callbacks=[timer], verbose=0)
    total = time.perf_counter() - start
    for i, (sec, loss) in enumerate(zip(timer.seconds, history.history["loss"], strict=True)):
        print(f"epoch {i + 1}: {sec:.3f} s, loss {loss:.2f} nats/image")
    print(f"whole fit call: {total:.2f} s")
    result = {"model": "Gaussian(num_levels=17)", "data": "digits train (1000)",
              "batch_size": args.batch_size, "epoch_seconds": timer.seconds,
              "fit_seconds": total, "machine": f"{platform.machine()}, {os.cpu_count()} CPUs"}
    write_result("fit_epoch", result)


if __name__ == "__main__":
    main()

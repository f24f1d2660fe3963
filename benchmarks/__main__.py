"""``python -m benchmarks speed ...``: the command line of the benchmark suite."""

import argparse
import sys

from benchmarks import RESULTS


def _parser():
    from benchmarks.speed import SECTIONS

    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description="unigen's benchmark suite.")
    commands = parser.add_subparsers(dest="command", required=True)
    speed = commands.add_parser(
        "speed", help="training speed: unigen.fit vs plain Keras, Glow vs tfb.Glow, "
                      "FLOP/s vs the matmul peak, 2 replicas vs 1, input pipeline")
    speed.add_argument("--device", choices=("cpu", "gpu"), default="cpu",
                       help="cpu: the suite's sections; gpu: the GPU run of "
                            "benchmarks.speed.gpu (Glow float32 vs mixed_float16, DCGAN "
                            "with and without XLA, 2 replicas; exits at once without a GPU)")
    speed.add_argument("--repeats", type=int, default=None,
                       help="timed rounds per figure (default 5, 3 with --quick)")
    size = speed.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true",
                      help="small images and few rounds (about 3 minutes on 2 cores)")
    size.add_argument("--smoke", action="store_true",
                      help="tiny models, 2 steps per figure: checks that the harness runs")
    speed.add_argument("--out", default=RESULTS,
                       help="directory for speed_<device>.json and .md")
    speed.add_argument("--only", default=None,
                       help=f"comma-separated sections to run, from {','.join(SECTIONS)}")
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.command == "speed":
        from benchmarks.speed import run

        return run(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())

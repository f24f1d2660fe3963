"""The ``unigen`` command line: ``unigen train``, ``sample``, ``compare``, ``datasets``.

Run ``unigen COMMAND --help`` for the options of each command and their
defaults. Bad arguments (including an unknown model or dataset name) exit with
status 2 and a message; a failed run exits with status 1; Ctrl-C exits with 130.
TensorFlow's own log lines are shown from errors up (``TF_CPP_MIN_LOG_LEVEL=2``)
unless the variable is set; ``TF_CPP_MIN_LOG_LEVEL=0`` shows them all
(``unigen._startup``).
"""

import argparse
import math
import os
import sys

__all__ = ["main"]


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default where it tells something.

    Not for required options (they have none), flags (off unless given), options
    whose default is None (their help says what leaving them out does) or whose
    help already states the default.
    """

    def _get_help_string(self, action):
        if (action.required or action.nargs == 0 or action.default is None
                or "default" in (action.help or "")):
            return action.help
        return super()._get_help_string(action)


def _parser():
    parser = argparse.ArgumentParser(
        prog="unigen", formatter_class=_HelpFormatter,
        description="Train, sample and compare deep generative models (GANs, flows, VAEs).",
        epilog="TensorFlow's own log lines are shown from errors up unless "
        "TF_CPP_MIN_LOG_LEVEL is set; TF_CPP_MIN_LOG_LEVEL=0 shows them all.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND",
                                parser_class=_subparser_class())
    sub.required = True

    train = sub.add_parser("train", help="train a model on a built-in dataset or your own images",
                           description="Train a model with unigen.fit; running the same "
                           "command again resumes from --out.")
    train.add_argument("--model", required=True,
                       help="model name (see `unigen models`), for example gaussian")
    train.add_argument("--data", required=True,
                       help="built-in dataset name (see `unigen datasets`), for example "
                       "digits, or your own images: a .npz file or a folder of PNG files "
                       "(split 70/15/15 at random with seed 0, as `unigen compare` does)")
    train.add_argument("--epochs", type=_positive_int, default=5,
                       help="total epochs (a resumed run continues up to it)")
    train.add_argument("--batch-size", type=_positive_int, default=128,
                       help="global batch size")
    train.add_argument("--learning-rate", type=_positive_float, default=1e-3,
                       help="Adam's learning rate")
    train.add_argument("--seed", type=_seed, default=None,
                       help="random seed; none draws one (a resumed run keeps the stored one)")
    train.add_argument("--strategy", choices=["default", "mirrored", "multiworker", "tpu"],
                       default="default", help="distribution strategy")
    train.add_argument("--mixed-precision", choices=["mixed_float16", "mixed_bfloat16"],
                       default=None, help="compute the networks in 16 bits (float16 on "
                       "GPUs, bfloat16 on TPUs and CPUs with bfloat16 instructions); "
                       "densities and losses stay float32; none: the model's float32")
    train.add_argument("--jit-compile", choices=["auto", "on", "off"], default="auto",
                       help="compile the training step with XLA; auto: on GPUs and TPUs, "
                       "off on CPUs")
    train.add_argument("--out", required=True, help="output directory (checkpoints, "
                       "history.json, model.keras, sample grids)")
    train.add_argument("--data-dir", default=None,
                       help="directory holding the dataset's files, for file-based datasets")
    train.add_argument("--no-validation", action="store_true",
                       help="skip the validation split")
    train.add_argument("--overwrite", action="store_true",
                       help="start over: delete the run in --out (config, checkpoint, "
                       "history, model, samples) instead of resuming it")
    train.add_argument("--verbose", type=int, choices=[0, 1, 2], default=1,
                       help="Keras progress output: 0 silent, 1 bar, 2 one line per epoch")

    sample = sub.add_parser("sample", help="draw samples from a saved model",
                            description="Draw samples from a saved model (a .keras file "
                            "or a training run's directory); writes a PNG grid for image "
                            "models or a .npy array for any model.")
    sample.add_argument("--model", required=True, help="path of a .keras model file, or "
                        "a training run's directory (the --out of unigen train)")
    sample.add_argument("-n", "--num-samples", type=_positive_int, default=64,
                        help="number of samples")
    sample.add_argument("--seed", type=_seed, default=0, help="random seed of the samples")
    sample.add_argument("--out", required=True, type=_sample_path,
                        help="output file: .png (images) or .npy")

    compare = sub.add_parser(
        "compare", help="train (if needed) and compare models on held-out data",
        description="Evaluate several models on the same held-out test split (likelihood "
        "with its estimator, FID/KID, precision/recall, density/coverage, IS, C2ST, MMD, "
        "memorisation) and write report.md and report.html to --out. Model names are "
        "trained with unigen.fit (runs in OUT/models/NAME, resumed when run again); "
        "saved models (.keras files, runs' directories) are loaded.")
    compare.add_argument("--data", required=True,
                         help="built-in dataset (for example digits), or your own images: a "
                         ".npz file or a folder of PNG files (no labels needed)")
    compare.add_argument("--models", required=True,
                         help="comma-separated model names and/or saved models (.keras "
                         "paths or training runs' directories, named x for runs/x and "
                         "runs/x/model.keras), for example gaussian,glow,vae,gan")
    compare.add_argument("--out", required=True, help="output directory of the report")
    compare.add_argument("--epochs", type=_positive_int, default=None,
                         help="training epochs of every model (default: a small CPU "
                         "budget per family)")
    compare.add_argument("--quick", action="store_true",
                         help="1 epoch per model and cheaper estimators (a smoke test)")
    compare.add_argument("--seed", type=_seed, default=0, help="random seed")
    compare.add_argument("--data-dir", default=None,
                         help="directory holding the dataset's files, for file-based datasets")
    compare.add_argument("--mixed-precision", choices=["mixed_float16", "mixed_bfloat16"],
                         default=None, help="train the named models with 16-bit networks "
                         "(see unigen train --mixed-precision); none: float32")
    compare.add_argument("--no-references", action="store_true",
                         help="leave out the noise-mixture and memoriser reference models")
    compare.add_argument("--inception-weights", default=None, metavar="PATH",
                         help="score sample quality on Keras's InceptionV3 ImageNet "
                         "features, from this weights file (inception_v3_weights_tf_dim_"
                         "ordering_tf_kernels.h5; never downloaded) instead of the "
                         "dataset's own feature network")

    sub.add_parser("datasets", help="list the built-in datasets",
                   description="List the built-in datasets with their shapes and splits.")
    sub.add_parser("models", help="list the model names `train --model` accepts",
                   description="List the model names `unigen train --model` and `unigen "
                   "compare --models` accept: each one's family, the data it trains on and "
                   "the likelihood it reports.")
    return parser


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None
    if not 0 <= value <= 2**32 - 1:
        raise argparse.ArgumentTypeError(f"expected a seed in [0, 2**32 - 1], got {value}")
    return value


def _sample_path(text):
    if not text.endswith((".png", ".npy")):
        raise argparse.ArgumentTypeError(
            f"must end in .png (a grid, image models) or .npy (any model), got {text!r}")
    folder = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(folder):  # before the model is loaded and sampled
        raise argparse.ArgumentTypeError(
            f"the folder {folder!r} does not exist; create it first (mkdir -p {folder}) or "
            f"write to an existing one")
    return text


def _subparser_class():
    class SubParser(argparse.ArgumentParser):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("formatter_class", _HelpFormatter)
            super().__init__(*args, **kwargs)
    return SubParser


def _check_names(parser, args):
    """Exits with status 2 for an unknown model or dataset name."""
    if args.command not in ("train", "compare"):
        return
    import unigen
    from unigen._checks import did_you_mean

    datasets = unigen.datasets.available()
    own = os.path.isdir(args.data) or (args.data.endswith(".npz") and os.path.isfile(args.data))
    if args.data not in datasets and not own:
        parser.error(_data_error(args.command, args.data, datasets))
    from unigen.evaluation._cli import is_saved_model

    models = unigen.models.available()
    names = [args.model] if args.command == "train" else [  # paths are checked when loaded
        m.strip() for m in args.models.split(",") if m.strip() and not is_saved_model(m.strip())]
    flag = "--model" if args.command == "train" else "--models"
    for name in names:
        if name.lower().replace("-", "_") in models:  # as unigen.models.create reads it
            continue
        if os.path.isdir(name) and os.path.isfile(os.path.join(name, "model.keras")):
            parser.error(f"{flag}: {name!r} is a training run's directory; `unigen train "
                         f"--model` takes a model name; continue that run with --out {name}")
        else:
            parser.error(f"{flag}: unknown model {name!r};{did_you_mean(name, models)} "
                         f"available: {', '.join(models)}")


def _data_error(command, data, datasets):
    """What is wrong with ``--data``, and what it accepts."""
    names = f"available: {', '.join(datasets)}"
    if not (data.endswith(".npz") or os.sep in data or os.path.exists(data)):
        from unigen._checks import did_you_mean

        return f"--data: unknown dataset {data!r};{did_you_mean(data, datasets)} {names}"
    if os.path.isfile(data):
        return (f"--data: {data!r} is a file but not a .npz archive; give a .npz of uint8 "
                f"[n, h, w(, c)] images or a folder of PNGs")
    return (f"--data: no file or folder {data!r} (looked in {os.getcwd()}); give an existing "
            f".npz of uint8 [n, h, w(, c)] images or a folder of PNGs, or a registered dataset "
            f"({names})")


def _train(args):
    import unigen

    if args.data in unigen.datasets.available():
        info = unigen.datasets.info(args.data)
        kwargs = {"data_dir": args.data_dir} if args.data_dir else {}
        # A model that trains on the labels (StarGAN: the domains) gets (x, y); without
        # labels in the data its builder says what to train it on.
        if unigen.models.recipe(args.model).labels and info.num_classes is not None:
            kwargs["with_labels"] = True
        train = unigen.datasets.load(args.data, split="train", **kwargs)
        val = None
        if not args.no_validation and "validation" in info.splits:
            val = unigen.datasets.load(args.data, split="validation", **kwargs)

        def factory():
            return unigen.models.create(args.model, info)
    else:  # the user's images: the split and the model `unigen compare` would use
        from unigen.evaluation._cli import compare_data, model_factory

        data = compare_data(args.data, seed=0)
        train, val = data.train, None if args.no_validation else data.validation
        factory = model_factory(args.model.lower().replace("-", "_"), data)

    strategy = None if args.strategy == "default" else args.strategy
    done = 0 if args.overwrite else _finished_epochs(args.out)
    history = unigen.fit(factory, train, epochs=args.epochs, batch_size=args.batch_size,
                         learning_rate=args.learning_rate, seed=args.seed,
                         strategy=strategy, output_dir=args.out,
                         validation_data=val, verbose=args.verbose,
                         resume=not args.overwrite, mixed_precision=args.mixed_precision,
                         jit_compile={"on": True, "off": False}.get(args.jit_compile, "auto"))
    last = {k: v[-1] for k, v in history.history.items() if v}
    if done >= args.epochs:
        print(f"nothing to train: {args.out} already holds a run of {done} epoch(s), and "
              f"--epochs {args.epochs} is the total, not a number to add; pass --epochs "
              f"{done + args.epochs} to train {args.epochs} more, or --overwrite to start over")
    print("done: " + ", ".join(f"{k}={v:.4f}" for k, v in sorted(last.items())))
    print(f"model saved to {args.out}/model.keras")


def _finished_epochs(out):
    """Epochs that the run in ``out`` has finished (0 when there is none)."""
    import json

    try:
        with open(os.path.join(out, "history.json")) as f:
            history = json.load(f)
        return max((len(v) for v in history.values()), default=0)
    except (OSError, ValueError, AttributeError, TypeError):
        return 0  # no run yet; a damaged one is reported by unigen.fit


def _sample(args):
    import numpy as np

    import unigen
    from unigen._checks import plural
    from unigen.images import save_grid

    model = unigen.load(args.model, compile=False)
    if args.out.endswith(".png") and len(model.event_shape) != 3:
        raise ValueError(
            f"--out .png needs an image model; this model's samples have shape "
            f"{list(model.event_shape)}. Use --out samples.npy."
        )
    x = np.asarray(model.sample(args.num_samples, seed=args.seed))
    if args.out.endswith(".npy"):
        np.save(args.out, x)
    else:
        save_grid(args.out, x, num_levels=model.num_levels)
    print(f"wrote {plural(args.num_samples, 'sample')} to {args.out}")


def _compare(args):
    from unigen.evaluation._cli import run_compare

    report = run_compare(args)
    print(report.to_text())
    print(f"report written to {args.out}/report.html and {args.out}/report.md")


def _datasets(args):
    import unigen

    rows = [("name", "kind", "shape", "levels", "splits")]
    for name in unigen.datasets.available():
        info = unigen.datasets.info(name)
        splits = " ".join(f"{k}={v}" for k, v in info.splits.items())
        rows.append((name, info.kind, "x".join(map(str, info.event_shape)),
                     str(info.num_levels or "-"), splits))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip())


def _models(args):
    import unigen

    rows = [("name", "family", "data", "likelihood")]
    rows += [(name, *unigen.models.describe(name)) for name in unigen.models.available()]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
              + "  " + row[3])


def main(argv=None):
    """Entry point of the ``unigen`` console script and ``python -m unigen``."""
    parser = _parser()
    args = parser.parse_args(argv)
    _check_names(parser, args)
    if args.command in ("train", "sample", "compare"):
        from unigen.training._quiet import probe_devices

        probe_devices()
    command = {"train": _train, "sample": _sample, "datasets": _datasets,
               "models": _models, "compare": _compare}[args.command]
    try:
        command(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        print(f"unigen {args.command}: error: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

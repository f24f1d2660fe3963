"""``unigen compare``: train what is not given, evaluate everything, write the report.

``--data`` is a built-in dataset or the user's own images: a ``.npz`` file or
a folder of PNG files (no labels needed: sample quality then uses a feature
network trained self-supervised on the training split).
"""

import dataclasses
import os
import time

import numpy as np

__all__ = ["CompareData", "compare_data", "is_saved_model", "run_compare", "train_or_load"]


@dataclasses.dataclass
class CompareData:
    """The splits ``unigen compare`` trains and scores on.

    Attributes:
        name: the dataset name, or the file or folder name of user images.
        builtin: whether ``name`` is a built-in dataset.
        train, validation, test: arrays (test and train with labels ``(x, y)``
            for a labelled built-in dataset).
        event_shape, num_levels, kind: as in `unigen.datasets.info`.
    """

    name: str
    builtin: bool
    train: object
    validation: object
    test: object
    event_shape: tuple
    num_levels: int | None
    kind: str = "image"

    @property
    def num_train(self):
        train = self.train[0] if isinstance(self.train, tuple) else self.train
        return len(train)


def _read_pngs(folder):
    import tensorflow as tf

    names = sorted(n for n in os.listdir(folder) if n.lower().endswith(".png"))
    if not names:
        raise ValueError(f"--data: the folder {folder!r} holds no .png files; put your "
                         f"images there as PNG files (one size), or give a .npz of uint8 "
                         f"[n, height, width(, channels)] images.")
    images = []
    for n in names:
        try:
            images.append(tf.io.decode_png(tf.io.read_file(os.path.join(folder, n))).numpy())
        except tf.errors.OpError:
            raise ValueError(f"--data: {os.path.join(folder, n)!r} is not a readable PNG "
                             f"image; remove it from the folder or re-save it as PNG.") from None
    shapes = {im.shape for im in images}
    if len(shapes) > 1:
        raise ValueError(f"--data: the PNG files in {folder!r} must all have one size and "
                         f"number of channels; found {sorted(shapes)}. Resize them first.")
    return np.stack(images)


def _read_npz(path):
    try:
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError) as err:  # np.load's errors for a non-.npz file
        raise ValueError(f"--data: {path!r} is not a readable .npz archive ({type(err).__name__}"
                         f"); write your images with np.savez(path, x=images), uint8 "
                         f"[n, height, width(, channels)].") from None
    if {"train", "test"} <= set(arrays):
        return arrays
    for key in ("x", "images", "arr_0"):
        if key in arrays:
            return {"all": arrays[key]}
    if len(arrays) == 1:
        return {"all": next(iter(arrays.values()))}
    raise ValueError(f"--data: {path!r} must hold one image array (named x, images or "
                     f"arr_0), or arrays named train, test (and optionally validation); it "
                     f"holds {sorted(arrays)}.")


def _as_images(x, source):
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]  # [n, h, w] grey images
    if x.ndim != 4 or len(x) < 10:
        raise ValueError(f"--data: {source} must hold at least 10 images [n, height, width"
                         f"(, channels)]; got shape {list(x.shape)}.")
    if x.dtype != np.uint8 and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"--data: {source} must hold uint8 images (0..255) or floats in "
                         f"[0, 1]; got {x.dtype} values in [{x.min()}, {x.max()}].")
    return x


def compare_data(data, *, seed=0, data_dir=None):
    """The splits of a built-in dataset name, a ``.npz`` file or a PNG folder.

    User images are split at random (seeded) into 70% train, 15% validation
    and 15% test unless the ``.npz`` has ``train`` and ``test`` arrays (and
    ``validation``, else 15% of train). uint8 images have 256 levels; floats
    in [0, 1] are continuous.
    """
    import unigen

    if data in unigen.datasets.available():
        info = unigen.datasets.info(data)
        kwargs = {"data_dir": data_dir} if data_dir else {}
        labels = info.num_classes is not None
        return CompareData(
            data, True, unigen.datasets.as_numpy(data, "train", with_labels=labels, **kwargs),
            unigen.datasets.as_numpy(data, "validation", **kwargs),
            unigen.datasets.as_numpy(data, "test", with_labels=labels, **kwargs),
            tuple(info.event_shape), info.num_levels, info.kind)
    if os.path.isdir(data):
        arrays = {"all": _read_pngs(data)}
    elif data.endswith(".npz") and os.path.isfile(data):
        arrays = _read_npz(data)
    else:
        raise ValueError(f"--data: {data!r} is neither a built-in dataset "
                         f"({', '.join(unigen.datasets.available())}), a .npz file nor a "
                         f"folder of PNG images.")
    rng = np.random.default_rng(seed)
    if "all" in arrays:
        x = _as_images(arrays["all"], data)
        order = rng.permutation(len(x))
        cut1, cut2 = int(0.7 * len(x)), int(0.85 * len(x))
        train, validation, test = (x[order[:cut1]], x[order[cut1:cut2]],
                                   x[order[cut2:]])
    else:
        train, test = _as_images(arrays["train"], data), _as_images(arrays["test"], data)
        if "validation" in arrays:
            validation = _as_images(arrays["validation"], data)
        else:
            order = rng.permutation(len(train))
            cut = int(0.85 * len(train))
            train, validation = train[order[:cut]], train[order[cut:]]
    name = os.path.splitext(os.path.basename(os.path.normpath(data)))[0]
    return CompareData(name, False, train, validation, test, tuple(train.shape[1:]),
                       256 if train.dtype == np.uint8 else None)


def model_factory(name, data, mixed_precision=None):
    """A function building registered model ``name`` for the data of a `CompareData`.

    The model gets the data's event shape and levels, and on images the
    registry's image options (``unigen.models.recipe(name).image_options``);
    ``mixed_precision`` builds its networks in that precision.
    """
    import unigen

    info = unigen.datasets.info(data.name) if data.builtin else None
    options = dict(unigen.models.recipe(name).image_options if data.kind == "image" else {})
    if mixed_precision is not None:
        options["dtype"] = mixed_precision  # the networks built in that precision

    def factory():
        return unigen.models.create(name, info, event_shape=data.event_shape,
                                    num_levels=data.num_levels, **options)

    return factory


def is_saved_model(spec):
    """Whether ``--models`` entry ``spec`` is a saved model rather than a model name.

    A path ending in ``.keras``, or an existing directory (a training run's
    ``--out``) that is not a registered model name: a name wins, so that
    ``--models vae`` trains even where a folder ``vae`` exists (give ``./vae``).
    """
    import unigen

    if spec.endswith(".keras"):
        return True
    if spec.lower().replace("-", "_") in unigen.models.available():
        return False
    return os.path.isdir(spec) or os.sep in spec or "/" in spec


def train_or_load(spec, dataset, out, *, epochs=None, quick=False, seed=0, data_dir=None,
                  verbose=0, mixed_precision=None):
    """A model from a name (trained with `unigen.fit` in ``out/models/name``) or a path
    (a ``.keras`` file or a training run's directory, named as `unigen.compare` names
    it: ``runs/x/model.keras`` and ``runs/x`` are ``"x"``).

    Args:
        dataset: a built-in dataset name or a `CompareData`.
        mixed_precision: `unigen.fit`'s ``mixed_precision`` for a model trained here
            (None: float32); a loaded model keeps its own.

    Returns:
        ``(name, model, budget)``: budget is None for a loaded model, else a
        dict of ``epochs``, ``steps`` and ``seconds``.
    """
    import unigen
    from unigen.training.saving import load_named

    if is_saved_model(spec):
        return (*load_named(spec, what="--models"), None)
    data = dataset if isinstance(dataset, CompareData) else compare_data(
        dataset, seed=seed, data_dir=data_dir)
    name = spec.lower()
    if name not in unigen.models.available():
        raise ValueError(f"Unknown model {spec!r} in --models: give a name from "
                         f"{', '.join(unigen.models.available())}, or a saved model: a "
                         f".keras file or a training run's directory.")
    recipe = unigen.models.recipe(name)
    train = data.train[0] if isinstance(data.train, tuple) else data.train
    info = unigen.datasets.info(data.name) if data.builtin else None
    if data.builtin:  # the dataset's own loader, as `unigen train` uses
        kwargs = {"data_dir": data_dir} if data_dir else {}
        if recipe.labels and info.num_classes is not None:  # StarGAN: (x, domain)
            kwargs["with_labels"] = True
        train = unigen.datasets.load(data.name, split="train", **kwargs)
    num_epochs = 1 if quick else (epochs or recipe.epochs)
    batch = min(64, data.num_train)

    factory = model_factory(name, data, mixed_precision)
    start = time.perf_counter()
    model = factory() if quick else factory
    run_dir = os.path.join(out, "models", name)
    fit_options = dict(epochs=num_epochs, batch_size=batch, seed=seed, verbose=verbose,
                       sample_every_epoch=0, mixed_precision=mixed_precision,
                       learning_rate=recipe.learning_rate)
    if quick:
        unigen.fit(model, train, **fit_options)
    else:
        unigen.fit(model, train, output_dir=run_dir, **fit_options)
        model = unigen.load(os.path.join(run_dir, "model.keras"), compile=False)
    steps = num_epochs * (data.num_train // batch)  # unigen.fit drops the remainder
    budget = {"epochs": num_epochs, "steps": steps, "seconds": time.perf_counter() - start}
    if mixed_precision is not None:
        budget["precision"] = model.precision
    return name, model, budget


def run_compare(args):
    """Runs ``unigen compare`` from parsed arguments; returns the `Report`."""
    from unigen.evaluation import EvaluationData, compare

    specs = [s.strip() for s in args.models.split(",") if s.strip()]
    if not specs:
        raise ValueError("--models must name at least one model or .keras path.")
    from unigen import _checks
    from unigen.training.saving import model_name

    names = {}
    for spec in specs:  # two entries of one name would hide one of them in the report
        name = model_name(spec) if is_saved_model(spec) else spec.lower()
        if name in names:
            raise ValueError(f"--models: {names[name]!r} and {spec!r} are both named "
                             f"{name!r} in the report; give each model once (rename a "
                             f"file, or use the Python unigen.compare with a dict).")
        names[name] = spec
    _checks.check_output_dir(args.out, "--out")  # before any training or scoring
    data = compare_data(args.data, seed=args.seed, data_dir=args.data_dir)
    inception = getattr(args, "inception_weights", None)
    if inception is not None:  # a missing file fails before any training
        from unigen.evaluation._inception import inception_weights_path

        inception = inception_weights_path(inception)
    loaded, seconds = {}, {}
    # Saved models first: one that does not fit the data fails before any training.
    for spec in sorted(specs, key=lambda spec: not is_saved_model(spec)):
        print(f"[compare] {'loading' if is_saved_model(spec) else 'training'} {spec} ...",
              flush=True)
        name, model, budget = train_or_load(spec, data, args.out, epochs=args.epochs,
                                            quick=args.quick, seed=args.seed,
                                            data_dir=args.data_dir,
                                            mixed_precision=getattr(args, "mixed_precision",
                                                                    None))
        if tuple(model.event_shape) != tuple(data.event_shape):
            raise ValueError(f"{spec} has event_shape {tuple(model.event_shape)}, but "
                             f"{args.data} has {tuple(data.event_shape)}: compare models "
                             f"trained on these data, or give --data the data {spec} was "
                             f"trained on.")
        loaded[spec] = (name, model)
        if budget is not None:
            seconds[name] = budget
            print(f"[compare]   {name}: {_checks.plural(budget['epochs'], 'epoch')}, "
                  f"{_checks.plural(budget['steps'], 'step')}, {budget['seconds']:.1f} s",
                  flush=True)
    models = dict(loaded[spec] for spec in specs)  # the report in the order given
    ctx = EvaluationData(data.test, dataset=data.name if data.builtin else None,
                         train=data.train, validation=data.validation,
                         num_levels=data.num_levels, seed=args.seed, data_dir=args.data_dir,
                         features="inception_v3" if inception else None,
                         inception_weights=inception)
    if not data.builtin:
        ctx.dataset = data.name  # the report's title and the feature cache's name
    print("[compare] evaluating ...", flush=True)
    return compare(models, ctx, output_dir=args.out, references=not args.no_references,
                   seed=args.seed, importance_samples=16 if args.quick else 64,
                   parzen_samples=500 if args.quick else 1000,
                   ais_steps=10 if args.quick else 100, ais_chains=2 if args.quick else 4,
                   ais_examples=32 if args.quick else 100, training=seconds)

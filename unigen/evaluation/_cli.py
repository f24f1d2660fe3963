"""``unigen compare``: train what is not given, evaluate everything, write the report."""

import os
import time

__all__ = ["run_compare", "train_or_load"]


def train_or_load(spec, dataset, out, *, epochs=None, quick=False, seed=0, data_dir=None,
                  verbose=0):
    """A model from a name (trained with `unigen.fit` in ``out/models/name``) or a path.

    Returns:
        ``(name, model, budget)``: budget is None for a loaded model, else a
        dict of ``epochs``, ``steps`` and ``seconds``.
    """
    import unigen

    if spec.endswith(".keras"):
        name = os.path.splitext(os.path.basename(spec))[0]
        if name == "model":  # runs/x/model.keras -> "x"
            name = os.path.basename(os.path.dirname(os.path.abspath(spec))) or name
        return name, unigen.load(spec, compile=False), None
    info = unigen.datasets.info(dataset)
    kwargs = {"data_dir": data_dir} if data_dir else {}
    train = unigen.datasets.load(dataset, split="train", **kwargs)
    name = spec.lower()
    if name not in unigen.models.available():
        raise ValueError(f"Unknown model {spec!r} in --models: give a name from "
                         f"{', '.join(unigen.models.available())} or a path ending in .keras.")
    recipe = unigen.models.recipe(name)
    num_epochs = 1 if quick else (epochs or recipe.epochs)
    batch = min(64, info.splits["train"])

    options = recipe.image_options if info.kind == "image" else {}

    def factory():
        return unigen.models.create(name, event_shape=info.event_shape,
                                    num_levels=info.num_levels, **options)

    start = time.perf_counter()
    model = factory() if quick else factory
    run_dir = os.path.join(out, "models", name)
    fit_options = dict(epochs=num_epochs, batch_size=batch, seed=seed, verbose=verbose,
                       sample_every_epoch=0,
                       learning_rate=recipe.learning_rate)
    if quick:
        unigen.fit(model, train, **fit_options)
    else:
        unigen.fit(model, train, output_dir=run_dir, **fit_options)
        model = unigen.load(os.path.join(run_dir, "model.keras"), compile=False)
    steps = num_epochs * (info.splits["train"] // batch)  # unigen.fit drops the remainder
    return name, model, {"epochs": num_epochs, "steps": steps,
                         "seconds": time.perf_counter() - start}


def run_compare(args):
    """Runs ``unigen compare`` from parsed arguments; returns the `Report`."""
    import unigen
    from unigen.evaluation import EvaluationData, compare

    specs = [s.strip() for s in args.models.split(",") if s.strip()]
    if not specs:
        raise ValueError("--models must name at least one model or .keras path.")
    info = unigen.datasets.info(args.data)
    models, seconds = {}, {}
    for spec in specs:
        print(f"[compare] {'loading' if spec.endswith('.keras') else 'training'} {spec} ...",
              flush=True)
        name, model, budget = train_or_load(spec, args.data, args.out, epochs=args.epochs,
                                          quick=args.quick, seed=args.seed,
                                          data_dir=args.data_dir)
        if tuple(model.event_shape) != tuple(info.event_shape):
            raise ValueError(f"{spec} has event_shape {tuple(model.event_shape)}, but "
                             f"{args.data} has {tuple(info.event_shape)}.")
        models[name] = model
        if budget is not None:
            seconds[name] = budget
    kwargs = {"data_dir": args.data_dir} if args.data_dir else {}
    labels = info.num_classes is not None
    ctx = EvaluationData(
        unigen.datasets.as_numpy(args.data, "test", with_labels=labels, **kwargs),
        dataset=args.data,
        train=unigen.datasets.as_numpy(args.data, "train", with_labels=labels, **kwargs),
        validation=unigen.datasets.as_numpy(args.data, "validation", **kwargs),
        seed=args.seed, data_dir=args.data_dir)
    print("[compare] evaluating ...", flush=True)
    return compare(models, ctx, output_dir=args.out, references=not args.no_references,
                   seed=args.seed, importance_samples=16 if args.quick else 64,
                   parzen_samples=500 if args.quick else 1000,
                   ais_steps=10 if args.quick else 100, ais_chains=2 if args.quick else 4,
                   ais_examples=32 if args.quick else 100, training=seconds)

"""The speed suite: ``python -m benchmarks speed --device cpu [--quick]``.

Sections (``--only`` picks some):

* ``fit_vs_plain``: `unigen.fit` against a hand-written keras-io style loop on
  the same networks, and with XLA + ``steps_per_execution``
  (`benchmarks.speed.fit_vs_plain`); targets: overhead <= 5%.
* ``glow_vs_tfp``: unigen's Glow against ``tfb.Glow`` at the same depth and
  width (`benchmarks.speed.glow_vs_tfp`); target: >= 1.5x.
* ``flops``: FLOPs of each training step and the achieved FLOP/s against the
  machine's matmul peak measured in the same run (`benchmarks.speed.flops`).
* ``replicas``: 2 replicas against 1, same global batch
  (`benchmarks.speed.replicas`).
* ``pipeline``: batches per second of `unigen.fit`'s input pipeline,
  vectorised vs element-wise (`benchmarks.speed.pipeline`).
* ``curves``: steps/s, images/s and GFLOP/s against batch size and image
  size per family, plotted with the matmul peak (`benchmarks.speed.curves`).
* ``precision``: float32 against ``mixed_bfloat16`` for each family at 28x28,
  speed and test bits/dim at the same budget (`benchmarks.speed.precision`;
  pays on CPUs with bfloat16 instructions, AVX512-BF16 or AMX).

Every figure is a ratio of rates measured in the same run, alternated A/B,
medians of the rounds (`benchmarks.speed.timing`). Results go to
``<out>/speed_<device>.json`` and ``speed_<device>.md``.
"""

import os
import statistics
import time

__all__ = ["SECTIONS", "run"]

SECTIONS = ("fit_vs_plain", "glow_vs_tfp", "flops", "replicas", "pipeline", "curves",
            "precision")

_GLOW_VS_TFP = {  # shape, levels, steps_per_level, hidden, batch, rounds, steps per round
    "smoke": ((8, 8, 1), 1, 2, 8, 16, 2, 2),
    "quick": ((28, 28, 1), 2, 4, 64, 64, 8, 4),
    "full": ((28, 28, 1), 2, 4, 64, 64, 16, 6),
}
_PIPELINE = {"smoke": 1_000, "quick": 20_000, "full": 60_000}
_PRECISION = {  # 28x28x1 at the full widths; steps per epoch, timed epochs, scored test images
    "smoke": None,  # the smoke sizes at 8x8
    "quick": dict(steps=10, rounds=4, eval_examples=250),
    "full": dict(steps=20, rounds=12, eval_examples=1000),
}
_CURVES = {  # batches at 28x28x1, image shapes at batch 64, timed steps per point
    "smoke": ((16, 32), ((8, 8, 1),), 2),
    "quick": ((32, 64, 128, 256, 512), ((8, 8, 1), (28, 28, 1), (32, 32, 3)), 4),
    "full": ((32, 64, 128, 256, 512), ((8, 8, 1), (28, 28, 1), (32, 32, 3)), 8),
}


def _select_device(device):
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if device == "gpu" and not gpus:
        raise SystemExit("--device gpu: TensorFlow sees no GPU on this machine "
                         "(tf.config.list_physical_devices('GPU') is empty). Install a "
                         "CUDA build of TensorFlow or run with --device cpu.")
    if device == "cpu" and gpus:
        tf.config.set_visible_devices([], "GPU")


def _sections(only):
    if only is None:
        return list(SECTIONS)
    names = [s.strip() for s in only.split(",") if s.strip()]
    unknown = sorted(set(names) - set(SECTIONS))
    if unknown:
        raise SystemExit(f"--only: unknown section(s) {unknown}; choose from "
                         f"{','.join(SECTIONS)}.")
    return names


def run(args):
    """Runs the selected sections and writes the JSON and Markdown results."""
    from benchmarks import describe_machine
    from benchmarks.speed import configs, report

    sections = _sections(args.only)
    _select_device(args.device)  # exits at once, with the cause, when no GPU is seen
    if args.device == "gpu":
        return _run_gpu(args)
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    cfg = configs.config(mode, args.repeats)
    started = time.perf_counter()
    result = {"command": "python -m benchmarks speed " + " ".join(_argv(args)),
              "mode": mode, "rounds": cfg["rounds"], "sizes": _jsonable(cfg),
              "machine": describe_machine(args.device), "sections": sections}
    peaks = []
    if "flops" in sections:
        from benchmarks.speed.flops import matmul_peak

        peaks.append(matmul_peak(n=512 if mode == "smoke" else 2048, device=args.device))
    if "fit_vs_plain" in sections or "flops" in sections:
        _log("fit_vs_plain")
        from benchmarks.speed import fit_vs_plain

        probe = None
        if "flops" in sections:
            from benchmarks.speed.flops import peak_probe

            probe = peak_probe(n=512 if mode == "smoke" else 2048, device=args.device)
        result["fit_vs_plain"] = fit_vs_plain.run(cfg, peak=probe)
    if "flops" in sections:
        _log("flops")
        result["flops"] = _flops(result["fit_vs_plain"], cfg, peaks, args.device, mode)
    if "glow_vs_tfp" in sections:
        _log("glow_vs_tfp")
        from benchmarks.speed import glow_vs_tfp

        shape, levels, steps, hidden, batch, rounds, per_round = _GLOW_VS_TFP[mode]
        result["glow_vs_tfp"] = glow_vs_tfp.run(
            shape, levels, steps, hidden, batch, num_levels=256 if shape[0] > 8 else 17,
            rounds=args.repeats or rounds, steps_per_round=per_round, device=args.device,
            peak_n=512 if mode == "smoke" else 2048)
    if "replicas" in sections:
        _log("replicas")
        from benchmarks.speed import replicas

        result["replicas"] = replicas.run(cfg, args.device,
                                          processes=2 if mode != "full" else 4)
    if "pipeline" in sections:
        _log("pipeline")
        from benchmarks.speed import pipeline

        result["pipeline"] = pipeline.run(num_examples=_PIPELINE[mode], rounds=cfg["rounds"])
    if "curves" in sections:
        _log("curves")
        from benchmarks.speed import curves

        batches, shapes, steps = _CURVES[mode]
        result["curves"] = curves.run(cfg, batches=batches, shapes=shapes, steps=steps,
                                      device=args.device)
        os.makedirs(args.out, exist_ok=True)
        curves.plot(result["curves"], os.path.join(args.out, f"speed_{args.device}_curves.png"))
    if "precision" in sections:
        _log("precision")
        result["precision"] = _precision(mode, args.device)
    for entry in result.get("fit_vs_plain", {}).values():
        entry.pop("models", None)
    result["seconds"] = time.perf_counter() - started
    load = os.getloadavg()
    result["machine"]["load_average_end"] = list(load)
    busy = max(load[0], result["machine"]["load_average_start"][0])
    result["machine"]["shared"] = bool(busy > 0.5 * (os.cpu_count() or 1))
    return _write(args.out, f"speed_{args.device}", result, report.markdown(result))


def _run_gpu(args):
    """The GPU plan of `benchmarks.speed.gpu`, written to ``<out>/speed_gpu.json``/.md."""
    from benchmarks import describe_machine
    from benchmarks.speed import gpu, report

    info = describe_machine("gpu")
    result = {"command": "python -m benchmarks speed " + " ".join(_argv(args)),
              "mode": "smoke" if args.smoke else "full", "machine": info}
    result.update(gpu.plan(result["mode"], "gpu"))
    info["load_average_end"] = list(os.getloadavg())
    return _write(args.out, "speed_gpu", result, report.gpu_markdown(result))


def _precision(mode, device):
    """The ``precision`` section on the CPU: float32 against ``mixed_bfloat16``."""
    import unigen
    from benchmarks.speed import configs, precision
    from benchmarks.speed.flops import peak_probe

    if mode == "smoke":
        cfg = configs.config("smoke")
        train = configs.training_data(cfg)
        test = unigen.datasets.as_numpy("digits", "test")
        eval_examples, source = 32, "digits"
    else:
        cfg = {**configs.config("full"), **_PRECISION[mode]}
        eval_examples = cfg.pop("eval_examples")
        train, test, source = configs.fashion_mnist(cfg["batch"] * cfg["steps"])
    out = precision.run(["mixed_bfloat16"], configs.MODELS, cfg, train, test, eval_examples,
                        between=peak_probe(n=512 if mode == "smoke" else 2048, device=device))
    out["data"] = source
    out["cpu_bfloat16_instructions"] = _bfloat16_flags()
    return out


def _bfloat16_flags():
    """The CPU's bfloat16 instruction sets (from /proc/cpuinfo), [] when none or unknown."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f
                          if line.startswith("flags")), [])
    except OSError:
        return []
    return sorted(flag for flag in set(flags) if "bf16" in flag)


def _write(out, name, result, table):
    """Writes ``<out>/<name>.json`` (`benchmarks.write_result`) and its Markdown table,
    prints the table; returns 0."""
    from benchmarks import write_result

    base = write_result(name, result, out=out, machine_key="machine")[:-len(".json")]
    with open(base + ".md", "w") as f:
        f.write(table)
    print(table)
    print(f"wrote {base}.md; {result['seconds']:.0f} s")
    return 0


def _flops(fit_results, cfg, peaks, device, mode):
    import numpy as np

    from benchmarks.speed.flops import matmul_peak, train_step_flops

    batch = np.zeros((cfg["batch"], *cfg["shape"]), "float32")
    out = {}
    for name, entry in fit_results.items():
        rates = entry["rates_steps_per_second"]
        counts = {k: train_step_flops(m, batch) for k, m in entry["models"].items()
                  if k in ("unigen", "plain")}
        out[name] = {"flops_per_step": counts}
        for contender in ("unigen", "unigen_xla", "plain"):
            if "median" in rates.get(contender, {}):
                out[name][f"gflops_per_second_{contender}"] = (
                    counts["unigen"] * rates[contender]["median"] / 1e9)
    peaks.append(matmul_peak(n=512 if mode == "smoke" else 2048, device=device))
    interleaved = [p for e in fit_results.values() for p in e.get("peak_gflops_per_round", [])]
    # The peak measured between the rounds of the training figures (issue #18);
    # the best-of batches before and after are kept for comparison.
    peak = (statistics.median(interleaved) if interleaved
            else max(p["gflops"] for p in peaks))
    for entry in out.values():
        for key in [k for k in entry if k.startswith("gflops_per_second_")]:
            entry["fraction_of_peak_" + key.rsplit("_second_", 1)[1]] = entry[key] / peak
    return {"matmul_peak": peaks, "peak_gflops": peak, "models": out,
            "peak_gflops_interleaved": interleaved,
            "peak": "median of the matmul timings between the rounds of fit_vs_plain",
            "method": "tf.compat.v1.profiler float_operation on tf.function(train_step) "
                      "graph; counts matmuls and convolutions (forward and backward), "
                      "a lower bound"}


def _argv(args):
    parts = [f"--device {args.device}"]
    for flag in ("quick", "smoke"):
        if getattr(args, flag):
            parts.append(f"--{flag}")
    if args.repeats:
        parts.append(f"--repeats {args.repeats}")
    if args.only:
        parts.append(f"--only {args.only}")
    return parts


def _jsonable(cfg):
    return {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()}


_CLOCK = {}


def _log(section):
    now = time.perf_counter()
    if "last" in _CLOCK:
        print(f"[speed]   {now - _CLOCK['last']:.0f} s", flush=True)
    _CLOCK["last"] = now
    print(f"[speed] {section} ...", flush=True)

"""The Markdown table of a speed run (the JSON holds every round)."""

from benchmarks.speed.timing import label

__all__ = ["gpu_markdown", "markdown"]


_SHARED = " (shared machine: absolute rates are noisy, ratios less so)"


def _num(value, fmt="{:.2f}"):
    return "n/a" if value is None else fmt.format(value)


def _median(rates, name):
    entry = rates.get(name, {})
    if "error" in entry:
        return "failed"
    return _num(entry.get("median"))


def _fit_table(result):
    fit, flops = result["fit_vs_plain"], result.get("flops", {}).get("models", {})
    lines = ["## unigen.fit vs a plain Keras loop (same networks, batch, optimizer)", "",
             "Steps per second = 1 / median seconds per step (every step timed from "
             "Keras's on_train_batch_begin to on_train_batch_end, tracing epoch dropped). "
             "Ratios are per round (one short epoch each, contenders interleaved), median "
             "[quartiles], with the verdict against the A/A control (a second, identical "
             "unigen contender): 'no difference' when |ratio - 1| is within the A/A "
             "spread. XLA = unigen with jit_compile=True and steps_per_execution.", "",
             "| model | plain | unigen | unigen A/A | unigen XLA | unigen / plain |"
             " A/A ratio | XLA / plain | GFLOP/step | unigen GFLOP/s | % of peak |",
             "| --- | ---: | ---: | ---: | ---: | --- | --- | --- | ---: | ---: | ---: |"]
    for name, entry in fit.items():
        rates = entry["rates_steps_per_second"]
        f = flops.get(name, {})
        per_step = f.get("flops_per_step", {}).get("unigen")
        aa = entry.get("aa_unigen")
        lines.append(
            f"| {name} | {_median(rates, 'plain')} | {_median(rates, 'unigen')} | "
            f"{_median(rates, 'unigen (A/A)')} | {_median(rates, 'unigen_xla')} | "
            f"{_ratio(entry.get('per_round_unigen_over_plain'))} | "
            f"{'n/a' if aa is None else _ratio(aa).rstrip(', ')} | "
            f"{_ratio(entry.get('per_round_xla_over_plain'))} | "
            f"{_num(None if per_step is None else per_step / 1e9, '{:.3f}')} | "
            f"{_num(f.get('gflops_per_second_unigen'), '{:.1f}')} | "
            f"{_num(f.get('fraction_of_peak_unigen'), '{:.1%}')} |")
    if flops:
        inter = result["flops"].get("peak_gflops_interleaved") or [0.0]
        best = max(p["gflops"] for p in result["flops"]["matmul_peak"])
        n = result["flops"]["matmul_peak"][0]["n"]
        lines += ["", f"Matmul peak (float32 {n}x{n}), measured between the rounds of "
                      f"the training figures: median {result['flops']['peak_gflops']:.1f} "
                      f"GFLOP/s (range {min(inter):.1f} to {max(inter):.1f}; best of the "
                      f"batches before and after: {best:.1f}). % of peak uses the median."]
    errors = {f"{n}/{c}": r["error"] for n, e in fit.items()
              for c, r in e["rates_steps_per_second"].items() if "error" in r}
    lines += [f"- {k} failed: {v}" for k, v in errors.items()]
    return lines


def _ratio(entry):
    """'1.52x [1.40-1.61], faster' from a `steps.compare` entry."""
    if entry is None:
        return "n/a"
    q1, q3 = entry["quartiles"]
    return f"{entry['median']:.2f}x [{q1:.2f}-{q3:.2f}], {entry.get('verdict', '')}"


def _glow_table(glow):
    shape = "x".join(str(d) for d in glow["shape"])
    timing, figures = glow["timing"], glow["figures"]
    control = timing["control"]["ratio"]
    loads = timing["load_average"]
    lines = ["## unigen Glow vs tfb.Glow (same loop, depth and width)", "",
             f"{shape} images, {glow['levels']} levels x {glow['steps_per_level']} steps, "
             f"{glow['hidden']} hidden channels, batch {glow['batch_size']}; "
             f"{timing['rounds']} interleaved rounds of {timing['steps_per_round']} timed "
             f"steps each, after tracing and {timing['warmup_steps']} warm-up steps; "
             f"load average {min(loads):.2f} to {max(loads):.2f}. unigen_pre18 is the "
             "same model with the bijector ops from before issue #18.", "",
             "| contender | steps/s | images/s | trace s | GFLOP/step (executed) |"
             " GFLOP/s | % of peak | CPU ms/step | GFLOP per CPU s |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, f in figures.items():
        entry = timing["contenders"][name]
        cpu = f.get("cpu_seconds_per_step")
        lines.append(f"| {name} | {f['steps_per_second']:.2f} | "
                     f"{f['images_per_second']:.0f} | {entry['trace_seconds']:.2f} | "
                     f"{f['executed_gflops_per_step']:.3f} | "
                     f"{f['executed_gflops_per_second']:.1f} | "
                     f"{_num(f['fraction_of_peak'], '{:.1%}')} | "
                     f"{_num(cpu and 1e3 * cpu, '{:.1f}')} | "
                     f"{_num(f.get('executed_gflops_per_cpu_second'), '{:.1f}')} |")
    peaks = timing["peak_gflops"]
    floor = glow["speedup_unigen_over_tfp"].get("noise_floor")
    lines += ["", "Speed-ups: median of the per-round ratios [quartiles], verdict against "
                  f"the A/A noise floor ({_num(floor, '{:.1%}')}; "
                  f"A/A ratio {control['median']:.3f} "
                  f"[{control['quartiles'][0]:.3f}-{control['quartiles'][1]:.3f}]).", "",
              f"- unigen / tfb.Glow: {_ratio(glow['speedup_unigen_over_tfp'])} "
              f"(target >= {glow['target']}x)",
              f"- unigen / unigen_pre18: {_ratio(glow['speedup_unigen_over_pre18'])}",
              f"- unigen_pre18 / tfb.Glow: {_ratio(glow['speedup_pre18_over_tfp'])}"]
    if "cpu_speedup_unigen_over_tfp" in glow:
        lines += [f"- in process CPU seconds per step: unigen / tfb.Glow "
                  f"{_ratio(glow['cpu_speedup_unigen_over_tfp'])}, unigen / unigen_pre18 "
                  f"{_ratio(glow['cpu_speedup_unigen_over_pre18'])} (A/A "
                  f"{timing['control']['cpu_ratio']['median']:.3f})"]
    if peaks:
        lines += ["", f"Matmul peak, once after every round: median "
                      f"{glow['peak_gflops_median']:.1f} GFLOP/s (range {min(peaks):.1f} to "
                      f"{max(peaks):.1f}); % of peak is per round, then the median."]
    return lines


def _replica_table(rep):
    med = rep.get("median_steps_per_second", {})
    lines = ["## 2 replicas vs 1 (MirroredStrategy, same global batch)", "",
             f"Model {rep['model']}, global batch {rep['global_batch']}; each "
             "configuration in a fresh process.", "",
             "| 1 replica steps/s | 2 replicas steps/s | efficiency (2 / 1) |",
             "| ---: | ---: | ---: |",
             f"| {_num(med.get('1'))} | {_num(med.get('2'))} | "
             f"{_num(rep['efficiency'], '{:.2f}')} |"]
    if "errors" in rep:
        lines.append(f"- failed: {rep['errors']}")
    return lines


def _pipeline_table(pipe):
    rates = pipe["rates_batches_per_second"]
    return ["## Input pipeline of unigen.fit (batches per second, no training)", "",
            f"{pipe['num_examples']} uint8 images "
            f"{'x'.join(str(d) for d in pipe['shape'])}, batch {pipe['batch_size']}; "
            f"same batches: {pipe['same_batches']}.", "",
            "| vectorised (arrays) | element-wise (tf.data) | speed-up |",
            "| ---: | ---: | ---: |",
            f"| {_median(rates, 'vectorised')} | {_median(rates, 'element_wise')} | "
            f"{_num(pipe['speedup_vectorised'], '{:.2f}x')} |"]


def _curves_table(curves):
    lines = ["## Cost curves (steps/s, images/s, GFLOP/s per batch and image size)", "",
             f"Keras's training function of unigen's models, {curves['steps']} timed steps "
             "per point after tracing and one warm-up step, points one after the other; "
             f"matmul peak probed after every point: median "
             f"{curves['peak_gflops_median']:.1f} GFLOP/s.", "",
             "| family | image | batch | steps/s | images/s | GFLOP/step | GFLOP/s |"
             " trace s | load |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for p in curves["points"]:
        image = "x".join(str(d) for d in p["shape"])
        if "error" in p:
            lines.append(f"| {p['family']} | {image} | {p['batch']} | failed: "
                         f"{p['error'][:80]} | | | | | |")
            continue
        lines.append(f"| {p['family']} | {image} | {p['batch']} | "
                     f"{p['steps_per_second']:.2f} | {p['images_per_second']:.0f} | "
                     f"{p['gflops_per_step']:.3f} | {p['gflops_per_second']:.1f} | "
                     f"{p['trace_seconds']:.1f} | {p['load_average']:.2f} |")
    return lines


def markdown(result):
    """The results of one run as Markdown, each figure labelled with its device."""
    machine = result["machine"]
    load = machine["load_average_start"][0], machine["load_average_end"][0]
    lines = [f"# Speed, {machine['device']} ({result['mode']} mode)", "",
             f"Device: {label(machine)}.", "",
             f"Command: `{result['command']}`; {result['rounds']} timed rounds per figure "
             f"(after a tracing round), contenders in a fresh order every round; "
             f"{result['seconds']:.0f} s. "
             f"Load average at start / end: {load[0]:.2f} / {load[1]:.2f}"
             f"{_SHARED if machine['shared'] else ''}.",
             ""]
    if "fit_vs_plain" in result:
        lines += [*_fit_table(result), ""]
    for key, table in (("glow_vs_tfp", _glow_table), ("replicas", _replica_table),
                       ("pipeline", _pipeline_table), ("curves", _curves_table),
                       ("precision", _precision_table)):
        if key in result:
            lines += [*table(result[key]), ""]
    return "\n".join(lines)


def gpu_markdown(result):
    """The GPU run (`benchmarks.speed.gpu`) as Markdown."""
    machine = result["machine"]
    lines = [f"# Speed, gpu ({result['mode']} mode)", "", f"Device: {label(machine)}.", "",
             f"Command: `{result['command']}`; {result['seconds']:.0f} s; data: "
             f"{result['data']}.", ""]
    if "precision" in result:
        lines += [*_precision_table(result["precision"]), ""]
    dcgan = result.get("dcgan_xla")
    if dcgan:
        sec = dcgan["seconds_per_epoch"]
        lines += ["## DCGAN: seconds per Fashion-MNIST epoch, with and without XLA", "",
                  f"{dcgan['examples']} images, batch {dcgan['batch_size']}.", "",
                  "| without XLA | with XLA | XLA speed-up |", "| ---: | ---: | ---: |",
                  f"| {_num(sec.get('plain_tf'))} | {_num(sec.get('xla'))} | "
                  f"{_num(dcgan.get('xla_speedup'), '{:.2f}x')} |", ""]
    if "replicas" in result:
        lines += [*_replica_table(result["replicas"]), ""]
    lines += [f"- {name} skipped: {why}" for name, why in result["skipped"].items()]
    return "\n".join(lines) + "\n"


def _precision_table(section):
    """float32 against mixed policies per family (`benchmarks.speed.precision`)."""
    policies = section["policies"]
    families = [k for k, v in section.items() if isinstance(v, dict) and
                "rates_steps_per_second" in v]
    lines = [f"## float32 vs {' and '.join(policies)} (unigen.fit, same batches)", "",
             "Each family's models train the same steps on the same batches; "
             "float32 (A/A) is the same network from another seed."
             + (f" Data: {section['data']}." if "data" in section else "")
             + (f" The CPU's bfloat16 instructions: "
                f"{', '.join(section['cpu_bfloat16_instructions']) or 'none'}."
                if "cpu_bfloat16_instructions" in section else ""), "",
             "| model | contender | steps/s | images/s | trace s | test bits/dim |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    notes = []
    for family in families:
        entry = section[family]
        rates, bpd = entry["rates_steps_per_second"], entry.get("test_bits_per_dim", {})
        for name, r in rates.items():
            lines.append(f"| {family} | {name} | {_median(rates, name)} | "
                         f"{_num(r.get('images_per_second'), '{:.0f}')} | "
                         f"{_num(r.get('trace_seconds'))} | {_num(bpd.get(name), '{:.3f}')} |")
        for policy in policies:
            note = (f"- {family}, {entry['steps_trained']} steps of batch "
                    f"{entry['batch_size']}: {policy} / float32 "
                    f"{_ratio(entry.get('over_float32', {}).get(policy))}")
            if bpd:
                note += (f"; bits/dim change "
                         f"{_num(entry['bits_per_dim_change'][policy], '{:+.3f}')} (another "
                         f"seed: {_num(entry['bits_per_dim_change_seed'], '{:+.3f}')})")
            notes.append(note)
    return [*lines, "", *notes]

"""The speed suite runs end to end: ``python -m benchmarks speed --smoke``.

Tiny models and 2 steps per timed block; the figures mean nothing at this
size, the test checks that every section is measured and written (JSON and
Markdown), and that every ratio is a finite positive number.
"""

import json
import math

import pytest
from conftest import run_python


def _positive(value):
    return isinstance(value, float) and math.isfinite(value) and value > 0


def _check_precision(entry, policies, likelihood):
    """One family of `benchmarks.speed.precision`: each contender trained in its policy,
    a verdict on each speed ratio, and (with a likelihood) finite bits/dim changes."""
    assert entry["precision"] == {"float32": "float32", "float32 (A/A)": "float32",
                                  **{p: p for p in policies}}
    for name in ("float32", "float32 (A/A)", *policies):
        assert _positive(entry["rates_steps_per_second"][name]["images_per_second"])
    assert sorted(entry["over_float32"]) == sorted(policies)
    for policy in policies:
        assert _positive(entry["over_float32"][policy]["median"])
        assert entry["over_float32"][policy]["verdict"]
    if likelihood:
        for name in ("float32", "float32 (A/A)", *policies):
            assert math.isfinite(entry["test_bits_per_dim"][name])
        bpd = entry["test_bits_per_dim"]
        for policy in policies:
            assert entry["bits_per_dim_change"][policy] == bpd[policy] - bpd["float32"]
        # The A/A model starts from another seed: its bits/dim differ.
        assert entry["bits_per_dim_change_seed"] != 0.0
    else:
        assert "test_bits_per_dim" not in entry


def test_speed_smoke_writes_every_section(tmp_path):
    proc = run_python(["-m", "benchmarks", "speed", "--device", "cpu", "--smoke",
                       "--out", str(tmp_path)], timeout=600)
    assert "wrote" in proc.stdout
    with open(tmp_path / "speed_cpu.json") as f:
        result = json.load(f)
    from benchmarks.speed import SECTIONS

    assert result["sections"] == list(SECTIONS)
    assert result["machine"]["device"] == "cpu" and result["machine"]["tensorflow"]
    # Provenance from benchmarks.write_result; the machine stays under "machine" alone.
    assert {"utc", "git_commit", "git_dirty", "argv"} <= set(result["meta"])
    assert "machine" not in result["meta"] and len(result["machine"]["load_average_end"]) == 3
    for name in ("dcgan", "vae", "glow"):
        entry = result["fit_vs_plain"][name]
        for contender in ("plain", "unigen", "unigen_xla"):
            rates = entry["rates_steps_per_second"][contender]
            assert "error" not in rates, (name, contender, rates)
            assert all(_positive(r) for r in rates["rates"])
        assert _positive(entry["unigen_over_plain"]) and _positive(entry["xla_over_plain"])
        assert entry["overhead"] > -1.0
        # The plain loop trains exactly the same parameters as unigen.
        counts = entry["trainable_parameters"]
        assert counts["plain"] == counts["unigen"] == counts["unigen_xla"] > 0
        flops = result["flops"]["models"][name]
        assert flops["flops_per_step"]["unigen"] > 0
        assert _positive(flops["fraction_of_peak_unigen"])
    assert _positive(result["flops"]["peak_gflops"])
    glow = result["glow_vs_tfp"]
    for key in ("speedup_unigen_over_tfp", "speedup_unigen_over_pre18"):
        assert _positive(glow[key]["median"]) and glow[key]["verdict"]
    assert _positive(glow["timing"]["control"]["ratio"]["median"])
    assert all(_positive(p) for p in glow["timing"]["peak_gflops"])
    assert _positive(result["replicas"]["efficiency"]), result["replicas"].get("errors")
    assert result["pipeline"]["same_batches"] is True
    assert _positive(result["pipeline"]["speedup_vectorised"])
    points = result["curves"]["points"]
    assert {p["family"] for p in points} == {"dcgan", "vae", "glow"}
    for p in points:
        assert "error" not in p, p
        assert _positive(p["images_per_second"]) and p["gflops_per_step"] > 0
    assert (tmp_path / "speed_cpu_curves.png").stat().st_size > 0
    precision = result["precision"]
    assert precision["policies"] == ["mixed_bfloat16"]
    assert isinstance(precision["cpu_bfloat16_instructions"], list)
    for name in ("dcgan", "vae", "glow"):
        _check_precision(precision[name], ["mixed_bfloat16"], likelihood=name != "dcgan")
    with open(tmp_path / "speed_cpu.md") as f:
        table = f.read()
    for heading in ("unigen.fit vs a plain Keras loop", "unigen Glow vs tfb.Glow",
                    "2 replicas vs 1", "Input pipeline", "Cost curves",
                    "float32 vs mixed_bfloat16"):
        assert heading in table
    assert result["machine"]["cpu"] in table


@pytest.mark.parametrize("mode", [[], ["--smoke"]])
def test_speed_gpu_without_a_gpu_says_so(tmp_path, mode):
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU: the no-GPU message cannot be triggered")
    proc = run_python(["-m", "benchmarks", "speed", "--device", "gpu", *mode,
                       "--out", str(tmp_path)], check=False)
    assert proc.returncode != 0
    assert "TensorFlow sees no GPU" in proc.stderr
    assert not (tmp_path / "speed_gpu.json").exists()
    assert "[speed]" not in proc.stdout  # stopped before any section started


def test_gpu_plan_runs_its_sections_on_the_cpu_at_smoke_size():
    """The GPU script's own code, run on the CPU (no GPU here): every section it
    can run with one device is measured, and replicas say why they are skipped."""
    code = ("import json; from benchmarks import describe_machine; "
            "from benchmarks.speed import gpu, report; "
            "r = {'command': 'test', 'mode': 'smoke', 'machine': describe_machine('cpu')}; "
            "r.update(gpu.plan('smoke', 'cpu')); report.gpu_markdown(r); "
            "print(json.dumps(r))")
    proc = run_python(["-c", code], timeout=600)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    _check_precision(result["precision"]["glow"], ["mixed_float16", "mixed_bfloat16"],
                     likelihood=True)
    assert _positive(result["dcgan_xla"]["xla_speedup"])
    assert "needs 2 GPUs" in result["skipped"]["replicas"]

"""benchmarks/glow_knobs.py: every knob set in its own process, ratios to the default."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from benchmarks import glow_knobs


def test_rounds_go_through_the_knobs_in_turn_and_ratios_are_to_the_default(monkeypatch):
    calls = []
    times = {"default": [30.0, 40.0, 32.0], "avx2": [36.0, 44.0, 40.0]}

    def fake(knob, steps):
        calls.append(knob)
        return times[knob][sum(c == knob for c in calls) - 1], 50.0

    monkeypatch.setattr(glow_knobs, "step_ms", fake)
    result = glow_knobs.run(["default", "avx2"], rounds=3, steps=7)
    assert calls == ["default", "avx2"] * 3
    default, avx2 = result["knobs"]["default"], result["knobs"]["avx2"]
    assert default["wall_ms_median"] == 32.0 and avx2["wall_ms_median"] == 40.0
    assert avx2["speedup_over_default"] == pytest.approx(32.0 / 40.0)
    assert default["speedup_over_default"] == pytest.approx(1.0)
    assert avx2["cpu_speedup_over_default"] == pytest.approx(1.0)  # 50 ms CPU each
    assert avx2["env"] == {"ONEDNN_MAX_CPU_ISA": "AVX2"}
    assert len(result["load_average_per_round"]) == 3


def test_an_unknown_knob_is_refused_with_the_choices(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["glow_knobs.py", "--knobs", "default,turbo"])
    with pytest.raises(SystemExit) as err:
        glow_knobs.main()
    assert err.value.code == 2
    message = capsys.readouterr().err
    assert "unknown knob(s) turbo" in message and "caller_thread" in message


def test_a_failed_child_names_the_knob(monkeypatch):
    class Failed:
        returncode, stdout, stderr = 1, "", "Traceback: boom"

    monkeypatch.setattr(glow_knobs.subprocess, "run", lambda *a, **k: Failed())
    with pytest.raises(RuntimeError, match=r"(?s)avx2: the child run failed .*boom"):
        glow_knobs.step_ms("avx2", 3)

"""Reading "time to reach FID <= X" off a FID-vs-training-time curve (gan_systems.py)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from benchmarks.gan_systems import _fid_target, time_to


def _curve(*fids):
    return [{"seconds": 30.0 * (i + 1), "steps": 10 * (i + 1), "fid": f}
            for i, f in enumerate(fids)]


def test_time_to_is_the_first_point_at_or_below_the_target():
    curve = _curve(290, 149, 160, 100)
    assert time_to(curve, 150) == 60.0  # the first crossing, even if it rises again
    assert time_to(curve, 100) == 120.0  # at or below
    assert time_to(curve, 50) is None


def test_target_is_the_smallest_round_value_two_models_reach_else_one():
    dcgan, lapgan, progan = _curve(290, 149, 66), _curve(210, 250), _curve(146, 220)
    assert _fid_target([dcgan, lapgan, progan]) == 150
    assert _fid_target([dcgan, lapgan]) == 300  # lapgan's 250 is <= 300
    assert _fid_target([dcgan, _curve(310, 350)]) == 75  # only one model reaches any
    assert _fid_target([_curve(900)]) is None

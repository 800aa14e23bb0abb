"""The beat schedule: determinism, independence of noise and fs, numba == Python."""

from __future__ import annotations

import numpy as np
import pytest

from holterlab.errors import ParameterError
from holterlab.params.synth import SynthParams
from holterlab.synth import build_schedule
from holterlab.synth.walk import walk_kernel_py

from .conftest import DENSE

_FIELDS = ("sample", "sym", "mid", "pk", "amp", "rr", "st", "ep", "ep_first", "ep_last")


def _same(a, b) -> bool:
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in _FIELDS)


def test_same_seed_same_schedule_other_seed_differs():
    p = SynthParams.showcase()
    a = build_schedule(**DENSE, params=p)
    b = build_schedule(**DENSE, params=p)
    assert _same(a, b)
    assert np.array_equal(a.episodes.start, b.episodes.start)
    c = build_schedule(**{**DENSE, "seed": DENSE["seed"] + 1}, params=p)
    assert not np.array_equal(a.sample[:50], c.sample[:50])


def test_noise_parameters_do_not_move_beats():
    a = build_schedule(**DENSE, params=SynthParams.showcase())
    b = build_schedule(**DENSE, params=SynthParams.showcase(noise_level=3.0, muscle_mv=0.1))
    assert _same(a, b)
    assert len(a.noise_events) and len(b.noise_events)
    c = build_schedule(**DENSE, params=SynthParams.showcase(noise_level=0.0))
    assert _same(a, c) and len(c.noise_events) == 0


def test_rhythm_is_the_same_at_every_sampling_rate():
    a = build_schedule(hours=0.05, leads=2, fs=250.0, seed=3)
    b = build_schedule(hours=0.05, leads=2, fs=1000.0, seed=3)
    n = min(len(a), len(b))
    assert abs(len(a) - len(b)) <= 1
    assert np.array_equal(a.sym[:n], b.sym[:n])
    assert np.max(np.abs(a.sample[:n] / 250.0 - b.sample[:n] / 1000.0)) <= 0.5 / 250 + 1e-9


def test_numba_walk_equals_python_reference():
    nb = build_schedule(**DENSE, params=SynthParams.showcase())
    py = build_schedule(**DENSE, params=SynthParams.showcase(), kernel=walk_kernel_py)
    assert _same(nb, py)


def test_beats_sorted_inside_recording_and_plausible():
    s = build_schedule(hours=1.0, leads=2, fs=250.0, seed=5)
    assert np.all(np.diff(s.sample) > 0)
    assert s.sample[0] >= 0 and s.sample[-1] < s.n_samples
    rr = np.diff(s.sample) / s.fs
    assert rr.min() >= 0.25
    hr = 60 / np.median(rr)
    assert 60 < hr < 95  # daytime start: 09:00
    assert set(np.unique(s.symbol)) <= set("NAVFQ")


def test_circadian_rate_lower_at_night():
    p = SynthParams(
        start_hour=14.0,
        af_per_hour=0,
        afl_per_hour=0,
        vt_per_hour=0,
        svt_per_hour=0,
        tachy_per_hour=0,
        brady_per_hour=0,
        ivr_per_hour=0,
    )
    s = build_schedule(hours=14.0, leads=1, fs=128.0, seed=2, params=p)
    t = s.time
    rr = np.diff(t)
    day = np.median(rr[(t[1:] > 0) & (t[1:] < 3600)])  # 14:00-15:00
    night = np.median(rr[(t[1:] > 13 * 3600) & (t[1:] < 14 * 3600)])  # 03:00-04:00
    assert 60 / night < 66 < 70 < 60 / day


def test_all_event_kinds_in_a_dense_ten_minute_recording():
    s = build_schedule(**DENSE, params=SynthParams.showcase())
    from holterlab.synth import episodes as E

    happened = {int(k) for k, first in zip(s.episodes.kind, s.ep_first, strict=True) if first >= 0}
    assert happened >= set(E.KIND_NAMES)
    assert set(np.unique(s.noise_events.kind)) == {E.NOISY, E.MOTION, E.POP, E.LEAD_OFF}
    assert len(s.st_events) >= 1
    assert set(np.unique(s.symbol)) == set("NAVFQ")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"hours": 0.0},
        {"hours": -1},
        {"hours": 400.0},
        {"hours": 1e-4},
        {"hours": float("inf")},
        {"hours": "1"},
        {"hours": 1, "fs": 10.0},
        {"hours": 1, "fs": float("nan")},
        {"hours": 1, "seed": -1},
        {"hours": 1, "seed": 1.5},
        {"hours": 1, "leads": 0},
        {"hours": 1, "leads": 13},
        {"hours": 1, "leads": ["II", "X9"]},
        {"hours": 1, "leads": ["II", "II"]},
        {"hours": 1, "params": {"pvc_per_hour": 3}},
    ],
)
def test_bad_arguments_raise_parameter_error(kwargs):
    with pytest.raises(ParameterError):
        build_schedule(**kwargs)

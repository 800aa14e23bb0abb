"""Pauses at and around the threshold, excluded time, and the pause kinds."""

import numpy as np
import pytest

from holterlab.rhythm import analyze_rhythm
from tests.rhythm.rr_synth import from_times

FS = 1000.0
NO_AF = {"af": {"enabled": False}}


def sinus(n: int, rr: float = 1.0, start: float = 1.0) -> list[float]:
    return [start + rr * k for k in range(n)]


def with_gap(gap: float, labels: str | None = None, **kw):
    times = sinus(10)
    times += [times[-1] + gap + k for k in range(10)]
    labels = labels or "N" * len(times)
    kw.setdefault("params", NO_AF)
    return analyze_rhythm(*from_times(times, labels, FS), FS, **kw)


@pytest.mark.parametrize("gap, expected", [(1.999, 0), (2.0, 1), (2.001, 1), (3.5, 1)])
def test_pause_threshold_is_inclusive(gap, expected):
    r = with_gap(gap)
    assert r.pauses.count == expected
    if expected:
        (ev,) = r.events_of("pause")
        assert ev.duration_s == pytest.approx(gap)
        assert ev.start_s == pytest.approx(10.0)
        assert r.pauses.longest_s == pytest.approx(gap)


def test_threshold_is_configurable():
    r = with_gap(2.5, params={"pause": {"pause_s": 3.0}, **NO_AF})
    assert r.pauses.count == 0


def test_pause_over_excluded_time_is_not_counted():
    # 4 s without beats, but part of it is unanalysable (noise): not a pause
    r = with_gap(4.0, excluded=[(11.0, 12.0)])
    assert r.pauses.count == 0
    # excluded time elsewhere does not hide it
    r = with_gap(4.0, excluded=[(2.2, 2.8)])
    assert r.pauses.count == 1


def test_beats_inside_excluded_time_do_not_make_pauses():
    times = sinus(30)
    # remove beats 10..14 as if lost in noise, and mark that time excluded
    kept = times[:10] + times[15:]
    r = analyze_rhythm(
        *from_times(kept, "N" * len(kept), FS), FS, params=NO_AF, excluded=[(10.5, 15.5)]
    )
    assert r.pauses.count == 0
    assert r.n_beats == len(kept)


def test_kinds_sa_block_and_sinus_arrest():
    assert with_gap(2.0).events_of("pause")[0].detail["kind"] == "sa_block"  # 2 x 1.0 s
    assert with_gap(3.05).events_of("pause")[0].detail["kind"] == "sa_block"  # ~3 x
    ev = with_gap(2.5).events_of("pause")[0]
    assert ev.detail["kind"] == "sinus_arrest" and ev.detail["sinus_arrest"] is True
    assert ev.detail["sinus_cycle_s"] == pytest.approx(1.0)


def test_kind_post_ectopic_and_escape():
    labels = "N" * 9 + "V" + "N" * 10
    assert with_gap(2.5, labels).events_of("pause")[0].detail["kind"] == "post_ectopic"
    labels = "N" * 10 + "V" + "N" * 9
    assert with_gap(2.5, labels).events_of("pause")[0].detail["kind"] == "other"


def test_pause_inside_af_has_kind_af():
    rng = np.random.default_rng(0)
    rr = rng.gamma(25, 0.8 / 25, 200)
    rr[100] = 2.4
    times = np.concatenate([[1.0], 1.0 + np.cumsum(rr)])
    r = analyze_rhythm(*from_times(times, "N" * times.size, FS), FS)
    assert len(r.events_of("af")) == 1
    (ev,) = r.events_of("pause")
    assert ev.detail["kind"] == "af" and ev.detail["sinus_arrest"] is False
    assert r.pauses.sinus_arrests == 0 and r.pauses.by_kind == {"af": 1}

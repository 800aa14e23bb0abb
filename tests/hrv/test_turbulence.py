"""Heart-rate turbulence on synthetic tachograms with a known turbulence pattern."""

from __future__ import annotations

import numpy as np
import pytest

from holterlab.hrv.turbulence import heart_rate_turbulence, turbulence_slope
from holterlab.params.hrv import HRVParams
from tests.hrv.synth import beats_from_rr

#: RR1..RR15 after the compensatory pause: early shortening, then 10 ms/beat lengthening
POST = [780, 770, 770, 780, 790, 800, 810, 820, 830, 830, 830, 830, 830, 830, 830]


def _record(blocks, sinus=800.0, gap=20):
    """Beats and labels: ``gap`` sinus intervals, then per block CI, CP and its post-VPB RRs."""
    rr, labels = [sinus] * gap, ["N"] * (gap + 1)
    for ci, cp, post in blocks:
        rr += [ci, cp, *post, *([sinus] * gap)]
        labels[-1:] = ["N", "V", *(["N"] * (len(post) + gap + 1))]
    return beats_from_rr(np.array(rr, dtype=float)), np.array(labels)


def test_turbulence_slope_of_a_line():
    assert turbulence_slope(np.arange(15) * 7.0 + 800) == pytest.approx(7.0)
    assert turbulence_slope(np.array(POST, float)) == pytest.approx(10.0)


def test_known_pattern_gives_known_onset_and_slope():
    beats, labels = _record([(500, 1100, POST)])
    hrt = heart_rate_turbulence(beats, labels, 1000.0)
    assert hrt.n_vpb == 1 and hrt.n_v_beats == 1
    assert hrt.to_pct == pytest.approx(((780 + 770) - (800 + 800)) / 1600 * 100)  # -3.125
    assert hrt.ts_ms_per_beat == pytest.approx(10.0)
    assert hrt.tachogram_ms == pytest.approx([800, 800, 500, 1100, *POST])


def test_slope_is_taken_on_the_averaged_tachogram():
    # two VPBs whose 20 ms/beat rises fall on different beats: averaged, each rise is
    # 10 ms/beat; the mean of the individual slopes would be 20
    a = [800, 800, 820, 840, 860, 880, 900, 900, 900, 900, 900, 900, 900, 900, 900]
    b = [800, 800, 800, 800, 800, 800, 800, 800, 820, 840, 860, 880, 900, 900, 900]
    beats, labels = _record([(500, 1100, a), (520, 1050, b)])
    hrt = heart_rate_turbulence(beats, labels, 1000.0)
    assert hrt.n_vpb == 2
    assert turbulence_slope(np.array(a, float)) == pytest.approx(20.0)
    assert hrt.ts_ms_per_beat == pytest.approx(10.0)
    # onset: the mean of the per-VPB onsets (both 0 % here)
    assert hrt.to_pct == pytest.approx(0.0)


@pytest.mark.parametrize(
    "ci, cp, post, reason",
    [
        (700, 1100, POST, "coupling interval only 12.5 % premature"),
        (500, 900, POST, "compensatory pause below 120 % of the reference"),
        (500, 1100, [*POST[:7], 1000, *POST[8:]], "sinus RR 25 % above the reference"),
        (500, 1100, [*POST[:7], 250, *POST[8:]], "sinus RR below 300 ms"),
    ],
)
def test_vpbs_failing_a_criterion_are_not_used(ci, cp, post, reason):
    beats, labels = _record([(ci, cp, post)])
    hrt = heart_rate_turbulence(beats, labels, 1000.0)
    assert hrt.n_vpb == 0, reason
    assert hrt.to_pct is None and hrt.ts_ms_per_beat is None and hrt.tachogram_ms == []


def test_step_filter_rejects_a_jump_between_sinus_beats():
    post = [*POST[:7], 960, 780, *POST[9:]]  # within 20 % but 140 and 180 ms steps
    beats, labels = _record([(500, 1100, post)])
    assert heart_rate_turbulence(beats, labels, 1000.0).n_vpb == 1
    strict = HRVParams(hrt_max_step_ms=100)
    assert heart_rate_turbulence(beats, labels, 1000.0, params=strict).n_vpb == 0


def test_ectopy_near_the_vpb_and_excluded_time_disqualify_it():
    beats, labels = _record([(500, 1100, POST)])
    v = int(np.flatnonzero(labels == "V")[0])
    near = labels.copy()
    near[v + 10] = "S"  # an ectopic beat within the 15 post-VPB intervals
    assert heart_rate_turbulence(beats, near, 1000.0).n_vpb == 0
    before = labels.copy()
    before[v - 2] = "S"  # RR-2 is no sinus interval
    assert heart_rate_turbulence(beats, before, 1000.0).n_vpb == 0
    t = beats[v + 5] / 1000.0
    assert heart_rate_turbulence(beats, labels, 1000.0, excluded=[(t, t + 1)]).n_vpb == 0
    far = beats[v + 30] / 1000.0
    assert heart_rate_turbulence(beats, labels, 1000.0, excluded=[(far, far + 1)]).n_vpb == 1


def test_minimum_count():
    beats, labels = _record([(500, 1100, POST)])
    hrt = heart_rate_turbulence(beats, labels, 1000.0, params=HRVParams(hrt_min_vpb=2))
    assert hrt.n_vpb == 1 and hrt.to_pct is None and hrt.ts_ms_per_beat is None
    none = heart_rate_turbulence(beats, np.full(beats.size, "N"), 1000.0)
    assert none.n_vpb == 0 and none.n_v_beats == 0 and none.to_pct is None


def test_vpb_too_close_to_the_record_edges_is_skipped():
    beats, labels = _record([(500, 1100, POST)], gap=3)
    hrt = heart_rate_turbulence(beats, labels, 1000.0)
    assert hrt.n_v_beats == 1 and hrt.n_vpb == 0  # only 3 beats before: no 5-beat window
    hrt = heart_rate_turbulence(beats, labels, 1000.0, params=HRVParams(hrt_reference_n=2))
    assert hrt.n_vpb == 1

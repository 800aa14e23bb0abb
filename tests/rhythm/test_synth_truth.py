"""The rhythm stage against the holterlab.synth ground truth, from the truth beats.

One event convention on both sides (see holterlab.params.rhythm and holterlab.synth.truth):
couplet 2, triplet 3, VT/IVR >= 4 ventricular beats; brady/tachycardia are sinus rate
episodes (AF, flutter and ectopic runs are not also tachycardia); pauses are RR >= 2 s.
Flutter needs atrial activity from the signal: these tests give the rhythm stage a perfect
:class:`AtrialActivity` built from the truth (what the signal stage should deliver), through
the public ``atrial_activity`` hook. Matching is any-overlap, as epicmp.
"""

import numpy as np
import pytest

from holterlab.evaluate.episodes import compare_episodes
from holterlab.params.synth import SynthParams
from holterlab.rhythm import AtrialActivity, analyze_rhythm
from holterlab.synth import build_schedule, build_truth

#: truth event type -> rhythm event types
TYPES = {
    "af": ("af",),
    "afl": ("afl",),
    "vt": ("vt",),
    "ivr": ("ivr",),
    "svt": ("svt",),
    "bigeminy": ("v_bigeminy",),
    "trigeminy": ("v_trigeminy",),
    "couplet": ("v_couplet",),
    "triplet": ("v_triplet",),
    "pause": ("pause",),
    "brady": ("brady",),
    "tachy": ("tachy",),
}


def oracle_atrial_activity(events, duration_s: float) -> AtrialActivity:
    """2-s windows: flutter rate and organisation in flutter, no P waves in AF/flutter."""
    ts = np.arange(1.0, duration_s, 2.0)
    rate = np.full(ts.size, np.nan)
    org = np.zeros(ts.size)
    pw = np.ones(ts.size)
    for e in events:
        if e["type"] in ("af", "afl"):
            w = (ts >= e["start_s"]) & (ts <= e["end_s"])
            pw[w] = 0.0
            if e["type"] == "afl":
                rate[w] = e["flutter_rate_bpm"]
                org[w] = 0.9
    return AtrialActivity(ts, rate, org, pw)


def _analyse(hours, seed, params, leads=2, activity=True):
    sch = build_schedule(hours=hours, leads=leads, seed=seed, params=params)
    truth = build_truth(sch)
    b = truth.annotations.beats()
    dur = sch.n_samples / b.fs
    aa = oracle_atrial_activity(truth.events, dur) if activity else None
    r = analyze_rhythm(b.sample, b.aami(), b.fs, duration_s=dur, atrial_activity=aa)
    return truth, r


def _scores(truth, r, kinds):
    out = {}
    for kind in kinds:
        ref = [(e["start_s"], e["end_s"]) for e in truth.of_type(kind)]
        test = [(e.start_s, max(e.end_s, e.start_s + 0.01)) for e in r.events_of(*TYPES[kind])]
        c = compare_episodes(ref, test, learning_s=0)
        out[kind] = (len(ref), c.episode_se, c.episode_pp)
    return out


@pytest.fixture(scope="module")
def day():
    """The benchmark's 24-hour recording (benchmarks/holter.py), schedule and truth only."""
    params = SynthParams.preset("normal", noise_level=1.0)
    return _analyse(24, 2026, params)


def test_every_type_on_24_hours(day):
    truth, r = day
    scores = _scores(truth, r, TYPES)
    for kind, (n, se, pp) in scores.items():
        assert n > 0, kind
        assert se >= 0.95 and pp >= 0.95, (kind, scores[kind])


def test_every_type_on_dense_showcase():
    truth, r = _analyse(4, 3, SynthParams.showcase())
    kinds = [k for k in TYPES if truth.of_type(k)]
    assert len(kinds) >= 10
    scores = _scores(truth, r, kinds)
    for kind, (_, se, pp) in scores.items():
        assert se >= 0.95 and pp >= 0.95, (kind, scores[kind])


def test_without_atrial_activity_only_flutter_types_suffer():
    """RR intervals alone cannot show flutter: every other type keeps >= 95/95."""
    truth, r = _analyse(4, 3, SynthParams.showcase(), activity=False)
    kinds = [k for k in TYPES if truth.of_type(k) and k not in ("af", "afl", "tachy")]
    scores = _scores(truth, r, kinds)
    for kind, (_, se, pp) in scores.items():
        assert se >= 0.95 and pp >= 0.95, (kind, scores[kind])
    assert not r.events_of("afl")


def test_tachycardia_leaves_out_af(day):
    truth, r = day
    af = [(e.start_s, e.end_s) for e in r.events_of("af", "afl")]
    assert af
    for e in r.events_of("tachy", "brady"):
        assert not any(a < e.end_s and e.start_s < b for a, b in af), e


def test_triplets_are_not_vt(day):
    truth, r = day
    assert all(e.n_beats >= 4 for e in r.events_of("vt", "ivr"))
    assert all(e.n_beats == 3 for e in r.events_of("v_triplet"))
    assert r.ventricular.triplets == len(r.events_of("v_triplet"))

"""analyze_rhythm end to end: every event type against synthetic truth, JSON output, params."""

import dataclasses
import datetime as dt
import json

import numpy as np
import pytest

from holterlab.evaluate.episodes import compare_episodes
from holterlab.events import EVENT_TYPES
from holterlab.params.rhythm import AFParams, RhythmParams
from holterlab.rhythm import RhythmResult, analyze_rhythm
from tests.rhythm.rr_synth import RRBuilder

FS = 250.0


def truth_recording(seed: int):
    """About 2.5 h of sinus rhythm with every event type inserted, beat times jittered +-4 ms."""
    rng = np.random.default_rng(seed)
    b = RRBuilder(fs=FS, seed=seed, jitter_s=0.004)
    steps = [
        lambda: b.af(rng.uniform(60, 300), bpm=rng.uniform(70, 95), cv=rng.uniform(0.15, 0.3)),
        lambda: b.pause(rng.uniform(2.2, 4.0)),
        lambda: b.rate_episode("brady", rng.uniform(90, 200), rng.uniform(38, 45)),
        lambda: b.rate_episode("tachy", rng.uniform(90, 200), rng.uniform(115, 140)),
        lambda: b.run("V", 2, 120),
        lambda: b.run("V", 3, rng.uniform(60, 200)),
        lambda: b.run("V", int(rng.integers(4, 12)), rng.uniform(130, 200)),
        lambda: b.run("V", int(rng.integers(4, 8)), rng.uniform(55, 80)),
        lambda: b.run("S", 2, 130),
        lambda: b.run("S", 3, rng.uniform(60, 190)),
        lambda: b.run("S", int(rng.integers(4, 12)), rng.uniform(130, 190)),
        lambda: b.run("S", int(rng.integers(4, 6)), rng.uniform(60, 85)),
        lambda: b.geminy("V", int(rng.integers(3, 20)), 1),
        lambda: b.geminy("V", int(rng.integers(3, 12)), 2),
        lambda: b.geminy("S", int(rng.integers(3, 20)), 1),
        lambda: b.geminy("S", int(rng.integers(3, 12)), 2),
    ]
    b.sinus(120, bpm=70, ectopy=0.01)
    for _ in range(3):
        for k in rng.permutation(len(steps)):
            steps[k]()
            b.sinus(rng.uniform(40, 120), bpm=rng.uniform(60, 80), ectopy=0.01)
    return b.build()


@pytest.mark.parametrize("seed", [1, 2])
def test_every_event_type_against_synthetic_truth(seed):
    beats, labels, truth = truth_recording(seed)
    r = analyze_rhythm(beats, labels, FS, duration_s=beats[-1] / FS + 1)
    kinds = sorted({k for k, _, _ in truth})
    assert len(kinds) == 16
    for kind in kinds:
        ref = [(a, b) for k, a, b in truth if k == kind]
        test = [(e.start_s, e.end_s) for e in r.events_of(kind)]
        c = compare_episodes(ref, test, learning_s=0)
        assert c.episode_se >= 0.95 and c.episode_pp >= 0.95, (kind, c.to_dict())
        if kind in ("af", "brady", "tachy"):
            assert c.duration_se >= 0.9 and c.duration_pp >= 0.9, (kind, c.to_dict())
    assert r.pauses.count == sum(k == "pause" for k, _, _ in truth)


def test_to_dict_is_plain_json():
    beats, labels, _ = truth_recording(3)
    r = analyze_rhythm(beats, labels, FS, start_time=dt.datetime(2024, 5, 1, 22, 15))
    d = r.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text) == d
    assert set(d) == {f.name for f in dataclasses.fields(RhythmResult)}
    assert d["start_time"] == "2024-05-01T22:15:00"
    assert d["params"] == RhythmParams().to_dict()
    assert {e["type"] for e in d["events"]} <= set(EVENT_TYPES)
    assert d["label_counts"]["N"] + d["label_counts"]["S"] + d["label_counts"]["V"] == d["n_beats"]
    assert [e.start_s for e in r.events] == sorted(e.start_s for e in r.events)
    assert d["day"]["name"] == "day" and d["night"]["n_beats"] > 0


def test_params_as_dict_and_round_trip():
    p = RhythmParams.from_dict({"af": {"min_duration_s": 60}, "pause": {"pause_s": 2.5}})
    assert RhythmParams.from_dict(p.to_dict()) == p
    assert p.af == AFParams(min_duration_s=60)
    beats, labels, _ = truth_recording(1)
    r = analyze_rhythm(beats, labels, FS, params=p.to_dict())
    assert r.params == p
    assert all(e.duration_s >= 60 for e in r.events_of("af"))
    assert all(e.duration_s >= 2.5 for e in r.events_of("pause"))


def test_params_validation():
    with pytest.raises(ValueError):
        AFParams(threshold=0.05, exit_threshold=0.07)
    with pytest.raises(ValueError):
        AFParams(min_rr_s=0.5, max_rr_s=0.4)
    with pytest.raises(ValueError):
        AFParams(window_beats=2)
    rows = RhythmParams().describe()
    assert [r["name"] for r in rows] == ["rate", "pause", "ectopy", "af"]

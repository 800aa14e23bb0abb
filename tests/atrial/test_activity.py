"""Atrial activity (flutter, fibrillation, P waves) on generated and MIT-BIH signals."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from holterlab.atrial import atrial_activity_recording, measure_atrial_activity, window_grid
from holterlab.errors import AnnotationError, CancelledError, ParameterError
from holterlab.params.atrial import AtrialParams
from holterlab.params.rhythm import AFParams
from holterlab.recording import Recording
from holterlab.rhythm import analyze_rhythm

FS = 250.0


def _flutter_like(act) -> np.ndarray:
    p = AFParams()
    r = act.atrial_rate_bpm
    return (act.organisation >= 0.5) & (r >= p.afl_min_atrial_bpm) & (r <= p.afl_max_atrial_bpm)


def _inside(t: np.ndarray, spans, margin: float = 0.0) -> np.ndarray:
    m = np.zeros(t.size, dtype=bool)
    for a, b in spans:
        m |= (t >= a + margin) & (t <= b - margin)
    return m


@pytest.fixture(scope="module", params=[1, 2], ids=["afl-2to1", "afl-variable"])
def synth(request):
    from holterlab.params.synth import SynthParams
    from holterlab.synth import synthesize

    p = SynthParams.showcase(afl_min_s=60.0, afl_max_s=90.0, af_min_s=60.0, af_max_s=90.0)
    rec, truth = synthesize(hours=0.25, leads=2, fs=FS, seed=request.param, params=p)
    ann = truth.annotations.beats()
    act = atrial_activity_recording(rec, ann.sample, ann.aami())
    return rec, truth, ann, act


def test_flutter_windows_give_the_flutter_rate_and_high_organisation(synth):
    _, truth, _, act = synth
    afl = truth.of_type("afl")
    assert afl
    for ev in afl:
        m = _inside(act.time_s, [(ev["start_s"], ev["end_s"])], margin=5.0)
        assert m.sum() >= 3
        rate = np.nanmedian(act.atrial_rate_bpm[m])
        assert abs(rate - ev["flutter_rate_bpm"]) <= 12.0
        assert _flutter_like(act)[m].mean() >= 0.8
        assert np.all(act.p_wave_fraction[m & _flutter_like(act)] == 0.0)


def test_af_windows_are_disorganised(synth):
    _, truth, _, act = synth
    m = _inside(act.time_s, [(e["start_s"], e["end_s"]) for e in truth.of_type("af")], 5.0)
    assert m.sum() >= 3
    assert np.median(act.organisation[m]) < 0.5
    assert _flutter_like(act)[m].mean() <= 0.2
    assert np.nanmedian(act.p_wave_fraction[m]) < 0.7


def test_sinus_windows_are_not_flutter_and_have_p_waves(synth):
    _, truth, _, act = synth
    busy = [(e["start_s"] - 10, e["end_s"] + 10) for e in truth.of_type("af", "afl", "svt")]
    m = ~_inside(act.time_s, busy)
    assert m.sum() >= 20
    assert _flutter_like(act)[m].mean() <= 0.02
    assert np.nanmedian(act.p_wave_fraction[m]) >= 0.7


def test_rhythm_analysis_finds_the_flutter_episode(synth):
    rec, truth, ann, act = synth
    res = analyze_rhythm(
        ann.sample, ann.aami(), rec.fs, duration_s=rec.duration, atrial_activity=act
    )
    afl = [(e.start_s, e.end_s) for e in res.events if e.type == "afl"]
    af = [(e.start_s, e.end_s) for e in res.events if e.type == "af"]
    ref_afl = [(e["start_s"], e["end_s"]) for e in truth.of_type("afl")]
    ref_af = [(e["start_s"], e["end_s"]) for e in truth.of_type("af")]

    def overlaps(x, spans):
        return any(x[0] < b and x[1] > a for a, b in spans)

    assert all(overlaps(r, afl) for r in ref_afl)  # every flutter found as afl
    assert all(overlaps(x, ref_afl) for x in afl)  # no afl elsewhere
    assert all(overlaps(r, af) for r in ref_af)  # AF stays AF
    assert all(overlaps(x, ref_af) for x in af)


def test_result_does_not_depend_on_chunk_length(synth):
    rec, _, ann, act = synth
    small = atrial_activity_recording(rec, ann.sample, ann.aami(), chunk_s=37.0)
    for f in ("time_s", "atrial_rate_bpm", "organisation", "p_wave_fraction"):
        np.testing.assert_array_equal(getattr(small, f), getattr(act, f))


def test_block_measurement_equals_recording_windows(synth):
    rec, _, ann, act = synth
    i0, i1 = 12345, 12345 + int(200 * FS)
    part = measure_atrial_activity(
        rec.get_samples(None, i0, i1), FS, ann.sample, ann.aami(), offset=i0
    )
    grid = window_grid(rec.n_samples, FS)
    length = int(AtrialParams().window_s * FS)
    inside = (grid >= i0) & (grid + length <= i1)
    assert part.time_s.size == inside.sum() > 0
    np.testing.assert_array_equal(part.time_s, act.time_s[inside])
    np.testing.assert_array_equal(part.atrial_rate_bpm, act.atrial_rate_bpm[inside])
    np.testing.assert_array_equal(part.organisation, act.organisation[inside])


# ---------------------------------------------------------------------- hand-made signals
def _beats_signal(n: int, rr: int, atrial=None, seed: int = 0):
    """Spiky 'QRS' complexes every ``rr`` samples, small noise, plus ``atrial`` (mV)."""
    rng = np.random.default_rng(seed)
    x = 0.01 * rng.normal(size=(2, n))
    beats = np.arange(rr // 2, n - 20, rr)
    qrs = np.concatenate([np.linspace(0, 1.2, 6), np.linspace(1.2, -0.3, 6), [-0.1, 0]])
    for b in beats:
        x[:, b - 6 : b + 8] += qrs
    if atrial is not None:
        x += atrial
    return x.astype(np.float32), beats


def test_sawtooth_at_300_per_minute_is_organised_flutter():
    n = int(120 * FS)
    t = np.arange(n) / FS
    saw = 0.15 * (2 * ((t * 5.0) % 1.0) - 1)  # 5 Hz = 300/min
    x, beats = _beats_signal(n, int(FS * 60 / 75), saw)  # 4:1, 75/min
    act = measure_atrial_activity(x, FS, beats, ["N"] * beats.size)
    assert np.all(np.abs(act.atrial_rate_bpm - 300.0) <= 8.0)
    assert np.all(act.organisation >= 0.7)
    assert np.all(act.p_wave_fraction == 0.0)


def test_drifting_fibrillatory_waves_are_not_organised():
    n = int(120 * FS)
    t = np.arange(n) / FS
    rng = np.random.default_rng(3)
    inst = 6.0 + 1.2 * np.sin(2 * np.pi * 0.4 * t) + np.cumsum(rng.normal(0, 0.05, n))
    inst = np.clip(inst, 4.0, 9.0)
    f = 0.08 * np.sin(2 * np.pi * np.cumsum(inst) / FS)
    rr = rng.integers(int(0.45 * FS), int(0.9 * FS), 400)
    beats = np.cumsum(rr)
    beats = beats[beats < n - 20]
    x, _ = _beats_signal(n, 10**9, f)
    qrs = np.concatenate([np.linspace(0, 1.2, 6), np.linspace(1.2, -0.3, 6), [-0.1, 0]])
    for b in beats:
        x[:, b - 6 : b + 8] += qrs.astype(np.float32)
    act = measure_atrial_activity(x, FS, beats, ["N"] * beats.size)
    assert np.median(act.organisation) < 0.5
    assert _flutter_like(act).mean() <= 0.2


def test_no_atrial_activity_gives_no_rate():
    x, beats = _beats_signal(int(60 * FS), int(FS * 0.8))
    act = measure_atrial_activity(x, FS, beats, ["N"] * beats.size)
    assert np.all(np.isnan(act.atrial_rate_bpm))
    assert np.all(act.organisation == 0.0)


def test_mit_symbols_are_accepted_and_windows_lie_on_the_recording_grid():
    n = int(40 * FS)
    t = np.arange(n) / FS
    x, beats = _beats_signal(n, 200, 0.1 * np.sin(2 * np.pi * 5.0 * t))
    aami = measure_atrial_activity(x, FS, beats, ["N"] * beats.size, offset=1000)
    mit = measure_atrial_activity(x, FS, beats, np.array(["L"] * beats.size), offset=1000)
    np.testing.assert_array_equal(aami.atrial_rate_bpm, mit.atrial_rate_bpm)
    step = AtrialParams().step_s
    starts = aami.time_s - AtrialParams().window_s / 2
    assert np.allclose(starts / step, np.round(starts / step))
    assert starts[0] >= 1000 / FS


def test_short_signal_gives_empty_activity():
    x, beats = _beats_signal(int(3 * FS), 200)
    act = measure_atrial_activity(x, FS, beats, ["N"] * beats.size)
    assert act.time_s.size == 0 == act.atrial_rate_bpm.size


# ---------------------------------------------------------------------- errors and options
@pytest.fixture
def small():
    x, beats = _beats_signal(int(60 * FS), 200)
    return Recording.from_array(x, FS), beats, np.array(["N"] * beats.size)


@pytest.mark.parametrize(
    "beats, labels",
    [
        (np.array([10, 5, 20]), ["N", "N", "N"]),
        (np.array([5, 10, 20]), ["N", "N"]),
        (np.array([5, 10, 20]), ["N", "x", "N"]),
        (np.array([5.5, 10, 20]), ["N", "N", "N"]),
        (np.zeros((2, 2), int), ["N"] * 4),
    ],
)
def test_bad_beats_or_labels_raise_annotation_error(beats, labels):
    x, _ = _beats_signal(int(20 * FS), 200)
    with pytest.raises(AnnotationError):
        measure_atrial_activity(x, FS, beats, labels)


def test_bad_arguments_raise_parameter_error(small):
    rec, beats, labels = small
    x = rec.get()
    with pytest.raises(ParameterError):
        measure_atrial_activity(x[None], FS, beats, labels)
    with pytest.raises(ParameterError):
        measure_atrial_activity(x, 0.0, beats, labels)
    with pytest.raises(ParameterError):
        measure_atrial_activity(x, FS, beats, labels, offset=-1)
    with pytest.raises(ParameterError):
        measure_atrial_activity(x, FS, beats, labels, params="fast")
    with pytest.raises(ParameterError):
        measure_atrial_activity(x, 5.0, beats, labels)  # no atrial band below Nyquist
    with pytest.raises(ParameterError):
        atrial_activity_recording(x, beats, labels)
    with pytest.raises(ParameterError):
        atrial_activity_recording(rec, beats, labels, chunk_s=0.0)
    with pytest.raises(ParameterError):
        AtrialParams(band_low_hz=8.0, band_high_hz=6.0)
    with pytest.raises(ParameterError):
        AtrialParams(step_s=20.0, window_s=10.0)


def test_params_round_trip_and_dict_form(small):
    rec, beats, labels = small
    p = AtrialParams(window_s=10.0, step_s=5.0)
    assert AtrialParams.from_dict(p.to_dict()) == p
    a = atrial_activity_recording(rec, beats, labels, params=p)
    b = atrial_activity_recording(rec, beats, labels, params={"window_s": 10.0, "step_s": 5.0})
    np.testing.assert_array_equal(a.time_s, b.time_s)
    assert np.allclose(np.diff(a.time_s), 5.0)


def test_progress_and_cancel(small):
    rec, beats, labels = small
    seen: list[float] = []
    atrial_activity_recording(rec, beats, labels, chunk_s=16.0, progress=seen.append)
    assert len(seen) >= 3 and seen == sorted(seen) and seen[-1] == 1.0
    ev = threading.Event()
    ev.set()
    with pytest.raises(CancelledError):
        atrial_activity_recording(rec, beats, labels, cancel=ev)
    with pytest.raises(ParameterError):
        atrial_activity_recording(rec, beats, labels, cancel=3)


# ---------------------------------------------------------------------- MIT-BIH (DS1)
def _mitbih(path):
    """A MIT-BIH record, its reference beat positions and their AAMI labels."""
    import holterlab
    from holterlab.annotations import AAMI_MAP

    rec = holterlab.read(path)
    ann = rec.annotations
    is_beat = np.isin(ann.symbol, list(AAMI_MAP))
    labels = np.array([AAMI_MAP[s] for s in ann.symbol[is_beat]])
    return rec, ann, ann.sample[is_beat], labels


def test_mitbih_201_af_has_no_p_waves_and_no_flutter(mitdb):
    rec, ann, beats, labels = _mitbih(mitdb / "201.hea")
    act = atrial_activity_recording(rec, beats, labels)
    marks = [(s / rec.fs, a) for s, a in zip(ann.sample, ann.aux, strict=True) if a.startswith("(")]
    af = [
        (t, marks[i + 1][0] if i + 1 < len(marks) else rec.duration)
        for i, (t, a) in enumerate(marks)
        if a.startswith("(AFIB")
    ]
    in_af = _inside(act.time_s, af, margin=5.0)
    out = ~_inside(act.time_s, [(a - 10, b + 10) for a, b in af])
    assert in_af.sum() > 30 and out.sum() > 30
    assert not _flutter_like(act).any()
    assert np.nanmedian(act.p_wave_fraction[in_af]) < 0.3
    assert np.nanmedian(act.p_wave_fraction[out]) > 0.7


def test_mitbih_118_sinus_rhythm_has_no_flutter(mitdb):
    """Record 118 (sinus rhythm, right bundle branch block, APCs): its P and T waves put
    organised power at 3 x the heart rate, which once read as three flutter episodes."""
    from holterlab.rhythm import analyze_rhythm

    rec, _, beats, labels = _mitbih(mitdb / "118.hea")
    act = atrial_activity_recording(rec, beats, labels)
    r = analyze_rhythm(beats, labels, rec.fs, atrial_activity=act)
    assert r.af.afl_episodes == 0 and r.af.episodes == 0


def test_weak_four_to_one_flutter_is_found_by_its_metronomic_rhythm():
    """A generated 4:1 flutter whose F waves are weak next to the T-wave residue (its atrial
    peak is below 0.6 of the strongest ventricular harmonic): its fixed conduction makes the
    RR intervals metronomic, where ``metronomic_ratio`` (0.4) is enough."""
    from holterlab.params.synth import SynthParams
    from holterlab.synth import synthesize

    p = SynthParams.showcase(afl_min_s=60.0, afl_max_s=90.0, af_min_s=60.0, af_max_s=90.0)
    rec, truth = synthesize(hours=0.25, leads=2, fs=FS, seed=15, params=p)
    (ev,) = [e for e in truth.of_type("afl") if e["conduction"] == "4:1"]
    ann = truth.annotations.beats()
    act = atrial_activity_recording(rec, ann.sample, ann.aami())
    off = atrial_activity_recording(
        rec, ann.sample, ann.aami(), params=AtrialParams(metronomic_ratio=0.6)
    )
    m = _inside(act.time_s, [(ev["start_s"], ev["end_s"] - 8.0)], margin=5.0)
    assert m.sum() >= 5
    assert np.isnan(off.atrial_rate_bpm[m]).all()  # the ordinary harmonic test misses it
    assert np.all(np.abs(act.atrial_rate_bpm[m] - ev["flutter_rate_bpm"]) <= 12.0)
    assert _flutter_like(act)[m].all()
    res = analyze_rhythm(
        ann.sample, ann.aami(), rec.fs, duration_s=rec.duration, atrial_activity=act
    )
    found = [e for e in res.events_of("afl") if e.start_s < ev["end_s"] and e.end_s > ev["start_s"]]
    assert found and sum(e.duration_s for e in found) >= 0.8 * (ev["end_s"] - ev["start_s"])


def test_mitbih_116_metronomic_sinus_rhythm_has_no_flutter(mitdb):
    """Record 116: the DS1 sinus rhythm with the most metronomic windows whose P and T waves
    put power at 4 x the heart rate (up to 0.35-0.4 of the strongest other harmonic)."""
    rec, _, beats, labels = _mitbih(mitdb / "116.hea")
    act = atrial_activity_recording(rec, beats, labels)
    assert _flutter_like(act).sum() <= 1  # one isolated 8-s window at most, never a run
    r = analyze_rhythm(beats, labels, rec.fs, atrial_activity=act)
    assert r.af.afl_episodes == 0 and r.af.episodes == 0


def test_regular_rr_windows():
    from holterlab.atrial.activity import _regular_rr

    fs = 250.0
    regular = np.arange(0, 40) * 200
    rng = np.random.default_rng(0)
    varied = np.cumsum(rng.choice([100, 150, 200], 40))
    first, last = np.array([0, 10]), np.array([10, 20])
    assert _regular_rr(regular, first, last, fs).all()
    assert not _regular_rr(varied, first, last, fs).any()
    assert not _regular_rr(regular, np.array([3]), np.array([5]), fs).any()  # one interval

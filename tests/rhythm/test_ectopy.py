"""Ectopy on hand-made beat sequences: every pattern, for V and S."""

import numpy as np
import pytest

from holterlab.params.rhythm import EctopyParams, RhythmParams
from holterlab.rhythm import analyze_rhythm
from tests.rhythm.rr_synth import from_pattern, from_times

FS = 250.0
NO_AF = {"af": {"enabled": False}}


def run(pattern: str, rr_s: float = 0.8, **kw):
    beats, labels = from_pattern(pattern, rr_s=rr_s, fs=FS)
    return analyze_rhythm(beats, labels, FS, params=kw.pop("params", NO_AF), **kw)


def types(result):
    return [e.type for e in result.events if e.type not in ("brady", "tachy", "pause")]


@pytest.mark.parametrize("x", ["V", "S"])
def test_isolated(x):
    r = run(f"NNNN{x}NNNN")
    summary = r.ventricular if x == "V" else r.supraventricular
    assert (summary.total, summary.isolated, summary.couplets, summary.runs) == (1, 1, 0, 0)
    assert types(r) == []


@pytest.mark.parametrize("x", ["V", "S"])
def test_couplet(x):
    r = run(f"NNN{x}{x}NNN")
    summary = r.ventricular if x == "V" else r.supraventricular
    assert (summary.isolated, summary.couplets, summary.triplets, summary.runs) == (0, 1, 0, 0)
    assert types(r) == [f"{x.lower()}_couplet"]
    ev = r.events_of(f"{x.lower()}_couplet")[0]
    assert ev.n_beats == 2 and ev.start_s == pytest.approx(1 + 3 * 0.8)


@pytest.mark.parametrize("x", ["V", "S"])
def test_triplet_is_a_triplet_not_a_run_by_default(x):
    # the default convention: 2 couplet, 3 triplet, >= 4 a run (VT/IVR, SVT/s_run)
    r = run(f"NNN{x}{x}{x}NNN", rr_s=0.5)  # 120 bpm
    summary = r.ventricular if x == "V" else r.supraventricular
    assert (summary.triplets, summary.runs) == (1, 0)
    assert types(r) == [f"{x.lower()}_triplet"]


@pytest.mark.parametrize("x", ["V", "S"])
def test_four_beats_are_a_run_by_default(x):
    r = run(f"NNN{x * 4}NNN", rr_s=0.5)
    summary = r.ventricular if x == "V" else r.supraventricular
    assert (summary.triplets, summary.runs, summary.fast_runs) == (0, 1, 1)
    assert types(r) == ["vt" if x == "V" else "svt"]


@pytest.mark.parametrize("x", ["V", "S"])
def test_triplet_is_a_run_with_the_mitbih_convention(x):
    params = RhythmParams.from_dict({**NO_AF, "ectopy": {"run_min_beats": 3}})
    r = run(f"NNN{x}{x}{x}NNN", rr_s=0.5, params=params)
    summary = r.ventricular if x == "V" else r.supraventricular
    assert (summary.triplets, summary.runs, summary.fast_runs) == (1, 1, 1)
    assert types(r) == ["vt" if x == "V" else "svt"]


def test_fusion_beats_inside_a_ventricular_run_belong_to_it():
    r = run("NNNVFVFFVVNNN", rr_s=0.5)
    (ev,) = r.events_of("vt")
    assert ev.n_beats == 7
    assert r.ventricular.total == 4 and r.ventricular.isolated == 0
    off = RhythmParams.from_dict({**NO_AF, "ectopy": {"fusion_in_runs": False}})
    r = run("NNNVFVFFVVNNN", rr_s=0.5, params=off)
    assert types(r) == ["v_couplet"] and r.ventricular.isolated == 2
    # one V beat with fusion beats is no run: the V beat stays isolated
    r = run("NNNNVFNNNN", rr_s=0.5)
    assert types(r) == [] and r.ventricular.isolated == 1


@pytest.mark.parametrize("x, fast, slow", [("V", "vt", "ivr"), ("S", "svt", "s_run")])
def test_fast_and_slow_runs_with_rate(x, fast, slow):
    # 5 ectopic beats at 150 bpm
    times = [1.0, 2.0, 3.0, 3.4, 3.8, 4.2, 4.6, 5.0, 6.2, 7.2]
    r = analyze_rhythm(*from_times(times, f"NNN{x * 5}NN", FS), FS, params=NO_AF)
    (ev,) = r.events_of(fast)
    assert ev.n_beats == 5 and ev.rate_bpm == pytest.approx(150.0, abs=1.0)
    assert ev.start_s == pytest.approx(3.4) and ev.end_s == pytest.approx(5.0)
    summary = r.ventricular if x == "V" else r.supraventricular
    assert summary.fastest_run.rate_bpm == pytest.approx(150.0, abs=1.0)
    assert summary.longest_run.n_beats == 5
    # the same 5 beats at 70 bpm
    rr = 60 / 70
    times = [1.0, 2.0, 3.0] + [3.6 + rr * k for k in range(5)] + [3.6 + 4 * rr + 1.0, 9.0]
    r = analyze_rhythm(*from_times(times, f"NNN{x * 5}NN", FS), FS, params=NO_AF)
    (ev,) = r.events_of(slow)
    assert ev.rate_bpm == pytest.approx(70.0, abs=1.0) and r.events_of(fast) == []


def test_vt_rate_threshold_is_configurable():
    params = RhythmParams.from_dict({**NO_AF, "ectopy": {"vt_rate_bpm": 160}})
    times = [1.0, 2.0, 3.0, 3.4, 3.8, 4.2, 4.6, 5.0, 6.2, 7.2]
    r = analyze_rhythm(*from_times(times, "NNNVVVVVNN", FS), FS, params=params)
    assert [e.type for e in r.events] == ["ivr"]


@pytest.mark.parametrize("x", ["V", "S"])
def test_bigeminy(x):
    r = run(f"NNN N{x}N{x}N{x}N{x} NNN")
    (ev,) = r.events_of(f"{x.lower()}_bigeminy")
    assert ev.detail["cycles"] == 4
    assert ev.start_s == pytest.approx(1 + 3 * 0.8)  # the N opening the first cycle
    assert ev.end_s == pytest.approx(1 + 10 * 0.8)  # the last ectopic beat
    summary = r.ventricular if x == "V" else r.supraventricular
    assert summary.bigeminy_episodes == 1 and summary.isolated == 4
    assert summary.bigeminy_s == pytest.approx(ev.duration_s)
    assert r.events_of(f"{x.lower()}_trigeminy") == []


@pytest.mark.parametrize("x", ["V", "S"])
def test_trigeminy(x):
    r = run(f"NN N{x} NN{x} NN{x} NN{x} NNN".replace(" ", ""))
    # pattern: N N N x N N x N N x N N x ...: 4 cycles
    (ev,) = r.events_of(f"{x.lower()}_trigeminy")
    assert ev.detail["cycles"] == 4
    assert r.events_of(f"{x.lower()}_bigeminy") == []


@pytest.mark.parametrize("x", ["V", "S"])
def test_too_few_cycles_is_not_bigeminy(x):
    r = run(f"NNN N{x}N{x} NNNNN")
    assert r.events_of(f"{x.lower()}_bigeminy") == []
    params = RhythmParams.from_dict({**NO_AF, "ectopy": {"bigeminy_min_cycles": 2}})
    r = run(f"NNN N{x}N{x} NNNNN", params=params)
    assert len(r.events_of(f"{x.lower()}_bigeminy")) == 1


def test_counts_sum_and_burden():
    r = run("NNVNNVVNNVVVNNSNNSSNN")
    v, s = r.ventricular, r.supraventricular
    assert v.total == 6 and v.isolated == 1 and v.couplets == 1 and v.triplets == 1
    assert v.isolated + 2 * v.couplets + 3 * v.triplets == v.total
    assert s.total == 3 and s.isolated == 1 and s.couplets == 1
    assert v.burden_pct == pytest.approx(100 * 6 / 21)
    assert s.burden_pct == pytest.approx(100 * 3 / 21)


def test_excluded_time_breaks_a_run():
    beats, labels = from_pattern("NNNVVVVNNN", rr_s=0.5, fs=FS)
    # exclude the time between the 2nd and 3rd V beat (t = 3.0 .. 3.5)
    r = analyze_rhythm(beats, labels, FS, params=NO_AF, excluded=[(3.1, 3.3)])
    assert r.ventricular.couplets == 2 and r.ventricular.runs == 0


def test_s_beats_inside_af_are_not_s_ectopy():
    from tests.rhythm.rr_synth import RRBuilder

    b = RRBuilder(seed=3).sinus(120).af(240, bpm=100, cv=0.25).sinus(120)
    beats, labels, truth = b.build()
    (_, a, e) = truth[0]
    t = beats / FS
    inside = np.flatnonzero((t > a + 30) & (t < e - 30))
    labels = labels.copy()
    labels[inside[::5]] = "S"  # a classifier calling AF beats S
    labels[inside[1::50]] = "V"
    r = analyze_rhythm(beats, labels, FS)
    assert len(r.events_of("af")) == 1
    assert r.supraventricular.total == 0 and r.events_of("svt", "s_couplet") == []
    assert r.ventricular.total == len(inside[1::50])
    # with AF detection off the same S beats are ectopy
    r = analyze_rhythm(beats, labels, FS, params=NO_AF)
    assert r.supraventricular.total == len(inside[::5])


def test_ectopy_params_validate():
    with pytest.raises(ValueError):
        EctopyParams(run_min_beats=2)


def test_s_beats_at_an_af_onset_belong_to_the_af():
    from holterlab.rhythm._input import CODE, prepare
    from holterlab.rhythm.ectopy import analyze_ectopy, effective_codes

    fs = 250.0
    t = list(np.arange(0.0, 60.0, 1.0))  # sinus
    t += list(60.0 + 0.4 * np.arange(1, 6))  # 5 fast S beats at the onset
    rng = np.random.default_rng(0)
    t += list(62.0 + np.cumsum(rng.uniform(0.35, 1.1, 150)))  # the AF that follows
    labels = ["N"] * 60 + ["S"] * 5 + ["N"] * 150
    series = prepare((np.array(t) * fs).astype(np.int64), labels, fs)
    af = [(64.0, float(t[-1]))]  # the RR-based episode starts a few beats late
    late = effective_codes(series, af, onset_s=10.0)
    assert not (late == CODE["S"]).any()
    assert (effective_codes(series, af) == CODE["S"]).sum() == 5
    _, s_sum, events = analyze_ectopy(series, EctopyParams(), af)
    assert not [e for e in events if e.type == "svt"]
    _, _, events = analyze_ectopy(series, EctopyParams(af_onset_s=0.0), af)
    assert [e.type for e in events if e.type == "svt"] == ["svt"]


def test_s_run_continuing_an_af_episode_belongs_to_it():
    """The detected flutter ends a few beats early: the S run that continues it to the true
    end is the flutter's, not an SVT; an S beat after sinus beats has returned is ectopy."""
    from holterlab.events import Event
    from holterlab.rhythm import af_precedence
    from holterlab.rhythm._input import CODE, prepare
    from holterlab.rhythm.ectopy import effective_codes

    fs = 250.0
    t = list(0.43 * np.arange(1, 201))  # 2:1 flutter, ends at 86 s
    t += list(t[-1] + np.arange(1, 9) * 0.9)  # sinus
    t += [t[-1] + 0.5]  # an APC
    t += list(t[-1] + np.arange(1, 20) * 0.9)
    labels = ["N"] * 190 + ["S"] * 10 + ["N"] * 8 + ["S"] + ["N"] * 19
    series = prepare((np.array(t) * fs).astype(np.int64), labels, fs)
    af = [(0.0, 0.43 * 190)]  # the detected episode misses the last 10 beats
    code = effective_codes(series, af, onset_s=10.0)
    assert (code == CODE["S"]).sum() == 1 and code[208] == CODE["S"]
    ev = [Event("afl", 0.0, 0.43 * 190)]
    mask = af_precedence(np.array(t), np.array(labels), ev, onset_s=10.0)
    assert np.flatnonzero(mask).tolist() == list(range(190, 200))
    assert not effective_codes(series, af, onset_s=0.0)[190:200].tolist().count(CODE["N"])

"""The truth matches the signal: R peaks, widths, couplings, AF irregularity, pauses, ST."""

from __future__ import annotations

import dataclasses

import numpy as np

from holterlab.synth import SynthSource, build_truth
from holterlab.synth.walk import SYM_A, SYM_N, SYM_V

FS = 250.0


def _beats(truth):
    b = truth.annotations.beats()
    return b.sample, b.symbol.astype(str)


def test_annotations_list_every_beat_of_the_schedule(dense):
    rec, truth = dense
    sch = rec.source.schedule
    sample, symbol = _beats(truth)
    assert np.array_equal(sample, sch.sample)
    assert np.array_equal(symbol, sch.symbol)
    assert set(truth.counts()) == set("NAVFQ")


def test_every_beat_has_its_r_peak_at_the_annotation(dense, dense_clean):
    rec, truth = dense
    sample, symbol = _beats(truth)
    x = dense_clean[0]  # lead II
    inner = (sample > 10) & (sample < rec.n_samples - 10)
    for s in sample[inner]:
        w = np.abs(x[s - 7 : s + 8])  # +-28 ms
        assert abs(int(np.argmax(w)) - 7) <= 1, s
    # and the peak is a real QRS, far above the P and T waves
    assert np.all(np.abs(x[sample[inner]]) > 0.4)


def test_no_extra_peaks_between_sinus_beats(dense, dense_clean):
    rec, truth = dense
    sch = rec.source.schedule
    x = dense_clean[0]
    s = sch.sample
    checked = 0
    for i in range(1, len(s) - 1):
        if not (
            sch.sym[i] == SYM_N
            and sch.sym[i + 1] == SYM_N
            and sch.ep[i] < 0
            and sch.ep[i + 1] < 0
            and sch.st[i] == 0
        ):
            continue
        between = x[s[i] + 20 : s[i + 1] - 20]  # 80 ms away from both R peaks
        assert np.max(np.abs(between)) < 0.45 * min(abs(x[s[i]]), abs(x[s[i + 1]])), i
        checked += 1
    assert checked > 150


def _qrs_width_ms(clean, s):
    """Earliest onset to latest offset over leads, threshold 10 % of each lead's peak."""
    on, off = [], []
    for lead in clean:
        seg = lead[s - 30 : s + 31]
        idx = np.flatnonzero(np.abs(seg) > 0.1 * np.abs(seg).max())
        on.append(idx[0])
        off.append(idx[-1])
    return (max(off) - min(on) + 1) / FS * 1000


def test_pvcs_are_wide_and_normal_beats_narrow(dense, dense_clean):
    rec, _ = dense
    sch = rec.source.schedule
    ok = (sch.ep < 0) & (sch.st == 0) & (sch.sample > 100)
    ok &= sch.sample < rec.n_samples - 100
    pvc = np.flatnonzero(ok & (sch.sym == SYM_V))
    nor = np.flatnonzero(ok & (sch.sym == SYM_N) & (sch.rr > 0.6))
    assert pvc.size > 10 and nor.size > 100
    pvc_w = [_qrs_width_ms(dense_clean, sch.sample[i]) for i in pvc]
    nor_w = [_qrs_width_ms(dense_clean, sch.sample[i]) for i in nor[:200]]
    assert min(pvc_w) > 110 and 120 <= np.median(pvc_w) <= 165
    assert max(nor_w) < 100


def test_pvcs_have_no_p_wave_and_a_compensatory_pause(dense):
    rec, _ = dense
    sch = rec.source.schedule
    t = sch.time
    iso = [
        i
        for i in range(2, len(t) - 1)
        if sch.sym[i] == SYM_V
        and sch.ep[i] < 0
        and sch.sym[i - 1] == SYM_N
        and sch.sym[i + 1] == SYM_N
        and sch.sym[i - 2] == SYM_N
        and (i + 2 >= len(t) or sch.sym[i + 2] != SYM_V)
    ]
    assert len(iso) > 10
    assert np.all(sch.pk[iso] == 0)
    for i in iso:
        pre = t[i - 1] - t[i - 2]
        assert t[i] - t[i - 1] < 0.75 * pre  # premature
        # compensatory: the two RR around the PVC span about two normal cycles
        assert 1.6 * pre < t[i + 1] - t[i - 1] < 2.4 * pre


def test_pac_coupling_is_short_and_pause_not_compensatory(dense):
    rec, _ = dense
    sch = rec.source.schedule
    t = sch.time
    pacs = [
        i
        for i in range(2, len(t) - 1)
        if sch.sym[i] == SYM_A
        and sch.ep[i] < 0
        and sch.sym[i - 1] == SYM_N
        and sch.sym[i - 2] == SYM_N
    ]
    assert len(pacs) > 10
    for i in pacs:
        pre = t[i - 1] - t[i - 2]
        assert (t[i] - t[i - 1]) / pre < 0.85
        assert t[i + 1] - t[i - 1] < 1.9 * pre
    assert np.all(sch.pk[pacs] == 2)


def _irregularity(t):
    rr = np.diff(t)
    return np.sqrt(np.mean(np.diff(rr) ** 2)) / np.mean(rr)


def test_af_is_irregular_and_sinus_is_not(dense):
    rec, truth = dense
    sch = rec.source.schedule
    t = sch.time
    af = truth.of_type("af")
    assert af
    for ev in af:
        m = (t >= ev["start_s"]) & (t < ev["end_s"])
        assert np.all(sch.sym[m] == SYM_N) and np.all(sch.pk[m] == 0)
        assert _irregularity(t[m]) > 0.15
    # stretches of 12 plain sinus beats (RR not next to any ectopic beat)
    plain = (sch.sym == SYM_N) & (sch.ep < 0)
    runs = 0
    i = 0
    while i < len(t) - 12:
        if plain[i : i + 12].all():
            assert _irregularity(t[i : i + 12]) < 0.08, i
            runs += 1
            i += 12
        else:
            i += 1
    assert runs > 5


def test_flutter_rr_are_multiples_of_the_flutter_cycle(dense):
    rec, truth = dense
    t = rec.source.schedule.time
    for ev in truth.of_type("afl"):
        m = (t >= ev["start_s"]) & (t < ev["end_s"])
        cycle = 60.0 / ev["flutter_rate_bpm"]
        ratio = np.diff(t[m]) / cycle
        assert np.all(np.abs(ratio - np.round(ratio)) < 0.03)
        assert set(np.round(ratio).astype(int)) <= {2, 3, 4}


def test_pauses_are_exactly_the_long_rr(dense):
    _, truth = dense
    sample, _ = _beats(truth)
    t = sample / FS
    rr = np.diff(t)
    long_rr = [(round(t[i], 4), round(t[i + 1], 4)) for i in np.flatnonzero(rr > 2.0)]
    listed = [(e["start_s"], e["end_s"]) for e in truth.of_type("pause")]
    assert long_rr == listed
    assert any(e["cause"] == "sinus_arrest" for e in truth.of_type("pause"))


def test_rhythm_annotations_match_the_episode_events(dense):
    rec, truth = dense
    ann = truth.annotations
    rh = ann.rhythms()
    changes = list(zip(np.round(rh.sample / FS, 4), rh.aux.astype(str), strict=True))
    assert changes[0] == (0.0, "(N")
    sample, symbol = _beats(truth)
    t = sample / FS
    expected_types = {"af": "N", "afl": "N", "vt": "V", "svt": "A", "ivr": "V"}
    for ev in truth.events:
        if "aux" not in ev:
            continue
        assert (ev["start_s"], ev["aux"]) in changes
        if ev["end_s"] < rec.duration:
            assert (ev["end_s"], "(N") in changes
        inside = symbol[(t >= ev["start_s"]) & (t < ev["end_s"])]
        assert inside.size == ev["beats"]
        if ev["type"] in expected_types:
            assert set(inside) == {expected_types[ev["type"]]}
        if ev["type"] == "vt":
            assert ev["beats"] >= 4 and 100 <= ev["rate_bpm"] <= 290
        if ev["type"] == "bigeminy":
            assert "".join(inside[1:7]) in ("VNVNVN", "NVNVNV")
        if ev["type"] == "trigeminy":
            assert "VNNVNN" in "".join(inside) or "NNVNNV" in "".join(inside)
    # couplets and triplets are consecutive PVCs
    for ev in truth.of_type("couplet", "triplet"):
        m = (t >= ev["start_s"] - 1e-6) & (t <= ev["end_s"] + 1e-6)
        assert list(symbol[m]) == ["V"] * ev["beats"]


def test_every_event_type_is_listed(dense):
    """Every kind is planned; brady/tachy of 10 minutes are too short to be reportable."""
    rec, truth = dense
    types = {e["type"] for e in truth.events}
    assert types >= {
        "af",
        "afl",
        "vt",
        "svt",
        "ivr",
        "bigeminy",
        "trigeminy",
        "pause",
        "couplet",
        "triplet",
        "st_depression",
        "noise",
        "motion",
        "electrode_pop",
        "lead_off",
    }
    for e in truth.events:
        assert 0 <= e["start_s"] <= e["end_s"] <= 600.0
    from holterlab.synth import episodes as E

    planned = set(rec.source.schedule.episodes.kind.tolist())
    assert {E.BRADY, E.TACHY} <= planned
    # planned, but under a minute at the brady/tachy rate: not reportable episodes
    assert not truth.of_type("brady", "tachy")


def test_st_depression_has_the_listed_depth_at_j_plus_60(dense):
    rec, truth = dense
    sch = rec.source.schedule
    flat = dataclasses.replace(sch, st=np.zeros_like(sch.st))
    ev = truth.of_type("st_depression")[0]
    mid = 0.5 * (ev["start_s"] + ev["end_s"])
    t = sch.time
    # a normal beat in the plateau of the episode
    cand = np.flatnonzero(
        (sch.sym == SYM_N) & (np.abs(t - mid) < 0.2 * (ev["end_s"] - ev["start_s"]))
    )
    i = int(cand[0])
    j60 = int(sch.sample[i] + round(0.10 * FS))
    with_st = SynthSource(sch, noise=False).render(j60, j60 + 1)[:, 0]
    without = SynthSource(flat, noise=False).render(j60, j60 + 1)[:, 0]
    depth = without - with_st
    for k, name in enumerate(sch.leads):
        assert abs(depth[k] - ev["shift_by_lead"][name]) < 0.01
    assert ev["depth_mv"] == max(ev["depth_by_lead"].values()) > 0.05
    # the reader's depression: the level at J+60 against the PR level, shift included
    k = sch.leads.index(ev["lead"])
    r = int(sch.sample[i])
    j60 = round((0.026 + 2.5 * 0.011 + 0.060) * FS)  # end of the normal S wave + 60 ms
    seg = SynthSource(sch, noise=False).render(r - 25, r + j60 + 1)[k]
    assert abs((seg[:6].mean() - seg[-1]) - ev["depth_mv"]) < 0.03


def test_truth_is_rebuilt_identically(dense):
    rec, truth = dense
    again = build_truth(rec.source.schedule)
    assert again.annotations == truth.annotations
    assert again.events == truth.events


def test_truth_conventions_on_24_hours():
    """Runs: couplet 2, triplet 3, VT/IVR >= 4 PVCs; brady/tachy: the sinus-rate part of the
    planned episode, >= 60 s; pauses: RR >= the threshold."""
    from holterlab.params.synth import SynthParams
    from holterlab.synth import build_schedule, build_truth
    from holterlab.synth.truth import BRADY_BPM, RATE_EPISODE_MIN_S, TACHY_BPM

    sch = build_schedule(hours=24, seed=2026, params=SynthParams.preset("normal"))
    truth = build_truth(sch)
    t = sch.sample / sch.fs
    for ev in truth.of_type("vt", "ivr"):
        assert ev["beats"] >= 4
    for ev in truth.of_type("triplet"):
        assert ev["beats"] == 3
    rates = truth.of_type("brady", "tachy")
    assert {e["type"] for e in rates} == {"brady", "tachy"}
    for ev in rates:
        assert ev["end_s"] - ev["start_s"] >= RATE_EPISODE_MIN_S
        assert ev["planned_start_s"] <= ev["start_s"] and ev["end_s"] <= ev["planned_end_s"] + 1
        if ev["type"] == "brady":
            assert ev["rate_bpm"] < BRADY_BPM
        else:
            assert ev["rate_bpm"] > TACHY_BPM
    rr = np.diff(sch.sample)
    n_long = int(np.count_nonzero(rr >= sch.params.pause_threshold_s * sch.fs - 1e-6))
    assert len(truth.of_type("pause")) == n_long
    assert all(e["duration_s"] >= sch.params.pause_threshold_s for e in truth.of_type("pause"))
    assert t.size > 0


def test_st_truth_follows_the_1mm_1min_rule():
    """An ST episode in the truth is the span where the most affected lead is depressed by at
    least 0.1 mV, and it lasts at least 60 s; shallower or shorter changes are st_change."""
    from holterlab.params.synth import SynthParams
    from holterlab.synth import build_schedule, build_truth
    from holterlab.synth.truth import ST_EPISODE_MV, ST_EPISODE_S

    sch = build_schedule(hours=72, seed=7, params=SynthParams.preset("normal"))
    truth = build_truth(sch)
    episodes, changes = truth.of_type("st_depression"), truth.of_type("st_change")
    assert episodes and changes  # both kinds occur over three days
    for ev in episodes:
        assert ev["end_s"] - ev["start_s"] >= ST_EPISODE_S - 1e-3
        assert ev["depth_mv"] >= ST_EPISODE_MV
        assert ev["planned_start_s"] < ev["start_s"] < ev["end_s"] < ev["planned_end_s"]
        assert ev["start_s"] - ev["planned_start_s"] <= ev["ramp_s"]  # crosses on the ramp
        assert ev["depth_by_lead"][ev["lead"]] == ev["depth_mv"]
    for ev in changes:
        assert ev["depth_mv"] < ST_EPISODE_MV or ev["planned_end_s"] - ev["planned_start_s"] < (
            ST_EPISODE_S + 2 * ev["ramp_s"]
        )

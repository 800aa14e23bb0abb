"""The whole pipeline on synthetic recordings with ground truth: accuracy, chunk-size
independence, progress by stage, cancellation, schema."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import holterlab
from holterlab.annotations import Annotations
from holterlab.errors import CancelledError, ParameterError
from holterlab.evaluate import compare_beats, compare_episodes
from holterlab.params.synth import SynthParams
from holterlab.synth import synthesize


@pytest.fixture(scope="module")
def dense():
    rec, truth = synthesize(
        hours=0.5, leads=2, fs=250.0, seed=5, params=SynthParams.preset("dense")
    )
    return rec, truth


@pytest.fixture(scope="module")
def result(dense):
    rec, _ = dense
    return holterlab.analyze(rec)


def _truth_annotations(truth):
    ann = truth.annotations if hasattr(truth, "annotations") else truth
    return ann


def test_beats_match_the_truth(dense, result):
    _, truth = dense
    ref = _truth_annotations(truth)
    test = Annotations(result.beat_samples, list(result.beat_labels), result.fs)
    cmp = compare_beats(ref, test, learning_s=0)
    assert cmp.qrs_se >= 0.995 and cmp.qrs_pp >= 0.995
    assert cmp.veb_se >= 0.9


def test_result_is_schema_valid_and_complete(result):
    result.validate()
    d = result.to_dict()
    assert d["beats"]["total"] == len(result.beat_samples)
    assert d["st"] is not None and d["qt"] is not None and d["hrv"] is not None
    assert d["recording"]["analysable_s"] <= d["recording"]["duration_s"]
    assert {e["type"] for e in d["events"]} & {"vt", "pause", "af"}
    assert 0.0 <= d["recording"]["noisy_pct"] <= 100.0 - d["recording"]["noise_pct"]
    hr = d["heart_rate"]
    # the sinus maximum leaves out AF and ectopic runs, so it is never above the maximum
    # by more than a window's rounding
    assert hr["sinus_max"]["bpm"] <= hr["max"]["bpm"] + 1.0
    assert hr["sinus_min"]["bpm"] >= hr["min"]["bpm"] - 1.0
    # the schema demands the ST and QT values (a result without them does not validate)
    import jsonschema

    from holterlab.result import result_schema

    for section, key in (("qt", "max_qtc_fridericia_ms"), ("st", "episodes")):
        broken = {**d, section: {k: v for k, v in d[section].items() if k != key}}
        with pytest.raises(jsonschema.ValidationError, match=key):
            jsonschema.validate(broken, result_schema())


def test_pauses_found_where_truth_has_them(dense, result):
    _, truth = dense
    ref = _truth_annotations(truth).beats()
    rr = np.diff(ref.sample) / ref.fs
    starts = ref.sample[:-1][rr >= 2.0] / ref.fs
    ref_iv = np.column_stack([starts, starts + rr[rr >= 2.0]])
    test_iv = np.array([[e.start_s, e.end_s] for e in result.events if e.type == "pause"])
    if len(ref_iv) == 0:
        pytest.skip("no pause in this truth")
    c = compare_episodes(ref_iv, test_iv.reshape(-1, 2), learning_s=0)
    assert c.episode_se >= 0.95 and c.episode_pp >= 0.95


def test_chunk_size_does_not_change_the_result(dense):
    rec, _ = dense
    a = holterlab.analyze(rec, {"chunk_s": 300})
    b = holterlab.analyze(rec, {"chunk_s": 900})
    np.testing.assert_array_equal(a.beat_samples, b.beat_samples)
    np.testing.assert_array_equal(a.beat_labels, b.beat_labels)
    da, db = a.to_dict(), b.to_dict()
    assert da["params"].pop("chunk_s") == 300 and db["params"].pop("chunk_s") == 900
    for key in da:  # every section, ST/QT trends, hourly table and event times included
        assert da[key] == db[key], key


def test_reading_into_memory_does_not_change_the_result(dense, tmp_path):
    rec, _ = dense
    path = tmp_path / "dense.aiecg"
    rec.write(str(path))
    on_disk = holterlab.read(path)
    streamed = holterlab.analyze(on_disk, {"in_memory_mb": 0})
    loaded = holterlab.analyze(on_disk)  # 29 MB of float32: read into memory once
    np.testing.assert_array_equal(streamed.beat_samples, loaded.beat_samples)
    np.testing.assert_array_equal(streamed.beat_labels, loaded.beat_labels)
    da, db = streamed.to_dict(), loaded.to_dict()
    da["params"].pop("in_memory_mb"), db["params"].pop("in_memory_mb")
    assert da == db
    assert db["recording"]["path"] == str(path) and db["recording"]["format"] == "aiecg"


def test_progress_reports_every_stage_in_order(dense):
    rec, _ = dense
    seen: list[tuple[str, float]] = []
    holterlab.analyze(rec, progress=lambda stage, f: seen.append((stage, f)))
    stages = [s for s, _ in seen]
    order = ["quality", "detect", "classify", "atrial", "rhythm", "hrv", "st_qt"]
    firsts = [stages.index(s) for s in order]
    assert firsts == sorted(firsts)
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "stage", ["quality", "detect", "classify", "atrial", "rhythm", "hrv", "st_qt"]
)
def test_cancel_stops_quickly(dense, stage):
    """Cancelling in any stage stops the analysis within a chunk (the analysis of these
    30 minutes takes about a second, so the event is set from inside the stage)."""
    rec, _ = dense
    cancel = threading.Event()
    set_at: list[float] = []

    def progress(current: str, _fraction: float) -> None:
        if current == stage and not cancel.is_set():
            cancel.set()
            set_at.append(time.monotonic())

    with pytest.raises(CancelledError):
        holterlab.analyze(rec, {"chunk_s": 60}, progress=progress, cancel=cancel)
    assert set_at and time.monotonic() - set_at[0] < 2.0 + 3.0  # (loaded CI margin)


def test_cancel_in_cli_leaves_no_output(tmp_path, dense, monkeypatch):
    from holterlab.cli import main

    rec, _ = dense
    path = tmp_path / "r.aiecg"
    holterlab.write(rec, path)

    def boom(*args, **kwargs):
        raise CancelledError("stopped by test")

    monkeypatch.setattr("holterlab.pipeline.analyze", boom)
    assert main(["analyze", str(path), "--out", str(tmp_path / "out"), "--no-progress"]) == 130
    assert not list((tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else True


def test_bad_params_are_rejected():
    rec = holterlab.Recording.from_array(np.zeros((1, 2500), np.float32), 250.0)
    with pytest.raises(ParameterError):
        holterlab.analyze(rec, {"rhythm": {"pause": {"pause_s": -1}}})
    with pytest.raises(ParameterError):
        holterlab.analyze("not a recording")  # type: ignore[arg-type]


def test_flat_recording_gives_no_beats_and_no_asystole():
    rec = holterlab.Recording.from_array(np.zeros((2, 250 * 120), np.float32), 250.0)
    r = holterlab.analyze(rec)
    assert r.beats["total"] == 0
    assert r.pauses["count"] == 0


def test_no_s_beat_inside_af_or_flutter(dense, result):
    """AF precedence: the published labels have no S beat inside a detected AF or flutter
    episode (the classifier alone cannot tell 2:1 flutter from a supraventricular run), and
    the classification object carries the same labels."""
    t = np.asarray(result.beat_samples) / result.fs
    labels = np.asarray(result.beat_labels).astype(str)
    spans = [(e.start_s, e.end_s) for e in result.events if e.type in ("af", "afl")]
    assert spans, "the dense preset has AF/flutter"
    for a, b in spans:
        assert not np.any(labels[(t >= a) & (t <= b)] == "S")
    assert np.array_equal(np.asarray(result.classification.labels).astype(str), labels)
    _, truth = dense
    test = Annotations(result.beat_samples, list(labels), result.fs)
    cmp = compare_beats(_truth_annotations(truth), test, learning_s=0)
    assert cmp.sveb_pp >= 0.9  # 0.82 without AF precedence


def test_hrv_leaves_out_fibrillation_and_flutter(dense, result):
    """HRV describes sinus rhythm: the beats of AF and flutter are N (AAMI) but their
    intervals are not NN intervals (a 4-minute AF episode alone would raise RMSSD a lot)."""
    from holterlab.hrv import compute_hrv

    spans = [(e.start_s, e.end_s) for e in result.events if e.type in ("af", "afl")]
    assert spans
    beats = np.asarray(result.beat_samples)
    labels = np.asarray(result.beat_labels).astype(str)
    t = beats / result.fs
    inside = np.zeros(beats.size - 1, dtype=bool)
    for a, b in spans:
        inside |= (t[:-1] >= a) & (t[1:] <= b)
    nn_in_af = int(np.sum(inside & (labels[:-1] == "N") & (labels[1:] == "N")))
    hrv = result.hrv
    assert hrv["rejected"]["non_sinus"] >= nn_in_af > 50
    excluded = [(e.start_s, e.end_s) for e in result.events if e.type == "noise"]
    with_af = compute_hrv(beats, labels, result.fs, excluded=excluded or None)
    # the same series with the AF intervals in (the change filter may keep one more or less)
    assert abs(with_af.n_nn - hrv["n_nn"] - hrv["rejected"]["non_sinus"]) <= 3
    assert with_af.rmssd_ms > hrv["rmssd_ms"]


def _with_gap(gap_s: float, fill) -> holterlab.Recording:
    """150 sinus beats, ``gap_s`` seconds of ``fill(shape)``, 150 sinus beats (250 Hz)."""
    from tests.beats._synthetic_beats import synthetic_ecg

    fs = 250.0
    x1, b1 = synthetic_ecg(["N"] * 150, fs=fs, noise=0.01, seed=1)
    x2, b2 = synthetic_ecg(["N"] * 150, fs=fs, noise=0.01, seed=2)
    gap = fill((2, int(gap_s * fs))).astype(np.float32)
    x = np.concatenate([x1[:, : b1[-1] + 100], gap, x2[:, b2[0] - 150 :]], axis=1)
    return holterlab.Recording.from_array(x, fs)


def test_quiet_baseline_between_beats_is_flagged_as_possible_asystole():
    """25 s of quiet baseline (small noise and wander) between two stretches of sinus rhythm:
    excluded as no-ECG (not counted as a pause) but flagged for review, with the RR across."""
    rng = np.random.default_rng(0)

    def quiet(shape):
        t = np.arange(shape[1]) / 250.0
        return 0.01 * rng.standard_normal(shape) + 0.15 * np.sin(2 * np.pi * 0.2 * t)

    r = holterlab.analyze(_with_gap(25.0, quiet))
    (ev,) = [e for e in r.events if e.type == "noise"]
    assert ev.detail["possible_asystole"] is True
    assert 24.0 <= ev.detail["rr_s"] <= 28.0
    assert r.pauses["count"] == 0
    r.validate()


def test_noise_between_beats_is_not_a_possible_asystole():
    rng = np.random.default_rng(1)
    r = holterlab.analyze(_with_gap(25.0, lambda shape: 1.5 * rng.standard_normal(shape)))
    noise = [e for e in r.events if e.type == "noise"]
    assert noise and not any(e.detail.get("possible_asystole") for e in noise)


def test_beat_counts_name_the_beats_left_out_of_the_analysis(mitdb):
    """``beats`` counts every beat; ``beats.excluded`` those in unanalysable time (here the
    noise marks of MIT-BIH 203's reference annotations), which the ectopy sections leave
    out: the two agree once they are taken away."""
    from holterlab.annotations import read_annotations
    from tests.conftest import MITDB

    ann = read_annotations(MITDB / "203.atr")
    res = holterlab.analyze_beats(ann, duration_s=1805.6)
    beats = ann.beats()
    t = beats.sample / ann.fs
    aami = beats.aami()
    out = np.zeros(t.size, dtype=bool)
    for a, b in ann.noise_intervals(n_signals=2):
        out |= (t >= a) & (t <= b)
    assert res.beats["excluded"] == int(out.sum()) > 0
    assert res.beats["V"] - int(np.sum(out & (aami == "V"))) == res.ventricular["total"]

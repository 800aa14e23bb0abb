"""Detection and classification in one pass (holterlab.beats.one_pass): the same beats and
labels as the two stages one after the other, for any chunk size."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import holterlab
from holterlab.beats import classify_beats_recording, detect_beats_recording
from holterlab.beats import one_pass as OP
from holterlab.errors import CancelledError, ParameterError
from holterlab.quality import quality_recording
from tests.conftest import MITDB

from .test_paced import synthetic


def _both(rec, chunk_s: float):
    q = quality_recording(rec, chunk_s=chunk_s)
    beats = detect_beats_recording(rec, quality=q, chunk_s=chunk_s)
    labels = classify_beats_recording(rec, beats, quality=q)
    return q, beats, labels


def _assert_same(a_beats, a, b_beats, b) -> None:
    np.testing.assert_array_equal(a_beats, b_beats)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.proba, b.proba)
    np.testing.assert_array_equal(a.fiducial, b.fiducial)
    np.testing.assert_array_equal(a.family, b.family)
    np.testing.assert_array_equal(a.families.templates, b.families.templates)


def _worker_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("holterlab-windows")]


@pytest.mark.parametrize("chunk_s", [60.0, 457.3])
def test_equals_the_two_stages_on_mitdb(mitdb, chunk_s):
    rec = holterlab.read(MITDB / "203.hea")
    q, beats, labels = _both(rec, chunk_s)
    steps: list[tuple[str, float]] = []
    b2, l2 = OP.detect_and_classify_recording(
        rec, quality=q, chunk_s=chunk_s, progress=lambda s, f: steps.append((s, f))
    )
    _assert_same(beats, labels, b2, l2)
    assert beats.size > 2500 and set(labels.labels) >= {"N", "V"}
    stages = [s for s, _ in steps]
    assert stages.index("classify") > stages.index("detect")
    assert [f for s, f in steps if s == "detect"] == sorted(f for s, f in steps if s == "detect")
    assert steps[-1] == ("classify", 1.0)
    assert _worker_threads() == []


def test_equals_the_two_stages_with_paced_beats_and_unusable_time():
    """Spike scores (paced beats are Q) and the quality filter (a lead-off stretch in both
    leads yields no beats) come out the same."""
    x, _ = synthetic(250.0, 3, minutes=6.0)
    x[:, 20000:32000] = 0.0  # 48 s with both leads off
    rec = holterlab.Recording.from_array(x, 250.0)
    q, beats, labels = _both(rec, 60.0)
    assert not q.segment_usable.all()
    assert np.count_nonzero(labels.labels == "Q") > 0.5 * beats.size
    b2, l2 = OP.detect_and_classify_recording(rec, quality=q, chunk_s=60.0)
    _assert_same(beats, labels, b2, l2)


def test_falls_back_to_two_passes_when_the_bound_is_too_large(monkeypatch):
    rec = holterlab.read(MITDB / "101.hea")
    q, beats, labels = _both(rec, 300.0)
    monkeypatch.setattr(OP, "MAX_WINDOW_BYTES", 1000)
    b2, l2 = OP.detect_and_classify_recording(rec, quality=q, chunk_s=300.0)
    _assert_same(beats, labels, b2, l2)


def test_cancel_and_bad_quality():
    rec = holterlab.read(MITDB / "101.hea")
    q = quality_recording(rec)
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(CancelledError):
        OP.detect_and_classify_recording(rec, quality=q, chunk_s=60.0, cancel=cancel)
    assert _worker_threads() == []
    with pytest.raises(ParameterError):
        OP.detect_and_classify_recording(rec, quality=None, chunk_s=60.0)  # type: ignore[arg-type]
    with pytest.raises(ParameterError):
        OP.detect_and_classify_recording(rec, quality=q, chunk_s=0.0)


def test_cancel_during_the_families_and_features():
    """A cancel after the last chunk stops the classification between its steps (on 7 days
    each of them takes about 2 s), in one pass and in the classification stage alone."""
    rec = holterlab.read(MITDB / "101.hea")
    q = quality_recording(rec)
    stop = threading.Event()

    def progress(stage: str, fraction: float) -> None:
        if stage == "classify":
            stop.set()

    with pytest.raises(CancelledError):
        OP.detect_and_classify_recording(rec, quality=q, progress=progress, cancel=stop)
    beats = detect_beats_recording(rec, quality=q)
    stop.clear()
    with pytest.raises(CancelledError):
        classify_beats_recording(
            rec,
            beats,
            quality=q,
            progress=lambda f: stop.set() if f >= 0.0 else None,
            cancel=stop.is_set,
        )


def test_the_signal_is_read_about_once(monkeypatch):
    """The windows are cut from the chunks the detector was given: the recording is not read
    a second time (only a few seconds around a chunk edge may be)."""
    rec = holterlab.read(MITDB / "101.hea")
    q = quality_recording(rec, chunk_s=120.0)
    want_b, want = _both(rec, 120.0)[1:]
    read: list[int] = []
    original = type(rec).get_samples

    def counting(self, leads=None, start=0, stop=None):
        out = original(self, leads, start, stop)
        read.append(out.shape[-1])
        return out

    monkeypatch.setattr(type(rec), "get_samples", counting)
    beats, labels = OP.detect_and_classify_recording(rec, quality=q, chunk_s=120.0)
    monkeypatch.undo()
    _assert_same(want_b, want, beats, labels)
    assert sum(read) <= rec.n_samples + 60 * rec.fs

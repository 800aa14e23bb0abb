"""Beats and their classes in one pass over a recording.

:func:`detect_and_classify_recording` gives the same beats and labels as
:func:`~holterlab.beats.detect.detect_beats_recording` followed by
:func:`~holterlab.beats.classify.classify_beats_recording`, but reads the signal once and
overlaps the two: while the (sequential) detector works on a chunk, a worker thread cuts the
classification windows and pacing-spike scores of the beats the detector has already
accepted, from the chunks the detector was given (the last three: the detector accepts a
beat about a chunk after it reads it; the recording is read again only for beats outside
them). The detector leaves much of the
second core idle, so this hides most of that work (``benchmarks/beats24h.py``: about 0.4 s
of 24 hours on two cores).

The windows of all beats go into one array allocated for the most beats the detector can
find (one per half refractory period); pages beyond the beats actually found are never written,
so they take no memory. Where even that bound is too large to map, the two stages simply run
one after the other.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numba
import numpy as np

from holterlab.beats import _classify_kernels as K
from holterlab.beats.classify import (
    BeatLabels,
    _analyse,
    _cancel_checker,
    _chunk_margin,
    _finish,
    _recording_window_reader,
    _without_windows,
    classify_beats_recording,
)
from holterlab.beats.detect import BeatDetector, detect_beats_recording
from holterlab.beats.features import BeatWindows, extract_beat_windows, window_geometry
from holterlab.beats.paced import pacing_spike_score
from holterlab.errors import CancelledError, ParameterError
from holterlab.params.classification import ClassificationParams
from holterlab.params.detection import DetectionParams
from holterlab.quality import QualityResult, _cancel_check

__all__ = ["detect_and_classify_recording"]

#: Largest virtual size (bytes) of the window array allocated for the most beats possible;
#: above it the stages run one after the other.
MAX_WINDOW_BYTES = 16 << 30


def detect_and_classify_recording(
    recording,
    *,
    quality: QualityResult,
    detection: DetectionParams | None = None,
    classification: ClassificationParams | None = None,
    chunk_s: float = 1800.0,
    leads: Any = None,
    progress: Callable[[str, float], None] | None = None,
    cancel: Any = None,
) -> tuple[np.ndarray, BeatLabels]:
    """Detect and classify the beats of a recording in one pass.

    Parameters
    ----------
    recording
        The recording.
    quality
        Its :class:`~holterlab.quality.QualityResult` (leads and samples as used here).
    detection, classification
        Stage parameters (defaults if None).
    chunk_s
        Seconds read per chunk.
    leads
        Leads to use (names or indices; default all).
    progress
        ``callback(stage, fraction)``: ``"detect"`` with the fraction of the signal read,
        then ``"classify"`` (0.0 when the families and features are computed, 1.0 at the end).
    cancel
        A :class:`threading.Event` or a callable returning True to stop; checked between
        chunks, raises :class:`~holterlab.errors.CancelledError`.

    Returns
    -------
    (numpy.ndarray, BeatLabels)
        The beats (sorted int64 sample indices) and their labels, equal to
        :func:`~holterlab.beats.detect.detect_beats_recording` followed by
        :func:`~holterlab.beats.classify.classify_beats_recording`.
    """
    if not isinstance(quality, QualityResult):
        raise ParameterError("quality must be the QualityResult of the recording")
    if not np.isfinite(chunk_s) or chunk_s <= 0:
        raise ParameterError(f"chunk_s must be a positive number of seconds, got {chunk_s!r}")
    cp = classification or ClassificationParams()
    dp = detection or DetectionParams()
    fs = float(recording.fs)
    idx = recording.lead_indices(leads)
    n = int(recording.n_samples)
    report = progress or (lambda stage, fraction: None)
    g = window_geometry(fs, cp)
    width = g.keep_hi - g.keep_lo
    # the detector keeps beats a refractory period apart (half of it as the bound, to be safe)
    cap = n // max(1, int(dp.refractory_ms * fs / 2000.0)) + 2
    if cap * len(idx) * width * 4 > MAX_WINDOW_BYTES:
        beats = detect_beats_recording(
            recording, params=dp, quality=quality, chunk_s=chunk_s, leads=idx,
            progress=lambda f: report("detect", f), cancel=cancel,
        )  # fmt: skip
        report("classify", 0.0)
        labels = classify_beats_recording(
            recording, beats, params=cp, quality=quality, leads=idx, cancel=cancel
        )
        report("classify", 1.0)
        return beats, labels
    cut = _WindowCutter(recording, idx, quality, g, cp, cap)
    det = BeatDetector(fs, len(idx), n, params=dp, quality=quality)
    is_cancelled = _cancel_check(cancel)
    step = max(1, int(round(chunk_s * fs)))
    try:
        for i0 in range(0, n, step):
            if is_cancelled():
                raise CancelledError("beat detection cancelled")
            block = np.asarray(recording.get_samples(idx, i0, min(n, i0 + step)), np.float32)
            det.push(block)
            cut.add_signal(block, i0)
            del block
            cut.take(det.beats)
            report("detect", min(n, i0 + step) / max(n, 1))
        if is_cancelled():
            raise CancelledError("beat detection cancelled")
        beats = det.finish()
        cut.take(det.beats)
        windows, spike = cut.result()
    finally:
        det.close()
        cut.close()
    if windows.fid.size != beats.size:  # pragma: no cover - an internal inconsistency
        raise RuntimeError("the beats cut during detection differ from the beats detected")
    check = _cancel_checker(cancel, "beat classification cancelled")
    check()
    report("classify", 0.0)
    an = _without_windows(_analyse(windows, cp, check))
    del windows, cut
    names = [recording.leads[i] for i in idx]
    reader = _recording_window_reader(recording, idx, g)
    labels = _finish(an, beats, fs, cp, quality, reader, names, spike, check)
    report("classify", 1.0)
    return beats, labels


class _WindowCutter:
    """Cuts the windows (and spike scores) of accepted beats in a worker thread.

    The signal around the beats comes from the last three chunks the detector was given
    (:meth:`add_signal`), or, for beats outside them, from the recording. At most
    :data:`_BACKLOG` batches wait for the worker, so their chunks do not pile up.
    """

    def __init__(
        self, recording, idx, quality: QualityResult, g, params: ClassificationParams, cap: int
    ) -> None:
        self.recording = recording
        self.idx = idx
        self.fs = float(recording.fs)
        self.n = int(recording.n_samples)
        self.g = g
        self.margin = _chunk_margin(g, self.fs)
        self.usable = quality.segment_usable
        self.seg = int(quality.segment_samples)
        width = g.keep_hi - g.keep_lo
        self.windows = BeatWindows(
            np.empty((cap, len(idx), width), np.float32),
            np.empty(cap, np.int64),
            np.empty((cap, K.N_SCALAR), np.float32),
            g,
        )
        self.spike = np.zeros(cap, np.float32) if params.detect_paced else None
        self.cap = cap
        self.parts_taken = 0
        self.done = 0  # beats handed to the worker
        # (start, float32 block) of the chunks the detector was given: it accepts a beat about
        # a chunk after reading it (the envelope of its last step waits for the next push)
        self.blocks: deque[tuple[int, np.ndarray]] = deque(maxlen=3)
        self.pool: ThreadPoolExecutor | None = ThreadPoolExecutor(
            1, thread_name_prefix="holterlab-windows"
        )
        self.jobs: deque[Future] = deque()

    def add_signal(self, block: np.ndarray, start: int) -> None:
        """The chunk the detector was just given (samples ``start`` on)."""
        self.blocks.append((int(start), block))

    def _signal(self, r0: int, r1: int) -> np.ndarray:
        """Samples ``r0..r1`` of the leads used: from the chunks held, else read again."""
        if self.blocks:
            s0 = self.blocks[0][0]
            end = self.blocks[-1][0] + self.blocks[-1][1].shape[1]
            if s0 <= r0 and r1 <= end:
                parts = [
                    blk[:, max(r0 - s, 0) : max(min(r1 - s, blk.shape[1]), 0)]
                    for s, blk in self.blocks
                ]
                parts = [p for p in parts if p.shape[1]]
                return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
        return np.asarray(self.recording.get_samples(self.idx, r0, r1), np.float32)

    def take(self, parts: list[np.ndarray]) -> None:
        """Queue the beats of the detector's accepted parts not taken yet."""
        new = parts[self.parts_taken :]
        self.parts_taken = len(parts)
        if not new:
            return
        beats = np.concatenate(new)
        if beats.size and self.usable.size:  # as BeatDetector.finish filters them
            seg = np.minimum(beats // self.seg, self.usable.size - 1)
            beats = beats[self.usable[seg]]
        if beats.size == 0:
            return
        if self.done + beats.size > self.cap:  # pragma: no cover - the bound is a hard one
            raise RuntimeError("more beats than one per half refractory period")
        r0 = max(0, int(beats[0]) - self.margin)
        r1 = min(self.n, int(beats[-1]) + self.margin)
        block = self._signal(r0, r1)
        assert self.pool is not None
        while len(self.jobs) >= _BACKLOG:
            self.jobs.popleft().result()
        self.jobs.append(self.pool.submit(self._cut, block, beats, r0, self.done))
        self.done += beats.size

    def _cut(self, block: np.ndarray, beats: np.ndarray, r0: int, at: int) -> None:
        numba.set_num_threads(1)  # this thread's kernels: one core, the detector has the other
        extract_beat_windows(block, beats, self.g, offset=r0, out=self.windows, at=at)
        if self.spike is not None:
            self.spike[at : at + beats.size] = pacing_spike_score(block, self.fs, beats - r0)

    def result(self) -> tuple[BeatWindows, np.ndarray | None]:
        while self.jobs:
            self.jobs.popleft().result()
        self.blocks.clear()
        k = self.done
        w = self.windows
        windows = BeatWindows(w.win[:k], w.fid[:k], w.scal[:k], self.g)
        spike = self.spike[:k] if self.spike is not None else None
        return windows, spike

    def close(self) -> None:
        self.blocks.clear()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


#: Batches of beats that may wait for the window worker.
_BACKLOG = 2

"""Multi-lead QRS detection.

:func:`detect_beats` finds the beats of a signal held in memory, :func:`detect_beats_recording`
those of a :class:`~holterlab.recording.Recording` read chunk by chunk. Both run the same
streaming detector, which gives *bit-identical* beats however the signal is cut into pieces
(all of its filters, levels and decisions carry their state from one piece to the next and
wait for the look-ahead they need), so the chunk size never changes the result.

Algorithm (parameters in :class:`~holterlab.params.detection.DetectionParams`):

1. **Envelope** per lead: causal Butterworth band-pass (5-15 Hz), first difference, square,
   moving integration (120 ms), square root: a QRS energy envelope linear in amplitude.
2. **Lead levels and weights** per block (1 s): each envelope is divided by its running QRS
   level (median of the block maxima of 9 blocks, never below 0.1 x its largest level of
   the last 120 s, so noise in asystole is not blown up). Each lead gets the weight
   ``min(1, peak)^4 / background^2`` (peak: block maximum, background: median over three
   blocks, both in level units), reduced when the peak is far above the level (artefact);
   leads flagged unusable by :mod:`holterlab.quality` get none, and a block in which no lead
   reaches 0.25 x its recent level holds no QRS. Weights and levels are interpolated
   between block centres.
3. **Fusion**: weighted power mean (exponent 0.5) of the scaled envelopes: one detection
   signal that favours complexes seen in several leads over one-lead artefacts.
4. **Decision** on the local maxima (+-100 ms) of the fused signal: Pan-Tompkins-style
   signal and noise levels, threshold ``max(0.25 x signal, 2.5 x noise)`` capped at 0.5 x
   signal (no lock-out in noise), 200 ms refractory period (a much larger peak within it
   replaces the beat), T-wave check within 360 ms, search-back at 1.66 x the mean RR.
5. **Verification**: a candidate is dropped when its weakest lead is far below that lead's
   recent beat level, the next candidate follows early, and it resembles none of the recent
   beat templates (one per morphology) in any lead: typical of one-lead artefacts.
6. **Fiducial point**: the sample of largest absolute value, within -200..+20 ms of the
   envelope peak, of the QRS-band signal of the *reference lead*; the QRS-band signal is the
   difference of centred 14 ms and 160 ms moving averages (a zero-phase band-pass of about
   3-30 Hz), the reference lead the first lead whose weight is at least 0.3 x the largest.
   This is the dominant QRS deflection (R peak, or S/QS wave when it is larger), as in the
   MIT-BIH reference annotations (median offset on DS1: +1 sample at 360 Hz).

Time in which no lead is usable (:class:`~holterlab.quality.QualityResult`) yields no beats.
"""

from __future__ import annotations

import math
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from holterlab._checks import as_leads, check_fs
from holterlab.beats import _kernels as K
from holterlab.dsp.design import butter_sos, sosfilt_zi
from holterlab.errors import CancelledError, ParameterError
from holterlab.params.detection import DetectionParams
from holterlab.quality import (
    CancelArg,
    ProgressArg,
    QualityResult,
    _cancel_check,
    _progress_callback,
    quality_recording,
    signal_quality,
)

__all__ = ["detect_beats", "detect_beats_recording", "BeatDetector"]

#: Samples processed per internal step (bounds the memory of the streaming detector).
_STEP = 1 << 18
#: Capacity of the search-back buffer (noise peaks since the last beat).
_NOISE_CAPACITY = 4096


@dataclass(frozen=True)
class _Geometry:
    """Sample counts derived from ``fs`` and the parameters."""

    fs: float
    sos: np.ndarray
    zi_unit: np.ndarray
    block: int
    half_scale: int
    integ: int
    h: int
    dec: int
    refractory: int
    twave: int
    before: int
    after: int
    short: int
    long: int
    half: int

    @classmethod
    def make(cls, fs: float, p: DetectionParams) -> _Geometry:
        def ms(value: float) -> int:
            return int(round(value * fs / 1000.0))

        if p.band_high_hz >= 0.45 * fs:
            raise ParameterError(
                f"detection.band_high_hz={p.band_high_hz:g} Hz is too close to the Nyquist "
                f"frequency of fs={fs:g} Hz; lower it or use a higher sampling rate"
            )
        if fs < 50:
            raise ParameterError(f"QRS detection needs at least 50 Hz sampling, got {fs:g} Hz")
        sos = butter_sos(2, (p.band_low_hz, p.band_high_hz), "bandpass", fs)
        zi_unit = sosfilt_zi(sos)
        odd = lambda n: max(1, n) | 1  # noqa: E731
        before, after = max(0, ms(p.fiducial_before_ms)), ms(p.fiducial_after_ms)
        half, long_ = max(1, ms(p.template_ms)), odd(ms(p.fiducial_long_ms))
        return cls(
            fs=fs,
            sos=np.ascontiguousarray(sos, dtype=np.float64),
            zi_unit=np.ascontiguousarray(zi_unit, dtype=np.float64),
            block=max(8, ms(p.block_ms)),
            half_scale=p.scale_blocks // 2,
            integ=max(1, ms(p.integration_ms)),
            h=max(1, ms(p.refractory_ms / 2.0)),
            dec=max(1, int(round(fs / 25.0))),
            refractory=max(1, ms(p.refractory_ms)),
            twave=max(1, ms(p.twave_ms)),
            before=before,
            after=after,
            short=odd(ms(p.fiducial_short_ms)),
            long=long_,
            half=half,
            margin=cls._margin(before, after, half, long_),
            memory=int(round(p.level_memory_s * 1000.0 / p.block_ms)),
        )

    margin: int
    memory: int

    @staticmethod
    def _margin(before: int, after: int, half: int, long_: int) -> int:
        """Raw samples needed on each side of an envelope peak by the fiducial step."""
        return max(before, abs(after)) + half + long_ // 2 + 2


def _usable_blocks(
    quality: QualityResult | None, n_leads: int, n_total: int, block: int
) -> np.ndarray:
    """(n_leads, n_blocks) bool: every quality segment overlapping the block is usable."""
    nb = max(1, -(-n_total // block))
    if quality is None:
        return np.ones((n_leads, nb), dtype=bool)
    bad = (~quality.usable).astype(np.int64)
    csum = np.concatenate([np.zeros((n_leads, 1), np.int64), np.cumsum(bad, axis=1)], axis=1)
    starts = np.arange(nb, dtype=np.int64) * block
    stops = np.minimum(starts + block, n_total)
    s0 = np.clip(starts // quality.segment_samples, 0, quality.n_segments)
    last = (np.maximum(stops, starts + 1) - 1) // quality.segment_samples
    s1 = np.clip(last + 1, 0, quality.n_segments)
    return (csum[:, s1] - csum[:, s0]) == 0


class BeatDetector:
    """Streaming multi-lead QRS detector (what :func:`detect_beats` runs).

    Feed the signal in pieces of any length with :meth:`push` and call :meth:`finish` once;
    the beats (fiducial sample indices) are identical to a single call on the whole signal.

    Parameters
    ----------
    fs
        Sampling rate in Hz.
    n_leads
        Number of leads.
    n_total
        Total number of samples that will be fed.
    params
        :class:`~holterlab.params.detection.DetectionParams`.
    quality
        Quality of the whole signal (unusable leads get no weight, and no beat is reported
        where no lead is usable), or None to use every lead everywhere.
    """

    def __init__(
        self,
        fs: float,
        n_leads: int,
        n_total: int,
        *,
        params: DetectionParams | None = None,
        quality: QualityResult | None = None,
    ) -> None:
        self.p = params or DetectionParams()
        self.fs = float(fs)
        self.geo = _Geometry.make(self.fs, self.p)
        self.n_leads = int(n_leads)
        self.n_total = int(n_total)
        if quality is not None:
            if quality.n_samples != self.n_total or quality.n_leads != self.n_leads:
                raise ParameterError(
                    f"the quality result covers {quality.n_leads} leads x {quality.n_samples} "
                    f"samples but the signal has {self.n_leads} x {self.n_total}"
                )
            if abs(quality.fs - self.fs) > 1e-9 * self.fs:
                raise ParameterError("the quality result was computed at another sampling rate")
        self.quality = quality
        g, L = self.geo, self.n_leads
        self.nb_total = max(1, -(-self.n_total // g.block))
        self.usable = _usable_blocks(quality, L, self.n_total, g.block)
        # envelope state
        self._inited = np.zeros(L, np.int64)
        self._zi = np.zeros((L, g.sos.shape[0], 2), np.float64)
        self._last_x = np.zeros(L, np.float64)
        self._prev = np.zeros(L, np.float64)
        self._ring = np.zeros((L, g.integ), np.float64)
        self._pos = np.zeros(L, np.int64)
        self._acc = np.zeros(L, np.float64)
        self._count = np.zeros(L, np.int64)
        # block statistics, levels and weights
        self.fmax = np.zeros((L, self.nb_total), np.float64)
        self.fbg = np.zeros((L, self.nb_total), np.float64)
        self.scale = np.zeros((L, self.nb_total), np.float64)
        self.inv = np.zeros((L, self.nb_total), np.float64)
        self.active = np.zeros(self.nb_total, bool)
        self.wgt = np.zeros((L, self.nb_total), np.float64)
        self.n_stats = 0
        self.n_scale = 0
        self.n_weights = 0
        # buffers (absolute start indices)
        self.received = 0
        self.x_buf = np.zeros((L, 0), np.float32)
        self.x_start = 0
        self.f_buf = np.zeros((L, 0), np.float32)
        self.f_start = 0
        self.g_buf = np.zeros(0, np.float64)
        self.g_start = 0
        self.g_end = 0
        self.p_done = 0
        # peak information (position, per-lead level, per-lead weight)
        self.pk_t = np.zeros(0, np.int64)
        self.pk_lvl = np.zeros((0, L), np.float64)
        self.pk_w = np.zeros((0, L), np.float64)
        # decision state
        self.fst = np.array([1.0, 0.1, 0.0], np.float64)
        self.ist = np.zeros(4, np.int64)
        self.rr = np.full(K.RR_SLOTS, 0.8 * self.fs, np.float64)
        self.nz_t = np.zeros(_NOISE_CAPACITY, np.int64)
        self.nz_v = np.zeros(_NOISE_CAPACITY, np.float64)
        # candidates waiting for their fiducial point, and for verification
        self.to_refine: list[int] = []
        self.cache: dict[int, tuple[int, np.ndarray]] = {}
        self.pend_i = np.array([0, 0, 0, -1], np.int64)
        self.pend_lvl = np.zeros(L, np.float64)
        self.pend_w = np.zeros(L, np.float64)
        self.pend_seg = np.zeros((L, 2 * g.half + 1), np.float64)
        # verification state
        self.lv_ring = np.zeros((K.LEVEL_SLOTS, L), np.float64)
        self.rr_ring = np.zeros(K.LEVEL_SLOTS, np.float64)
        self.vist = np.array([0, 0, 0, 0, -1, 0], np.int64)
        self.tmpl = np.zeros((self.p.templates, L, 2 * g.half + 1), np.float64)
        self.tuse = np.full(self.p.templates, -1, np.int64)
        self.beats: list[np.ndarray] = []
        self.finished = False
        # envelope pipeline: the (nogil) envelope kernel of the next step runs in a worker
        # thread while this thread decides the beats of the current one; the worker owns the
        # envelope state and runs its jobs in order, so the result does not change
        self.pushed = 0
        self._pool: ThreadPoolExecutor | None = None
        self._queue: deque[tuple[np.ndarray, Future]] = deque()

    # ------------------------------------------------------------------ public
    def push(self, x: np.ndarray) -> None:
        """Feed the next samples, shape ``(n_leads, m)`` (float32 mV; NaN marks gaps).

        The envelope of the last step pushed is computed in a worker thread while the caller
        reads the next block; :meth:`finish` (or :meth:`close`) waits for it.
        """
        if self.finished:
            raise ParameterError("the detector has finished; create a new one")
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[0] != self.n_leads:
            raise ParameterError(f"expected a block of shape ({self.n_leads}, m), got {x.shape}")
        if self.pushed + x.shape[1] > self.n_total:
            raise ParameterError("more samples were pushed than announced (n_total)")
        self.pushed += x.shape[1]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="holterlab-envelope")
        for i0 in range(0, x.shape[1], _STEP):
            step = np.ascontiguousarray(x[:, i0 : i0 + _STEP], dtype=np.float32)
            self._queue.append((step, self._pool.submit(self._envelope, step)))
            while len(self._queue) > 1:
                self._accept_next()

    def finish(self) -> np.ndarray:
        """Process what is left and return all beats (sorted int64 sample indices)."""
        if not self.finished:
            if self.pushed != self.n_total:
                raise ParameterError(
                    f"{self.pushed} samples were pushed but n_total={self.n_total}"
                )
            try:
                while self._queue:
                    self._accept_next()
            finally:
                self.close()
            self._advance(final=True)
            self._flush()
            self.finished = True
        out = np.concatenate(self.beats) if self.beats else np.zeros(0, np.int64)
        if self.quality is not None and out.size and self.quality.n_segments:
            q = self.quality
            seg = np.minimum(out // q.segment_samples, q.n_segments - 1)
            out = out[q.segment_usable[seg]]
        return out

    def close(self) -> None:
        """Stop the envelope worker (waits for the step it is on); safe to call twice."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    # ------------------------------------------------------------------ steps
    def _envelope(self, x: np.ndarray) -> np.ndarray:
        g = self.geo
        f = np.empty(x.shape, np.float32)
        K.envelope(
            x, g.sos, g.zi_unit, self._inited, self._zi, self._last_x, self._prev, self._ring,
            self._pos, self._acc, self._count, f,
        )  # fmt: skip
        return f

    def _accept_next(self) -> None:
        x, fut = self._queue.popleft()
        self._ingest(x, fut.result())
        self._advance(final=False)

    def _ingest(self, x: np.ndarray, f: np.ndarray) -> None:
        self.x_buf = np.concatenate([self.x_buf, x], axis=1)
        self.f_buf = np.concatenate([self.f_buf, f], axis=1)
        self.received += x.shape[1]

    def _block_stats(self, final: bool) -> None:
        g = self.geo
        n_complete = self.nb_total if final else self.received // g.block
        b0, b1 = self.n_stats, n_complete
        if b1 <= b0:
            return
        lo = b0 * g.block - self.f_start
        n_valid = min(b1 * g.block, self.n_total) - b0 * g.block
        K.block_stats(
            self.f_buf[:, lo:], b1 - b0, g.block, g.dec, n_valid, self.fmax[:, b0:b1],
            self.fbg[:, b0:b1],
        )  # fmt: skip
        self.n_stats = b1

    def _levels_and_weights(self, final: bool) -> None:
        g = self.geo
        hs = g.half_scale
        # QRS level: median of usable block maxima over +-hs blocks
        n_scale = self.nb_total if final else max(0, self.n_stats - hs)
        if n_scale > self.n_scale:
            b0, b1 = self.n_scale, n_scale
            lo, hi = max(0, b0 - hs), min(self.n_stats, b1 + hs)
            vals = np.where(self.usable[:, lo:hi], self.fmax[:, lo:hi], np.nan)
            med = _window_median(vals, lo, b0, b1, hs, self.n_stats)
            med = np.where(np.isfinite(med), med, 0.0)
            self.scale[:, b0:b1] = med
            # floor: a fraction of the largest level of the last level_memory_s
            mem = g.memory
            m0 = max(0, b0 - mem)
            run = _running_max(self.scale[:, m0:b1], mem + 1)[:, b0 - m0 :]
            level = np.maximum(med, self.p.level_floor * run)
            with np.errstate(divide="ignore", invalid="ignore"):
                inv = np.where(level > 0, 1.0 / level, 0.0)
                act = np.where(run > 0, self.fmax[:, b0:b1] / run, 0.0)
            self.inv[:, b0:b1] = inv
            self.active[b0:b1] = (act * self.usable[:, b0:b1]).max(axis=0) >= self.p.min_activity
            self.n_scale = n_scale
        # weights need the levels of the neighbouring blocks
        n_weights = self.nb_total if final else max(0, self.n_scale - 1)
        if n_weights > self.n_weights:
            b0, b1 = self.n_weights, n_weights
            lo, hi = max(0, b0 - 1), min(self.n_scale, b1 + 1)
            bgn = np.where(
                self.usable[:, lo:hi] & (self.inv[:, lo:hi] > 0),
                self.fbg[:, lo:hi] * self.inv[:, lo:hi],
                np.nan,
            )
            bg = _window_median(bgn, lo, b0, b1, 1, self.n_scale)
            peak = self.fmax[:, b0:b1] * self.inv[:, b0:b1]
            own = self.fbg[:, b0:b1] * self.inv[:, b0:b1]
            bg = np.where(np.isfinite(bg), bg, own)
            # leads with little background noise weigh most; a lead without a QRS-sized
            # peak in the block (flat, quiet) loses weight, and so does one whose peak is
            # far above its level (an artefact)
            capped = np.minimum(1.0, peak)
            w = capped**4 / np.maximum(bg, 1e-6) ** 2
            w *= np.minimum(1.0, self.p.artefact_ratio / np.maximum(peak, 1e-12)) ** 2
            w += 1e-9
            w = np.where(self.usable[:, b0:b1] & (self.inv[:, b0:b1] > 0), w, 0.0)
            w = np.where(self.active[b0:b1], w, 0.0)
            total = w.sum(axis=0)
            self.wgt[:, b0:b1] = np.where(total > 0, w / np.where(total > 0, total, 1.0), 0.0)
            self.n_weights = n_weights

    def _fuse(self, final: bool) -> None:
        g = self.geo
        if final:
            end = self.n_total
        elif self.n_weights == 0:
            return
        else:
            end = int(math.ceil((self.n_weights - 1) * g.block + (g.block - 1) / 2.0))
            end = min(end, self.received)
        if end <= self.g_end:
            return
        f = self.f_buf[:, self.g_end - self.f_start : end - self.f_start]
        out = np.empty(end - self.g_end, np.float64)
        nw = self.n_weights
        K.fuse(f, self.g_end, g.block, self.wgt[:, :nw], self.inv[:, :nw], self.p.fusion_power, out)
        self.g_buf = np.concatenate([self.g_buf, out])
        self.g_end = end

    def _interp(self, arr: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Block values interpolated at absolute samples ``t`` as :func:`_kernels.fuse` does."""
        g = self.geo
        nb = self.n_weights
        half = (g.block - 1) / 2.0
        b0 = np.floor((t - half) / g.block).astype(np.int64)
        flat = (b0 < 0) | (b0 >= nb - 1)
        bb = np.clip(b0, 0, nb - 1)
        frac = np.where(flat, 0.0, (t - (bb * g.block + half)) / g.block)
        v0 = arr[:, bb]
        dv = np.where(flat, 0.0, arr[:, np.minimum(bb + 1, nb - 1)] - v0)
        return (v0 + dv * frac).T

    def _peaks(self, final: bool) -> np.ndarray:
        g = self.geo
        end = self.g_end if final else self.g_end - g.h
        if end <= self.p_done:
            return np.zeros(0, np.int64)
        pk = K.find_peaks(self.g_buf, self.g_start, self.p_done, end, g.h, self.n_total)
        self.p_done = end
        if pk.size:
            lvl = self._interp(self.inv, pk) * self.f_buf[:, pk - self.f_start].T
            w = self._interp(self.wgt, pk)
            self.pk_t = np.concatenate([self.pk_t, pk])
            self.pk_lvl = np.concatenate([self.pk_lvl, lvl])
            self.pk_w = np.concatenate([self.pk_w, w])
        return pk

    def _decide(self, pk: np.ndarray) -> None:
        if pk.size == 0:
            return
        g, p = self.geo, self.p
        v = self.g_buf[pk - self.g_start]
        emitted = K.decide(
            pk, v, self.fst, self.ist, self.rr, self.nz_t, self.nz_v, g.refractory, g.twave,
            p.twave_ratio, p.threshold, p.noise_factor, p.replace_ratio, p.searchback_rr,
            p.searchback_threshold, p.max_threshold, p.level_clip,
        )  # fmt: skip
        self.to_refine.extend(emitted[:, 0].astype(np.int64).tolist())

    def _refine(self, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fiducial points and band waveforms of candidates (cached ones are reused)."""
        g, p = self.geo, self.p
        fids = np.empty(ts.size, np.int64)
        segs = np.empty((ts.size, self.n_leads, 2 * g.half + 1), np.float64)
        if self.cache:
            todo = []
            for k, t in enumerate(ts.tolist()):
                hit = self.cache.pop(t, None)
                if hit is None:
                    todo.append(k)
                else:
                    fids[k], segs[k] = hit
            idx = np.asarray(todo, np.int64)
        else:
            idx = np.arange(ts.size)
        if idx.size:
            sub_f = np.empty(idx.size, np.int64)
            sub_s = np.empty((idx.size,) + segs.shape[1:], np.float64)
            w = self.pk_w[np.searchsorted(self.pk_t, ts[idx])]
            K.refine_batch(
                ts[idx], w, self.x_buf, self.x_start, self.n_total, g.before, g.after, g.short,
                g.long, g.half, p.fiducial_lead_weight, sub_f, sub_s,
            )  # fmt: skip
            fids[idx], segs[idx] = sub_f, sub_s
        return fids, segs

    def _refine_and_verify(self, final: bool, flush: bool = False) -> None:
        g, p = self.geo, self.p
        if final:
            n_ready = len(self.to_refine)
        else:
            n_ready = int(np.searchsorted(self.to_refine, self.received - g.margin, side="right"))
        if n_ready == 0 and not flush:
            return
        ts = np.asarray(self.to_refine[:n_ready], dtype=np.int64)
        del self.to_refine[:n_ready]
        fids, segs = self._refine(ts)
        j = np.searchsorted(self.pk_t, ts)
        accepted = K.verify_batch(
            ts, fids, self.pk_lvl[j], self.pk_w[j], segs, flush, self.pend_i, self.pend_lvl,
            self.pend_w, self.pend_seg, self.lv_ring, self.rr_ring, self.vist, self.tmpl,
            self.tuse, self.fs, p.verify, p.verify_lead_ratio, p.verify_next_rr,
            p.verify_correlation, p.min_lead_weight, p.template_rate, p.template_match,
        )  # fmt: skip
        if accepted.size:
            self.beats.append(accepted)

    def _potential(self) -> np.ndarray:
        """Peaks before ``p_done`` that may still become beats (held beat, search-back
        candidates, candidates waiting for data), sorted."""
        parts = [np.asarray(self.to_refine, np.int64), self.nz_t[: int(self.ist[K._NZN])]]
        if self.ist[K._HAVE] == 1:
            parts.append(self.ist[K._LAST : K._LAST + 1])
        return np.unique(np.concatenate(parts))

    def _trim(self) -> None:
        g = self.geo
        pot = self._potential()
        # raw samples: what new peaks need; older potential beats are refined now and cached
        x_keep = max(0, self.p_done - 2 * g.margin - 1)
        old = pot[pot - g.margin < x_keep]
        old = old[[t not in self.cache for t in old.tolist()]] if old.size else old
        if old.size:
            fids, segs = self._refine(old)
            for t, fid, seg in zip(old.tolist(), fids.tolist(), segs, strict=True):
                self.cache[t] = (fid, seg)
        if self.cache:
            alive = set(pot.tolist())
            self.cache = {t: v for t, v in self.cache.items() if t in alive}
        if x_keep > self.x_start:
            self.x_buf = self.x_buf[:, x_keep - self.x_start :]
            self.x_start = x_keep
        f_keep = min(self.n_stats * g.block, self.g_end, self.p_done)
        if f_keep > self.f_start:
            self.f_buf = self.f_buf[:, f_keep - self.f_start :]
            self.f_start = f_keep
        g_keep = max(0, self.p_done - g.h)
        if g_keep > self.g_start:
            self.g_buf = self.g_buf[g_keep - self.g_start :]
            self.g_start = g_keep
        if self.pk_t.size:
            keep = (self.pk_t >= self.p_done) | np.isin(self.pk_t, pot)
            if not keep.all():
                self.pk_t, self.pk_lvl, self.pk_w = (
                    self.pk_t[keep],
                    self.pk_lvl[keep],
                    self.pk_w[keep],
                )

    def _advance(self, final: bool) -> None:
        self._block_stats(final)
        self._levels_and_weights(final)
        self._fuse(final)
        self._decide(self._peaks(final))
        self._refine_and_verify(final)
        self._trim()

    def _flush(self) -> None:
        if self.ist[K._HAVE] == 1:
            self.to_refine.append(int(self.ist[K._LAST]))
            self.ist[K._HAVE] = 0
        self._refine_and_verify(final=True, flush=True)


def _running_max(vals: np.ndarray, width: int) -> np.ndarray:
    """Maximum over the current and the ``width - 1`` previous columns (numba kernel)."""
    if vals.shape[1] == 0:
        return vals.copy()
    return K.running_max(np.ascontiguousarray(vals), int(max(1, width)))


def _window_median(
    vals: np.ndarray, lo: int, b0: int, b1: int, half: int, limit: int
) -> np.ndarray:
    """NaN-ignoring median of ``vals`` (columns ``lo ..``) over ``[b - half, b + half]``
    clipped to ``[0, limit)``, for every block ``b0 <= b < b1``."""
    n_leads = vals.shape[0]
    width = 2 * half + 1
    padded = np.full((n_leads, (b1 - b0) + 2 * half), np.nan)
    first = max(b0 - half, 0, lo)
    last = min(b1 + half, limit, lo + vals.shape[1])
    if last > first:
        padded[:, first - (b0 - half) : last - (b0 - half)] = vals[:, first - lo : last - lo]
    windows = np.sort(np.lib.stride_tricks.sliding_window_view(padded, width, axis=1), axis=2)
    count = np.count_nonzero(~np.isnan(windows), axis=2)
    lo_i = np.maximum(count - 1, 0) // 2
    hi_i = count // 2
    a = np.take_along_axis(windows, lo_i[..., None], axis=2)[..., 0]
    b = np.take_along_axis(windows, np.minimum(hi_i, width - 1)[..., None], axis=2)[..., 0]
    return np.where(count > 0, 0.5 * (a + b), np.nan)


# ---------------------------------------------------------------------- public API


def detect_beats(
    signal: np.ndarray,
    fs: float,
    *,
    params: DetectionParams | None = None,
    quality: QualityResult | bool | None = None,
) -> np.ndarray:
    """Detect the QRS complexes of a (multi-lead) ECG.

    Parameters
    ----------
    signal
        Millivolts (float32 preferred), shape ``(n_leads, n)`` or ``(n,)``; every lead is
        used. NaN/inf samples mark gaps. Any gain and polarity.
    fs
        Sampling rate in Hz (tested from 125 to 1000 Hz).
    params
        :class:`~holterlab.params.detection.DetectionParams` (defaults if None).
    quality
        A :class:`~holterlab.quality.QualityResult` of this signal; None computes it with
        default :class:`~holterlab.params.detection.QualityParams`; False uses every lead
        everywhere (no quality exclusion).

    Returns
    -------
    numpy.ndarray
        Sorted int64 sample indices of the fiducial point of every beat: the largest
        absolute deflection of the QRS-band signal of the reference lead (see module doc).
    """
    fs = check_fs(fs)
    x = as_leads(signal)
    if quality is None:
        quality = signal_quality(x, fs)
    elif quality is False:
        quality = None
    elif not isinstance(quality, QualityResult):
        raise ParameterError("quality must be a QualityResult, None or False")
    det = BeatDetector(fs, x.shape[0], x.shape[1], params=params, quality=quality)
    if x.shape[1]:
        det.push(x)
    return det.finish()


def detect_beats_recording(
    recording,
    *,
    params: DetectionParams | None = None,
    quality: QualityResult | bool | None = None,
    chunk_s: float = 1800.0,
    leads: Any = None,
    progress: ProgressArg = False,
    cancel: CancelArg = None,
) -> np.ndarray:
    """Detect the beats of a :class:`~holterlab.recording.Recording`, chunk by chunk.

    Only one chunk of ``chunk_s`` seconds of signal (plus a few seconds of detector
    look-ahead) is in memory at a time. The detector streams across chunks, so the beats are
    identical for any ``chunk_s`` and equal to :func:`detect_beats` on the whole signal.

    Parameters
    ----------
    recording
        The recording.
    params
        Detection parameters.
    quality
        Its :class:`~holterlab.quality.QualityResult` (from
        :func:`~holterlab.quality.quality_recording`), None to compute it first (one more
        pass over the recording), or False to use every lead everywhere.
    chunk_s
        Seconds read per chunk.
    leads
        Leads to use (names or indices; default all).
    progress
        True for a tqdm bar, or a callable receiving the fraction done (0..1).
    cancel
        A :class:`threading.Event` or a callable returning True to stop; checked between
        chunks, raises :class:`~holterlab.errors.CancelledError`.

    Returns
    -------
    numpy.ndarray
        Sorted int64 sample indices of the beats.
    """
    if not np.isfinite(chunk_s) or chunk_s <= 0:
        raise ParameterError(f"chunk_s must be a positive number of seconds, got {chunk_s!r}")
    fs = float(recording.fs)
    idx = recording.lead_indices(leads)
    n = recording.n_samples
    is_cancelled = _cancel_check(cancel)
    if quality is None:
        quality = quality_recording(recording, chunk_s=chunk_s, leads=idx, cancel=cancel)
    elif quality is False:
        quality = None
    elif not isinstance(quality, QualityResult):
        raise ParameterError("quality must be a QualityResult, None or False")
    if quality is not None and quality.n_leads != len(idx):
        raise ParameterError(
            f"the quality result has {quality.n_leads} leads but {len(idx)} leads are used"
        )
    det = BeatDetector(fs, len(idx), n, params=params, quality=quality)
    step = max(1, int(round(chunk_s * fs)))
    update, close = _progress_callback(progress, n, "detecting beats")
    try:
        for i0 in range(0, n, step):
            if is_cancelled():
                raise CancelledError("beat detection cancelled")
            block = recording.get_samples(idx, i0, min(n, i0 + step))
            det.push(block)
            del block
            update(min(n, i0 + step))
        if is_cancelled():
            raise CancelledError("beat detection cancelled")
        return det.finish()
    finally:
        det.close()
        close()

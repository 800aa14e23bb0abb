"""A lazy :class:`~holterlab.recording.SignalSource` that renders any window of a schedule.

``read(start, stop, leads)`` sums the waves of the beats overlapping the window, the atrial
waves of AF/flutter episodes and the noise, all computed from absolute sample indices: any
window gives exactly the samples a full render has there, so writers can stream a 14-day
recording chunk by chunk.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from holterlab.errors import ParameterError
from holterlab.synth.atrial import render_atrial, render_atrial_py
from holterlab.synth.morphology import (
    POST_S,
    PRE_S,
    beat_components,
    render_beats,
    render_beats_py,
)
from holterlab.synth.noise import add_noise
from holterlab.synth.schedule import Schedule

__all__ = ["SynthSource", "ADC_GAIN"]

#: ADC units per mV of the digital samples the source offers (MIT-BIH's 200: 5 uV steps).
ADC_GAIN = 200.0


class SynthSource:
    """Render windows of a :class:`~holterlab.synth.schedule.Schedule` on demand.

    Parameters
    ----------
    schedule
        What to render.
    noise
        Add noise (baseline wander, muscle noise, artefacts, lead-off); False gives the clean
        cardiac signal (beats plus atrial waves), still clipped to the ADC range.
    use_numba
        Use the compiled kernels (default) or their plain-Python references (slow; tests).
    """

    def __init__(self, schedule: Schedule, *, noise: bool = True, use_numba: bool = True) -> None:
        self.schedule = schedule
        self.n_samples = int(schedule.n_samples)
        self.noise = bool(noise)
        self.use_numba = bool(use_numba)
        fs = schedule.fs
        self._pre = int(np.ceil(PRE_S * fs)) + 1
        self._post = int(np.ceil(POST_S * fs)) + 1
        top = int(round(schedule.params.adc_range_mv * ADC_GAIN))
        #: Smallest and largest value :meth:`read_digital` can return (writers use it).
        self.digital_bounds = (-top, top)
        self._last: tuple[tuple[int, int, tuple[int, ...]], np.ndarray] | None = None

    # ------------------------------------------------------------------ protocol
    def read(self, start: int, stop: int, leads: Sequence[int]) -> np.ndarray:
        """Samples ``[start, stop)`` of ``leads`` in mV, float32, shape (len(leads), n)."""
        return self._cached(start, stop, leads).astype(np.float32)

    def read_digital(self, start: int, stop: int, leads: Sequence[int]) -> np.ndarray:
        """The same samples as int16 ADC units (``mV * 200``; 5 uV steps)."""
        mv = self._cached(start, stop, leads)
        return np.clip(np.rint(mv * ADC_GAIN), -32768, 32767).astype(np.int16)

    def _cached(self, start: int, stop: int, leads: Sequence[int]) -> np.ndarray:
        # writers often read a chunk twice (physical and digital): keep the last render
        key = (int(start), int(stop), tuple(int(x) for x in leads))
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        out = self.render(start, stop, leads)
        self._last = (key, out)
        return out

    def close(self) -> None:
        """Drop the cached window."""
        self._last = None

    # ------------------------------------------------------------------ rendering
    def render(self, start: int, stop: int, leads: Sequence[int] | None = None) -> np.ndarray:
        """Float64 samples ``[start, stop)`` of ``leads`` (all when None)."""
        sch = self.schedule
        start, stop = int(start), int(stop)
        if not 0 <= start <= stop <= self.n_samples:
            raise ParameterError(
                f"window [{start}, {stop}) is outside the recording [0, {self.n_samples})"
            )
        idx = list(range(len(sch.leads))) if leads is None else [int(x) for x in leads]
        if any(not 0 <= i < len(sch.leads) for i in idx):
            raise ParameterError(f"lead index out of range: the recording has {len(sch.leads)}")
        out = np.zeros((len(idx), stop - start))
        if stop == start:
            return out
        fs = sch.fs
        # beats whose waves can reach the window
        b0, b1 = np.searchsorted(sch.sample, [start - self._post, stop + self._pre])
        if b1 > b0:
            sl = slice(b0, b1)
            centers, sigmas, amps = beat_components(
                sch.bank,
                sch.lead_mat[:, idx],
                sch.sample[sl] / fs,
                sch.mid[sl],
                sch.pk[sl],
                sch.amp[sl],
                sch.rr[sl],
                sch.st[sl],
            )
            kern = render_beats if self.use_numba else render_beats_py
            kern(out, start, fs, centers, sigmas, amps)
        atr = sch.atrial.select(start / fs, stop / fs)
        if len(atr):
            kern2 = render_atrial if self.use_numba else render_atrial_py
            kern2(
                out,
                start,
                fs,
                np.asarray(idx, dtype=np.int64),
                atr.kind,
                atr.start,
                atr.end,
                atr.t0,
                atr.freq,
                atr.df,
                atr.fm,
                atr.ph1,
                atr.ph2,
                atr.lead_amp,
            )
        if self.noise:
            add_noise(out, start, idx, sch.noise, use_numba=self.use_numba)
        else:
            clip = sch.params.adc_range_mv
            np.clip(out, -clip, clip, out=out)
        return out

    def clean(self) -> SynthSource:
        """The same schedule without noise."""
        return SynthSource(self.schedule, noise=False, use_numba=self.use_numba)

"""Noise as a deterministic function of the seed and the absolute sample index.

* Baseline wander: a few low-frequency sinusoids plus a breathing component, evaluated on an
  absolute 10 Hz grid and interpolated linearly.
* Muscle (EMG) noise: white noise generated in fixed blocks of :data:`BLOCK` samples, each
  from a generator keyed by (seed, lead, block), band-pass filtered by an FIR filter whose
  history ("halo") comes from the previous block, times a slowly varying envelope (day/night,
  activity, and scheduled periods of strong noise).
* Motion artefacts, electrode pops and lead-off (flat) segments: scheduled events whose own
  details derive from the event's key.
* Optional power-line interference and real noise records (NSTDB ``bw`` and ``ma``),
  resampled, looped seamlessly and indexed by absolute sample.

Every kernel is written as plain Python (``*_py``) and compiled by numba from the same source;
tests prove the two equal.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numba
import numpy as np

from holterlab.errors import RecordingNotFoundError
from holterlab.params.synth import SynthParams
from holterlab.synth.episodes import LEAD_OFF, MOTION, NOISY, POP, EventPlan

__all__ = ["NoiseModel", "make_noise_model", "add_noise", "BLOCK"]

#: Samples per block of muscle noise.
BLOCK = 8192
#: Grid step of the baseline wander (s).
BASELINE_DT = 0.1
#: Grid step of the muscle-noise envelope (s).
ENVELOPE_DT = 0.25
#: Sinusoids in the baseline wander, and in the muscle-noise activity envelope.
N_BW = 5
N_ENV = 6

_STREAM_EMG = 201
_STREAM_MOTION = 301


@dataclass
class NoiseModel:
    """Everything the noise of one recording is computed from."""

    seed: int
    fs: float
    level: float
    n_leads: int
    bw_freq: np.ndarray  # (L, N_BW)
    bw_amp: np.ndarray
    bw_phase: np.ndarray
    bw_resp: np.ndarray  # (L,) amplitude of the breathing component
    resp: np.ndarray  # (3,) respiration frequency, phase, drift phase
    fir: np.ndarray  # band-pass taps (unit energy)
    emg_mv: float
    env_f: np.ndarray
    env_a: np.ndarray
    env_ph: np.ndarray
    start_hour: float
    events: EventPlan
    mains_hz: float
    mains_amp: np.ndarray  # (L,)
    mains_phase: np.ndarray  # (L,)
    real: list[np.ndarray] | None  # per lead, looped noise in mV (already weighted)
    real_offset: np.ndarray  # (L,)
    clip_mv: float


def _fir_taps(fs: float) -> np.ndarray:
    """Band-pass FIR (windowed sinc, Hamming) for muscle noise, scaled to unit energy."""
    hi = min(150.0, 0.4 * fs)
    lo = min(20.0, 0.5 * hi)
    n = max(9, int(0.05 * fs)) | 1
    m = np.arange(n) - (n - 1) / 2
    taps = 2 * hi / fs * np.sinc(2 * hi / fs * m) - 2 * lo / fs * np.sinc(2 * lo / fs * m)
    taps *= np.hamming(n)
    return taps / math.sqrt(float(np.sum(taps**2)))


_REAL_CACHE: dict[tuple[str, float], list[np.ndarray]] = {}


def _load_real_noise(folder: str, fs: float) -> list[np.ndarray]:
    """NSTDB ``bw + ma`` per channel (2), resampled to ``fs``, looping seamlessly, unit RMS."""
    key = (str(Path(folder).resolve()), float(fs))
    if key in _REAL_CACHE:
        return _REAL_CACHE[key]
    from scipy.signal import resample_poly

    sigs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import wfdb

        for name in ("bw", "ma"):
            base = Path(folder) / name
            if not base.with_suffix(".hea").is_file():
                raise RecordingNotFoundError(
                    f"{base}.hea: NSTDB noise record not found; set synth.nstdb_dir to the "
                    "folder holding bw and ma, or synth.real_noise to 0"
                )
            rec = wfdb.rdrecord(str(base))
            sig = np.asarray(rec.p_signal, dtype=np.float64)
            frac = Fraction(fs / float(rec.fs)).limit_denominator(1000)
            sig = resample_poly(sig, frac.numerator, frac.denominator, axis=0)
            sigs.append(sig - np.mean(sig, axis=0))
    n = min(s.shape[0] for s in sigs)
    chans = [
        sigs[0][:n, c % sigs[0].shape[1]] + sigs[1][:n, c % sigs[1].shape[1]] for c in range(2)
    ]
    out = []
    fade = int(2.0 * fs)
    for x in chans:
        y = x[: x.size - fade].copy()
        w = np.linspace(0.0, 1.0, fade)
        y[:fade] = y[:fade] * w + x[x.size - fade :] * (1.0 - w)
        y /= np.sqrt(np.mean(y**2))  # unit RMS: the parameter sets the RMS in mV
        out.append(y.astype(np.float32))
    _REAL_CACHE[key] = out
    return out


def make_noise_model(
    rng: np.random.Generator,
    *,
    seed: int,
    fs: float,
    n_leads: int,
    params: SynthParams,
    resp: np.ndarray,
    events: EventPlan,
) -> NoiseModel:
    """Draw the noise model of one recording (``rng`` is the noise stream of the seed)."""
    p = params
    level = p.noise_level
    bw_freq = np.exp(rng.uniform(np.log(0.04), np.log(0.5), (n_leads, N_BW)))
    bw_amp = rng.uniform(0.3, 1.0, (n_leads, N_BW))
    bw_amp *= (0.5 * p.baseline_mv * level) / np.sqrt(0.5 * np.sum(bw_amp**2, axis=1))[:, None]
    bw_amp *= rng.uniform(0.6, 1.2, (n_leads, 1))
    bw_phase = rng.uniform(0, 2 * np.pi, (n_leads, N_BW))
    bw_resp = 0.3 * p.baseline_mv * level * rng.uniform(0.4, 1.0, n_leads)
    env_f = np.exp(rng.uniform(np.log(1 / 3600), np.log(1 / 60), N_ENV))
    env_a = rng.uniform(0.2, 0.6, N_ENV)
    env_ph = rng.uniform(0, 2 * np.pi, N_ENV)
    mains_amp = p.mains_mv * level * rng.uniform(0.5, 1.0, n_leads)
    mains_phase = rng.uniform(0, 2 * np.pi, n_leads)
    real_offset = rng.integers(0, 2**31, n_leads)
    real = None
    if p.real_noise > 0 and level > 0:
        base = _load_real_noise(p.nstdb_dir, fs)
        real = [base[i % 2] * np.float32(p.real_noise * level) for i in range(n_leads)]
    return NoiseModel(
        seed=seed,
        fs=fs,
        level=level,
        n_leads=n_leads,
        bw_freq=bw_freq,
        bw_amp=bw_amp,
        bw_phase=bw_phase,
        bw_resp=bw_resp,
        resp=np.asarray(resp, dtype=np.float64),
        fir=_fir_taps(fs),
        emg_mv=p.muscle_mv * level,
        env_f=env_f,
        env_a=env_a,
        env_ph=env_ph,
        start_hour=p.start_hour,
        events=events,
        mains_hz=p.mains_hz,
        mains_amp=mains_amp,
        mains_phase=mains_phase,
        real=real,
        real_offset=real_offset,
        clip_mv=p.adc_range_mv,
    )


# ------------------------------------------------------------------------------ kernels
def baseline_grid_py(g0, g1, freq, amp, phase, resp_amp, resp):
    """Baseline wander of one lead on the absolute grid ``g0 .. g1`` (step BASELINE_DT)."""
    two_pi = 2.0 * math.pi
    dt = 0.1
    vals = np.empty(g1 - g0 + 1)
    for g in range(g0, g1 + 1):
        t = g * dt
        v = 0.0
        for k in range(freq.size):
            v += amp[k] * math.sin(two_pi * freq[k] * t + phase[k])
        ph = two_pi * resp[0] * t + resp[1] + 3.0 * math.sin(two_pi * t / 700.0 + resp[2])
        v += resp_amp * math.sin(ph)
        vals[g - g0] = v
    return vals


def envelope_py(g0, g1, level, start_hour, f, a, ph, ev_start, ev_end, ev_value):
    """Muscle-noise envelope on the absolute grid ``g0 .. g1`` (step ENVELOPE_DT)."""
    two_pi = 2.0 * math.pi
    dt = 0.25
    vals = np.empty(g1 - g0 + 1)
    for g in range(g0, g1 + 1):
        t = g * dt
        clock = (start_hour + t / 3600.0) % 24.0
        w = 0.5 + 0.8 * math.cos(two_pi * (clock - 3.0) / 24.0)
        w = min(max(w, 0.0), 1.0)
        act = 0.0
        for k in range(f.size):
            act += a[k] * math.sin(two_pi * f[k] * t + ph[k])
        v = level * (0.5 + 0.5 * (1.0 - w)) * (1.0 + 0.8 * max(act, 0.0))
        for e in range(ev_start.size):
            ramp = min((t - ev_start[e]) / 1.0, (ev_end[e] - t) / 1.0, 1.0)
            if ramp > 0.0:
                v *= 1.0 + (ev_value[e] - 1.0) * ramp
        vals[g - g0] = v
    return vals


def lead_noise_py(out, first, row, inv_bw, bw, bw_g0, inv_env, env, env_g0, white, taps):
    """Add interpolated baseline wander and enveloped, FIR-filtered muscle noise to one row.

    ``inv_bw`` / ``inv_env`` are ``1 / (fs * grid step)``; ``white`` holds uniform [0, 1)
    numbers for samples ``first - taps.size + 1 .. first + n`` (the filter's history first).
    """
    n = out.shape[1]
    h = taps.size
    scale = math.sqrt(12.0)
    for i in range(n):
        acc = 0.0
        for k in range(h):
            acc += taps[k] * (white[i + h - 1 - k] - 0.5)
        pos = (first + i) * inv_env
        g = math.floor(pos)
        w = pos - g
        e = env[g - env_g0] * (1.0 - w) + env[g - env_g0 + 1] * w
        pos = (first + i) * inv_bw
        g = math.floor(pos)
        w = pos - g
        b = bw[g - bw_g0] * (1.0 - w) + bw[g - bw_g0 + 1] * w
        out[row, i] += b + scale * acc * e
    return out


def motion_py(out, first, fs, row, s, e, weight, bump_t, bump_sd, bump_amp, sf, sph, sa):
    """Add one motion artefact (bumps plus a 1-8 Hz burst, tapered to ``[s, e)``)."""
    two_pi = 2.0 * math.pi
    n = out.shape[1]
    lo = max(math.ceil(s * fs), first)
    hi = min(math.ceil(e * fs), first + n)
    ramp = min(0.2, 0.5 * (e - s))
    for i in range(lo, hi):
        t = i / fs
        taper = min((t - s) / ramp, (e - t) / ramp, 1.0)
        if taper <= 0.0:
            continue
        taper = 0.5 - 0.5 * math.cos(math.pi * taper)
        v = 0.0
        for k in range(bump_t.size):
            x = (t - bump_t[k]) / bump_sd[k]
            if -4.0 < x < 4.0:
                v += bump_amp[k] * math.exp(-0.5 * x * x)
        for k in range(sf.size):
            v += sa[k] * math.sin(two_pi * sf[k] * (t - s) + sph[k])
        out[row, i - first] += weight * taper * v
    return out


def pop_py(out, first, fs, row, s, e, value):
    """Add an electrode pop: a step of ``value`` mV at ``s`` decaying to 0 at ``e``."""
    n = out.shape[1]
    lo = max(math.ceil(s * fs), first)
    hi = min(math.ceil(e * fs), first + n)
    tau = (e - s) / 6.0
    tail = math.exp(-6.0)
    for i in range(lo, hi):
        x = (i / fs - s) / tau
        out[row, i - first] += value * (math.exp(-x) - tail * x / 6.0)
    return out


def mains_py(out, first, fs, row, hz, amp, phase):
    """Add power-line interference to ``row``."""
    two_pi = 2.0 * math.pi
    for i in range(out.shape[1]):
        out[row, i] += amp * math.sin(two_pi * hz * ((first + i) / fs) + phase)
    return out


_jit = numba.njit(cache=True)
baseline_grid = _jit(baseline_grid_py)
envelope = _jit(envelope_py)
lead_noise = _jit(lead_noise_py)
motion = _jit(motion_py)
pop = _jit(pop_py)
mains = _jit(mains_py)

KERNELS = {
    "baseline_grid": (baseline_grid_py, baseline_grid),
    "envelope": (envelope_py, envelope),
    "lead_noise": (lead_noise_py, lead_noise),
    "motion": (motion_py, motion),
    "pop": (pop_py, pop),
    "mains": (mains_py, mains),
}


# ------------------------------------------------------------------------------ assembly
def _white(seed: int, lead: int, a: int, b: int) -> np.ndarray:
    """Uniform [0, 1) float32 numbers for absolute samples ``[a, b)`` (``a >= 0``) of ``lead``.

    Block ``k`` (samples ``k * BLOCK ...``) comes from a generator keyed by (seed, lead, k).
    """
    k0 = a // BLOCK
    k1 = (b - 1) // BLOCK
    parts = []
    for k in range(k0, k1 + 1):
        ss = np.random.SeedSequence([seed, _STREAM_EMG, lead, k])
        parts.append(np.random.Generator(np.random.PCG64(ss)).random(BLOCK, dtype=np.float32))
    block = np.concatenate(parts) if len(parts) > 1 else parts[0]
    off = a - k0 * BLOCK
    return block[off : off + (b - a)]


def _motion_details(model: NoiseModel, key: int, s: float, e: float, value: float, n_leads: int):
    rng = np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([model.seed, _STREAM_MOTION, int(key)]))
    )
    nb = int(rng.integers(2, 7))
    bump_t = rng.uniform(s, e, nb)
    bump_sd = rng.uniform(0.08, 0.5, nb)
    bump_amp = value * rng.uniform(-1.0, 1.0, nb)
    sf = rng.uniform(0.7, 8.0, 6)
    sph = rng.uniform(0, 2 * np.pi, 6)
    sa = value * 0.12 * rng.uniform(0.3, 1.0, 6)
    weight = rng.uniform(0.4, 1.0, n_leads) * np.where(rng.uniform(size=n_leads) < 0.3, -1, 1)
    return weight, bump_t, bump_sd, bump_amp, sf, sph, sa


def add_noise(
    out: np.ndarray, first: int, leads: list[int], model: NoiseModel, *, use_numba: bool = True
) -> np.ndarray:
    """Add every noise source to ``out`` (rows = ``leads``), clip, and flatten lead-off.

    ``out`` holds float64 samples ``[first, first + n)``; it is modified and returned.
    """
    k = {name: pair[1 if use_numba else 0] for name, pair in KERNELS.items()}
    fs = model.fs
    n = out.shape[1]
    if n == 0 or model.level <= 0:
        np.clip(out, -model.clip_mv, model.clip_mv, out=out)
        return out
    last = first + n
    t_lo, t_hi = first / fs, last / fs
    ev = model.events
    sel = np.flatnonzero((ev.end > t_lo - 1.0) & (ev.start < t_hi + 1.0))
    inv_bw = 1.0 / (fs * BASELINE_DT)
    inv_env = 1.0 / (fs * ENVELOPE_DT)
    bw_g0 = math.floor(first * inv_bw)
    bw_g1 = math.floor((last - 1) * inv_bw) + 1
    env_g0 = math.floor(first * inv_env)
    env_g1 = math.floor((last - 1) * inv_env) + 1
    h = model.fir.size
    for row, lead in enumerate(leads):
        bw = k["baseline_grid"](
            bw_g0,
            bw_g1,
            model.bw_freq[lead],
            model.bw_amp[lead],
            model.bw_phase[lead],
            float(model.bw_resp[lead]),
            model.resp,
        )
        noisy = [i for i in sel if ev.kind[i] == NOISY and ev.lead_mask[i] >> lead & 1]
        env = k["envelope"](
            env_g0,
            env_g1,
            model.emg_mv,
            model.start_hour,
            model.env_f,
            model.env_a,
            model.env_ph,
            ev.start[noisy],
            ev.end[noisy],
            ev.value[noisy],
        )
        # the white noise is indexed from BLOCK so that the filter history is never negative
        white = _white(model.seed, lead, first - (h - 1) + BLOCK, last + BLOCK)
        k["lead_noise"](out, first, row, inv_bw, bw, bw_g0, inv_env, env, env_g0, white, model.fir)
        if model.mains_hz > 0 and model.mains_amp[lead] > 0:
            k["mains"](
                out,
                first,
                fs,
                row,
                model.mains_hz,
                float(model.mains_amp[lead]),
                float(model.mains_phase[lead]),
            )
        if model.real is not None:
            src = model.real[lead]
            idx = (np.arange(first, last, dtype=np.int64) + int(model.real_offset[lead])) % src.size
            out[row] += src[idx]
    for i in sel:
        kind = int(ev.kind[i])
        s, e, value = float(ev.start[i]), float(ev.end[i]), float(ev.value[i])
        if kind == MOTION:
            weight, bt, bsd, bamp, sf, sph, sa = _motion_details(
                model, int(ev.key[i]), s, e, value, model.n_leads
            )
            for row, lead in enumerate(leads):
                if ev.lead_mask[i] >> lead & 1:
                    k["motion"](
                        out, first, fs, row, s, e, float(weight[lead]), bt, bsd, bamp, sf, sph, sa
                    )
        elif kind == POP:
            for row, lead in enumerate(leads):
                if ev.lead_mask[i] >> lead & 1:
                    k["pop"](out, first, fs, row, s, e, value)
    np.clip(out, -model.clip_mv, model.clip_mv, out=out)
    for i in sel:
        if ev.kind[i] != LEAD_OFF:
            continue
        lo = max(math.ceil(ev.start[i] * fs), first)
        hi = min(math.ceil(ev.end[i] * fs), last)
        if hi <= lo:
            continue
        for row, lead in enumerate(leads):
            if ev.lead_mask[i] >> lead & 1:
                out[row, lo - first : hi - first] = 0.0
    return out

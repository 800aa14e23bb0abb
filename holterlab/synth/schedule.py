"""The schedule of a synthetic recording: every beat, episode and event, before any sample.

:func:`build_schedule` draws, from the seed alone and in O(number of beats):

1. the subject (sinus-rate model, beat shapes),
2. the rhythm episodes, ST episodes and noise events (:mod:`holterlab.synth.episodes`),
3. the beats (:mod:`holterlab.synth.walk`): time, MIT-BIH type, morphology, P wave,
4. the atrial waves of AF and flutter episodes and the noise model.

Independent random streams are used for rhythm and noise, so changing a noise parameter
never moves a beat. Beat times are drawn in seconds and then put on the sample grid; the
same seed at two sampling rates gives the same rhythm.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from holterlab.errors import ParameterError
from holterlab.params.synth import SynthParams
from holterlab.synth import episodes as E
from holterlab.synth.atrial import TAPER_S, AtrialEpisodes
from holterlab.synth.morphology import (
    MorphologyBank,
    lead_matrix,
    lead_names,
    make_bank,
)
from holterlab.synth.noise import NoiseModel, make_noise_model
from holterlab.synth.walk import SYMBOLS, Beats, SinusModel, sinus_model, walk

__all__ = ["Schedule", "build_schedule", "MAX_HOURS", "rng_for"]

#: Longest recording the generator makes (14 days).
MAX_HOURS = 14 * 24.0
#: Sampling rates accepted (Hz).
FS_RANGE = (50.0, 4000.0)

# random streams of one seed
_S_PLAN, _S_SINUS, _S_MORPH, _S_ST, _S_NOISE_EVENTS, _S_NOISE, _S_ATRIAL = range(1, 8)


def rng_for(seed: int, stream: int) -> np.random.Generator:
    """The generator of one random stream of ``seed``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stream])))


@dataclass
class Schedule:
    """Everything a synthetic recording is rendered from (see module docstring).

    Beat arrays (one entry per beat, sorted): ``sample`` (R peak, int64), ``symbol`` (MIT-BIH),
    ``sym`` (type code), ``mid`` (morphology id), ``pk`` (P wave), ``amp``, ``rr`` (s since the
    previous beat), ``st`` (ST depression, mV nominal), ``ep`` (rhythm episode index or -1).
    """

    seed: int
    fs: float
    n_samples: int
    leads: list[str]
    params: SynthParams
    sample: np.ndarray
    sym: np.ndarray
    mid: np.ndarray
    pk: np.ndarray
    amp: np.ndarray
    rr: np.ndarray
    st: np.ndarray
    ep: np.ndarray
    morph: np.ndarray
    episodes: E.EpisodePlan
    ep_first: np.ndarray
    ep_last: np.ndarray
    st_events: E.EventPlan
    noise_events: E.EventPlan
    atrial: AtrialEpisodes
    bank: MorphologyBank
    sinus: SinusModel
    noise: NoiseModel
    lead_mat: np.ndarray = field(repr=False, default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.lead_mat is None:
            self.lead_mat = lead_matrix(self.leads)

    @property
    def duration(self) -> float:
        """Seconds."""
        return self.n_samples / self.fs

    @property
    def symbol(self) -> np.ndarray:
        """MIT-BIH symbol of every beat."""
        return SYMBOLS[self.sym]

    @property
    def time(self) -> np.ndarray:
        """R-peak time of every beat (s)."""
        return self.sample / self.fs

    def __len__(self) -> int:
        return int(self.sample.size)


def check_basic(hours: float, fs: float, seed: int) -> tuple[float, float, int]:
    """Validate the basic arguments; return them as float, float, int."""
    for name, value in (("hours", hours), ("fs", fs)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise ParameterError(f"{name} must be a number, got {value!r}")
        if not math.isfinite(float(value)):
            raise ParameterError(f"{name} must be finite, got {value!r}")
    hours, fs = float(hours), float(fs)
    if not 0 < hours <= MAX_HOURS:
        raise ParameterError(
            f"hours must be above 0 and at most {MAX_HOURS:g} (14 days), got {hours:g}"
        )
    if hours * 3600 < 10:
        raise ParameterError(f"the recording must last at least 10 s, got {hours * 3600:g} s")
    if not FS_RANGE[0] <= fs <= FS_RANGE[1]:
        raise ParameterError(
            f"fs must be between {FS_RANGE[0]:g} and {FS_RANGE[1]:g} Hz, got {fs:g}"
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed must be a whole number >= 0, got {seed!r}")
    return hours, fs, int(seed)


def _st_per_beat(t: np.ndarray, st: E.EventPlan) -> np.ndarray:
    """Nominal ST depression at each beat: trapezoids with 25 % ramps (piecewise linear)."""
    out = np.zeros(t.size)
    for s, e, depth in zip(st.start, st.end, st.value, strict=True):
        i0, i1 = np.searchsorted(t, [s, e])
        if i1 <= i0:
            continue
        ramp = 0.25 * (e - s)
        tt = t[i0:i1]
        frac = np.minimum(np.minimum((tt - s) / ramp, (e - tt) / ramp), 1.0)
        out[i0:i1] += depth * np.clip(frac, 0.0, 1.0)
    return out


def _atrial(
    rng: np.random.Generator,
    plan: E.EpisodePlan,
    ep_first: np.ndarray,
    ep_last: np.ndarray,
    time: np.ndarray,
    duration: float,
    names: list[str],
) -> AtrialEpisodes:
    """f/F waves for every AF/AFL episode that produced beats, spanning its beats."""
    from holterlab.synth.morphology import _basis_to_vector

    rows = []
    amps = []
    lm = lead_matrix(names)
    for i in range(len(plan)):
        kind = int(plan.kind[i])
        if kind not in (E.AF, E.AFL) or ep_first[i] < 0:
            continue
        b0, b1 = int(ep_first[i]), int(ep_last[i])
        start = max(0.0, time[b0] - (0.35 if b0 == 0 else 0.5 * (time[b0] - time[b0 - 1])))
        end = time[b1 + 1] - 0.25 if b1 + 1 < time.size else duration
        end = max(end, start + 2 * TAPER_S)
        if kind == E.AF:
            vec = _basis_to_vector((0.06, 0.03, 0.12)) * rng.uniform(0.6, 1.4)
            freq, df, fm = rng.uniform(5.0, 7.0), rng.uniform(0.6, 1.5), rng.uniform(0.05, 0.15)
            t0 = start
        else:
            vec = _basis_to_vector((-0.22, -0.06, 0.12)) * rng.uniform(0.7, 1.3)
            freq, df, fm = float(plan.p2[i]), 0.0, 1.0
            # the walk conducts F waves at t0 + k*cycle + 0.18 s: peak of F wave k at t0 + k*cycle
            t0 = float(plan.start[i])
        rows.append(
            (
                kind,
                start,
                end,
                t0,
                freq,
                df,
                fm,
                rng.uniform(0, 2 * np.pi),
                rng.uniform(0, 2 * np.pi),
            )
        )
        amps.append(vec @ lm)
    if not rows:
        z = np.zeros(0)
        return AtrialEpisodes(z.astype(np.int64), z, z, z, z, z, z, z, z, np.zeros((0, len(names))))
    a = np.array(rows, dtype=np.float64)
    return AtrialEpisodes(
        kind=a[:, 0].astype(np.int64),
        start=a[:, 1].copy(),
        end=a[:, 2].copy(),
        t0=a[:, 3].copy(),
        freq=a[:, 4].copy(),
        df=a[:, 5].copy(),
        fm=a[:, 6].copy(),
        ph1=a[:, 7].copy(),
        ph2=a[:, 8].copy(),
        lead_amp=np.array(amps, dtype=np.float64).reshape(len(rows), len(names)),
    )


def build_schedule(
    *,
    hours: float,
    leads: int | list[str] = 2,
    fs: float = 250.0,
    seed: int = 0,
    params: SynthParams | None = None,
    kernel: Callable[..., int] | None = None,
) -> Schedule:
    """Draw the complete schedule of a synthetic recording.

    Parameters
    ----------
    hours
        Duration (at most 14 days).
    leads
        Number of leads (1-12: II, V5, V1, I, III, ...) or a list of lead names.
    fs
        Sampling rate in Hz.
    seed
        Any whole number >= 0; the same seed and parameters give the same recording.
    params
        :class:`SynthParams`; default Holter-like rates.
    kernel
        Beat-walk kernel (default the numba one; tests pass the plain-Python reference).
    """
    hours, fs, seed = check_basic(hours, fs, seed)
    p = SynthParams() if params is None else params
    if not isinstance(p, SynthParams):
        raise ParameterError(f"params must be SynthParams, got {type(p).__name__}")
    names = lead_names(leads)
    n_samples = int(round(hours * 3600.0 * fs))
    duration = n_samples / fs

    plan = E.plan_rhythm_episodes(rng_for(seed, _S_PLAN), duration, p)
    model = sinus_model(rng_for(seed, _S_SINUS), p)
    bank = make_bank(rng_for(seed, _S_MORPH), p.pvc_foci)
    probs = np.array(
        [
            p.pvc_per_hour,
            p.couplet_per_hour,
            p.triplet_per_hour,
            p.pac_per_hour,
            p.fusion_per_hour,
            p.unclassified_per_hour,
        ]
    )
    t_end = (n_samples - 1) / fs
    beats: Beats
    beats, ep_first, ep_last = walk(plan, model, probs, p.pvc_foci, t_end, seed, kernel=kernel)

    sample = np.rint(beats.time * fs).astype(np.int64)
    sample = np.clip(sample, 0, n_samples - 1)
    time = sample / fs
    rr = np.empty(sample.size)
    if sample.size:
        rr[0] = 60.0 / p.hr_day_bpm
        rr[1:] = np.diff(time)
    st_events = E.plan_st_episodes(rng_for(seed, _S_ST), duration, p, len(names))
    st = _st_per_beat(time, st_events) if sample.size else np.zeros(0)
    noise_events = E.plan_noise_events(rng_for(seed, _S_NOISE_EVENTS), duration, p, len(names))
    resp = model.params[[4, 5, 8]]
    noise = make_noise_model(
        rng_for(seed, _S_NOISE),
        seed=seed,
        fs=fs,
        n_leads=len(names),
        params=p,
        resp=resp,
        events=noise_events,
    )
    atrial = _atrial(rng_for(seed, _S_ATRIAL), plan, ep_first, ep_last, time, duration, names)
    return Schedule(
        seed=seed,
        fs=fs,
        n_samples=n_samples,
        leads=names,
        params=p,
        sample=sample,
        sym=beats.sym,
        mid=bank.morph_id(beats.sym, beats.morph),
        pk=beats.pk,
        amp=beats.amp,
        rr=rr,
        st=st,
        ep=beats.ep,
        morph=beats.morph,
        episodes=plan,
        ep_first=ep_first,
        ep_last=ep_last,
        st_events=st_events,
        noise_events=noise_events,
        atrial=atrial,
        bank=bank,
        sinus=model,
        noise=noise,
    )

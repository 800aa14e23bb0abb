"""Planning rhythm episodes, ST episodes and noise events on the time line.

Everything here works in seconds and is drawn from a seeded :class:`numpy.random.Generator`,
in O(number of events). Rhythm episodes never overlap (at least :data:`GAP_S` of sinus rhythm
lies between two of them); ST episodes and noise events are overlays and may overlap
anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from holterlab.params.synth import SynthParams

__all__ = [
    "EpisodePlan",
    "EventPlan",
    "plan_rhythm_episodes",
    "plan_st_episodes",
    "plan_noise_events",
    "KIND_NAMES",
    "RHYTHM_AUX",
    "REPLACING",
    "MODULATING",
    "INSTANT",
]

# Rhythm episode kinds (codes shared with the beat-walk kernel).
AF, AFL, VT, SVT, IVR, BIGEMINY, TRIGEMINY, BRADY, TACHY, PAUSE, COUPLET, TRIPLET = range(1, 13)

KIND_NAMES = {
    AF: "af",
    AFL: "afl",
    VT: "vt",
    SVT: "svt",
    IVR: "ivr",
    BIGEMINY: "bigeminy",
    TRIGEMINY: "trigeminy",
    BRADY: "brady",
    TACHY: "tachy",
    PAUSE: "sinus_arrest",
    COUPLET: "couplet",
    TRIPLET: "triplet",
}

#: MIT-BIH rhythm label of each kind that has one (sinus tachycardia stays ``(N``).
RHYTHM_AUX = {
    AF: "(AFIB",
    AFL: "(AFL",
    VT: "(VT",
    SVT: "(SVTA",
    IVR: "(IVR",
    BIGEMINY: "(B",
    TRIGEMINY: "(T",
    BRADY: "(SBR",
}

#: Kinds whose beats replace sinus rhythm, kinds that modulate it, one-shot kinds.
REPLACING = (AF, AFL, VT, SVT, IVR)
MODULATING = (BIGEMINY, TRIGEMINY, BRADY, TACHY)
INSTANT = (PAUSE, COUPLET, TRIPLET)

#: Seconds of sinus rhythm kept between two rhythm episodes.
GAP_S = 10.0
#: Seconds of sinus rhythm at the start of every recording.
LEAD_IN_S = 5.0

# Noise event kinds.
NOISY, MOTION, POP, LEAD_OFF = range(1, 5)
NOISE_NAMES = {NOISY: "noise", MOTION: "motion", POP: "electrode_pop", LEAD_OFF: "lead_off"}


@dataclass
class EpisodePlan:
    """Rhythm episodes as parallel arrays, sorted by start.

    ``rate`` is the target rate in bpm (the pause length in s for sinus arrests), ``p1`` a
    kind-specific parameter (PVC focus; flutter conduction ratio, 0 = variable) and ``p2``
    another (bigeminy coupling fraction; flutter cycle length in s; AF RR coefficient of
    variation).
    """

    kind: np.ndarray
    start: np.ndarray
    end: np.ndarray
    rate: np.ndarray
    p1: np.ndarray
    p2: np.ndarray

    def __len__(self) -> int:
        return int(self.kind.size)


@dataclass
class EventPlan:
    """Overlay events (ST episodes or noise events) as parallel arrays sorted by start.

    ``lead_mask`` is a bit mask of affected leads, ``value`` the amplitude (ST depth in mV,
    noise multiplier, artefact amplitude in mV), ``key`` a per-event integer from which the
    event's own random details are derived.
    """

    kind: np.ndarray
    start: np.ndarray
    end: np.ndarray
    lead_mask: np.ndarray
    value: np.ndarray
    key: np.ndarray

    def __len__(self) -> int:
        return int(self.kind.size)

    @classmethod
    def empty(cls) -> EventPlan:
        z = np.zeros(0)
        return cls(z.astype(np.int64), z, z, z.astype(np.int64), z, z.astype(np.int64))


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    if hi <= lo:
        return float(lo)
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _draw_episode(
    rng: np.random.Generator, kind: int, p: SynthParams, max_s: float
) -> tuple[float, float, float, float]:
    """Duration, rate, p1, p2 of one episode of ``kind`` (duration at most ``max_s``)."""
    foci = p.pvc_foci
    if kind == AF:
        dur = _log_uniform(rng, p.af_min_s, p.af_max_s)
        rate = p.af_rate_bpm * rng.uniform(0.85, 1.15)
        return min(dur, max_s), rate, 0.0, p.af_rr_cv
    if kind == AFL:
        dur = _log_uniform(rng, p.afl_min_s, p.afl_max_s)
        cycle = 60.0 / (p.flutter_rate_bpm * rng.uniform(0.93, 1.07))
        ratio = float(rng.choice([2.0, 4.0, 0.0], p=[0.4, 0.3, 0.3]))
        return min(dur, max_s), 60.0 / cycle, ratio, cycle
    if kind == VT:
        rate = rng.uniform(p.vt_min_bpm, p.vt_max_bpm)
        beats = int(rng.integers(4, p.vt_max_beats + 1))
        dur = (beats - 0.5) * 60.0 / rate
        return min(dur, max_s), rate, float(rng.integers(0, foci)), 0.0
    if kind == SVT:
        rate = rng.uniform(p.svt_min_bpm, p.svt_max_bpm)
        dur = rng.uniform(min(3.0, p.svt_max_s), p.svt_max_s)
        return min(dur, max_s), rate, 0.0, 0.0
    if kind == IVR:
        rate = rng.uniform(p.ivr_min_bpm, p.ivr_max_bpm)
        dur = rng.uniform(10.0, 60.0)
        return min(dur, max_s), rate, float(rng.integers(0, foci)), 0.0
    if kind in (BIGEMINY, TRIGEMINY):
        dur = _log_uniform(rng, min(30.0, p.geminy_max_s), p.geminy_max_s)
        return min(dur, max_s), 0.0, float(rng.integers(0, foci)), rng.uniform(0.45, 0.65)
    if kind == BRADY:
        dur = _log_uniform(rng, min(60.0, p.brady_max_s), p.brady_max_s)
        return min(dur, max_s), p.brady_bpm * rng.uniform(0.95, 1.05), 0.0, 0.0
    if kind == TACHY:
        dur = _log_uniform(rng, min(60.0, p.tachy_max_s), p.tachy_max_s)
        return min(dur, max_s), p.tachy_bpm * rng.uniform(0.95, 1.05), 0.0, 0.0
    if kind == PAUSE:
        length = rng.uniform(p.pause_min_s, p.pause_max_s)
        return length, length, 0.0, 0.0
    if kind in (COUPLET, TRIPLET):
        return 1.0, 0.0, float(rng.integers(0, foci)), 0.0
    raise AssertionError(kind)  # pragma: no cover


def _rates(p: SynthParams) -> dict[int, float]:
    return {
        AF: p.af_per_hour,
        AFL: p.afl_per_hour,
        VT: p.vt_per_hour,
        SVT: p.svt_per_hour,
        IVR: p.ivr_per_hour,
        BIGEMINY: p.bigeminy_per_hour,
        TRIGEMINY: p.trigeminy_per_hour,
        BRADY: p.brady_per_hour,
        TACHY: p.tachy_per_hour,
        PAUSE: p.pause_per_hour,
    }


def _min_duration(kind: int) -> float:
    return {
        AF: 15.0,
        AFL: 12.0,
        VT: 1.5,
        SVT: 3.0,
        IVR: 8.0,
        BIGEMINY: 12.0,
        TRIGEMINY: 15.0,
        BRADY: 30.0,
        TACHY: 30.0,
    }.get(kind, 0.0)


class _Timeline:
    """Accepted non-overlapping intervals (sorted), each padded by a gap."""

    def __init__(self, gap: float) -> None:
        self.starts: list[float] = []
        self.ends: list[float] = []
        self.gap = gap

    def fits(self, s: float, e: float) -> bool:
        i = int(np.searchsorted(self.starts, s))
        if i > 0 and self.ends[i - 1] + self.gap > s:
            return False
        return not (i < len(self.starts) and e + self.gap > self.starts[i])

    def add(self, s: float, e: float) -> None:
        i = int(np.searchsorted(self.starts, s))
        self.starts.insert(i, s)
        self.ends.insert(i, e)


def plan_rhythm_episodes(rng: np.random.Generator, duration: float, p: SynthParams) -> EpisodePlan:
    """Place rhythm episodes (AF, flutter, VT, SVT, IVR, bigeminy, ..., pauses).

    With ``p.guarantee_each`` one episode of every kind (and a PVC couplet and triplet) is
    placed first, evenly over the recording, as far as the duration allows; Poisson-distributed
    episodes at the configured rates follow wherever they fit.
    """
    rows: list[tuple[int, float, float, float, float, float]] = []
    usable_end = duration - 3.0
    line = _Timeline(GAP_S)
    if p.guarantee_each:
        kinds = [AF, VT, BIGEMINY, PAUSE, SVT, TACHY, COUPLET, AFL, TRIGEMINY, IVR, TRIPLET, BRADY]
        span = usable_end - LEAD_IN_S
        slot = span / len(kinds) if span > 0 else 0.0
        for i, kind in enumerate(kinds):
            s = LEAD_IN_S + i * slot
            room = slot - GAP_S
            dur, rate, p1, p2 = _draw_episode(rng, kind, p, max(room, 0.0))
            if kind in INSTANT and room < 4.0:
                continue
            if kind not in INSTANT and dur < _min_duration(kind):
                continue
            e = s + dur
            if e <= usable_end and line.fits(s, e):
                line.add(s, e)
                rows.append((kind, s, e, rate, p1, p2))
    rates = _rates(p)
    total = sum(rates.values()) / 3600.0
    if total > 0:
        kinds_arr = np.array(list(rates))
        probs = np.array([rates[k] for k in kinds_arr]) / 3600.0 / total
        t = LEAD_IN_S
        while True:
            t += rng.exponential(1.0 / total)
            if t >= usable_end:
                break
            kind = int(rng.choice(kinds_arr, p=probs))
            dur, rate, p1, p2 = _draw_episode(rng, kind, p, usable_end - t)
            if kind not in INSTANT and dur < _min_duration(kind):
                continue
            if line.fits(t, t + dur):
                line.add(t, t + dur)
                rows.append((kind, t, t + dur, rate, p1, p2))
    rows.sort(key=lambda r: r[1])
    arr = np.array(rows, dtype=np.float64).reshape(-1, 6)
    return EpisodePlan(
        kind=arr[:, 0].astype(np.int64),
        start=arr[:, 1].copy(),
        end=arr[:, 2].copy(),
        rate=arr[:, 3].copy(),
        p1=arr[:, 4].copy(),
        p2=arr[:, 5].copy(),
    )


def _poisson_times(
    rng: np.random.Generator, per_hour: float, duration: float, guarantee: bool
) -> np.ndarray:
    n = rng.poisson(per_hour * duration / 3600.0)
    if guarantee:
        n = max(n, 1)
    return np.sort(rng.uniform(0.0, max(duration, 0.0), size=n))


def plan_st_episodes(
    rng: np.random.Generator, duration: float, p: SynthParams, n_leads: int
) -> EventPlan:
    """ST-depression episodes: ``value`` is the depth (mV at J+60 ms, in the V5-like lead)."""
    if p.st_depth_mv <= 0 or (p.st_per_hour <= 0 and not p.guarantee_each):
        return EventPlan.empty()
    starts = _poisson_times(rng, p.st_per_hour, max(duration - 20.0, 0.0), p.guarantee_each)
    rows = []
    for s in starts:
        dur = _log_uniform(rng, p.st_min_s, p.st_max_s)
        s = float(s) + 10.0
        dur = min(dur, max(duration - 5.0 - s, 0.0))
        if dur < 10.0:
            continue
        depth = p.st_depth_mv * rng.uniform(1.0 / 3.0, 1.0)
        rows.append((s, s + dur, depth))
    if not rows:
        return EventPlan.empty()
    a = np.array(rows)
    n = a.shape[0]
    return EventPlan(
        kind=np.ones(n, dtype=np.int64),
        start=a[:, 0],
        end=a[:, 1],
        lead_mask=np.full(n, (1 << n_leads) - 1, dtype=np.int64),
        value=a[:, 2],
        key=np.arange(n, dtype=np.int64),
    )


def plan_noise_events(
    rng: np.random.Generator, duration: float, p: SynthParams, n_leads: int
) -> EventPlan:
    """Noise events: strong muscle noise, motion artefacts, electrode pops, lead-off."""
    if p.noise_level <= 0:
        return EventPlan.empty()
    rows = []
    all_leads = (1 << n_leads) - 1
    specs = [
        (NOISY, p.noisy_per_hour, (10.0, 300.0)),
        (MOTION, p.motion_per_hour, (1.0, 10.0)),
        (POP, p.pop_per_hour, (0.0, 0.0)),
        (LEAD_OFF, p.lead_off_per_hour, (5.0, 120.0)),
    ]
    for kind, per_hour, (lo, hi) in specs:
        guarantee = p.guarantee_each and duration > 60.0
        for s in _poisson_times(rng, per_hour, duration, guarantee):
            s = float(s)
            if kind == POP:
                tau = rng.uniform(0.15, 0.8)
                dur = 6.0 * tau
                mask = 1 << int(rng.integers(0, n_leads))
                value = rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 2.5)
            elif kind == LEAD_OFF:
                dur = _log_uniform(rng, lo, hi)
                mask = 1 << int(rng.integers(0, n_leads))
                value = 0.0
            elif kind == MOTION:
                dur = rng.uniform(lo, hi)
                mask = all_leads if rng.uniform() < 0.5 else 1 << int(rng.integers(0, n_leads))
                value = rng.uniform(0.3, 1.5)
            else:
                dur = _log_uniform(rng, lo, hi)
                mask = all_leads if rng.uniform() < 0.7 else 1 << int(rng.integers(0, n_leads))
                value = rng.uniform(3.0, 8.0)
            e = min(s + dur, duration)
            if e - s < 0.2:
                continue
            rows.append((kind, s, e, mask, value, int(rng.integers(0, 2**62))))
    if not rows:
        return EventPlan.empty()
    rows.sort(key=lambda r: r[1])
    a = np.array(rows, dtype=object)
    return EventPlan(
        kind=a[:, 0].astype(np.int64),
        start=a[:, 1].astype(np.float64),
        end=a[:, 2].astype(np.float64),
        lead_mask=a[:, 3].astype(np.int64),
        value=a[:, 4].astype(np.float64),
        key=a[:, 5].astype(np.int64),
    )

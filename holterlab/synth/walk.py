"""The beat walk: from planned episodes to the time and type of every beat.

A sinus node fires at a rate that follows the clock (day/night), breathing (respiratory sinus
arrhythmia), 0.1 Hz Mayer waves and slow 1/f-like drift, all deterministic functions of the
absolute time. The walk emits one beat per step: sinus beats, isolated ectopics (PVC with a
compensatory pause, PAC resetting the sinus node, fusion and unclassifiable beats), PVC runs,
and the beats of the planned episodes (AF, flutter, VT, SVT, IVR, bigeminy, trigeminy,
brady/tachycardia, sinus arrest).

The kernel :func:`walk_kernel_py` is plain Python; :data:`walk_kernel` is the same code
compiled by numba (a test proves the two equal). Random numbers come in as an array of
uniforms, one row per emitted beat, drawn per call from a generator keyed by the seed and the
call number, so the result does not depend on which kernel runs.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np

from holterlab.params.synth import SynthParams
from holterlab.synth.episodes import EpisodePlan

__all__ = ["Beats", "SinusModel", "walk", "walk_kernel", "walk_kernel_py", "SYMBOLS"]

#: Beat type codes used by the kernels, and their MIT-BIH symbols.
SYM_N, SYM_A, SYM_V, SYM_F, SYM_Q = 0, 1, 2, 3, 4
SYMBOLS = np.array(["N", "A", "V", "F", "Q"])

#: Uniform random numbers per emitted beat.
N_UNIFORM = 8
#: Beats per kernel call.
CALL_BEATS = 32768
#: Number of sinusoids in the slow (1/f-like) heart-rate drift.
N_SLOW = 10
#: Length of the sinus model parameter vector.
N_SINUS = 12

_TWO_PI = 2.0 * math.pi


@dataclass
class SinusModel:
    """Parameters of the sinus node rate (see :func:`sinus_model`)."""

    params: np.ndarray  # (N_SINUS,)
    slow_f: np.ndarray  # (N_SLOW,) Hz
    slow_a: np.ndarray  # (N_SLOW,) relative amplitude
    slow_ph: np.ndarray  # (N_SLOW,) rad


def sinus_model(rng: np.random.Generator, p: SynthParams) -> SinusModel:
    """Draw the per-recording sinus model from ``rng`` and :class:`SynthParams` ``p``."""
    params = np.zeros(N_SINUS)
    params[0] = p.hr_day_bpm
    params[1] = p.hr_night_bpm
    params[2] = p.start_hour
    params[3] = p.rsa_fraction
    params[4] = p.respiration_hz
    params[5] = rng.uniform(0, _TWO_PI)  # respiration phase
    params[6] = p.lf_fraction
    params[7] = rng.uniform(0, _TWO_PI)  # LF phase
    params[8] = rng.uniform(0, _TWO_PI)  # respiration-rate drift phase
    params[9] = 0.05  # QRS amplitude modulation by breathing
    params[10] = rng.uniform(0, _TWO_PI)  # LF drift phase
    # 1/f-like drift: log-spaced frequencies, amplitude ~ f^-1/2, scaled to the wanted std
    f = np.geomspace(1.0 / 7200.0, 1.0 / 40.0, N_SLOW) * rng.uniform(0.8, 1.25, N_SLOW)
    a = f**-0.5 * rng.uniform(0.5, 1.5, N_SLOW)
    a *= p.slow_fraction / math.sqrt(0.5 * float(np.sum(a**2))) if np.any(a) else 0.0
    ph = rng.uniform(0, _TWO_PI, N_SLOW)
    return SinusModel(params, f, a, ph)


def night_weight(t: float, start_hour: float) -> float:
    """0 by day, 1 at night (23:00-07:00), smooth in between; ``t`` in s from the start."""
    clock = (start_hour + t / 3600.0) % 24.0
    w = 0.5 + 0.8 * math.cos(_TWO_PI * (clock - 3.0) / 24.0)
    return min(max(w, 0.0), 1.0)


def _sinus_rr(t, tgt, es, ee, sp, slow_f, slow_a, slow_ph):
    """Sinus cycle length (s) at time ``t``; ``tgt`` > 0: brady/tachy target rate in [es, ee]."""
    two_pi = 2.0 * math.pi
    clock = (sp[2] + t / 3600.0) % 24.0
    w = 0.5 + 0.8 * math.cos(two_pi * (clock - 3.0) / 24.0)
    w = min(max(w, 0.0), 1.0)
    hr = sp[0] + (sp[1] - sp[0]) * w
    slow = 0.0
    for i in range(slow_f.size):
        slow += slow_a[i] * math.sin(two_pi * slow_f[i] * t + slow_ph[i])
    hr = hr * (1.0 + slow)
    if tgt > 0.0:
        ramp = min((t - es) / 20.0, (ee - t) / 20.0, 1.0)
        ramp = max(ramp, 0.0)
        hr = hr + (tgt * (1.0 + 0.3 * slow) - hr) * ramp
    hr = max(hr, 20.0)
    rr = 60.0 / hr
    resp = two_pi * sp[4] * t + sp[5] + 3.0 * math.sin(two_pi * t / 700.0 + sp[8])
    rsa = sp[3] * (0.7 + 0.6 * w) * math.sin(resp)
    lf = sp[6] * math.sin(two_pi * 0.1 * t + sp[7] + 2.0 * math.sin(two_pi * t / 400.0 + sp[10]))
    rr = rr * (1.0 + rsa + lf)
    return min(max(rr, 0.27), 1.9)


def _resp_amp(t, jitter, sp):
    """QRS amplitude factor: breathing modulation plus a little beat-to-beat jitter."""
    two_pi = 2.0 * math.pi
    resp = two_pi * sp[4] * t + sp[5] + 3.0 * math.sin(two_pi * t / 700.0 + sp[8])
    return 1.0 + sp[9] * math.sin(resp) + 0.04 * (jitter - 0.5)


def _pick_focus(x, nf):
    """PVC focus for uniform ``x``: focus i with weight 1 / (i + 1)."""
    total = 0.0
    for i in range(nf):
        total += 1.0 / (i + 1.0)
    acc = 0.0
    for i in range(nf):
        acc += 1.0 / (i + 1.0) / total
        if x < acc:
            return i
    return nf - 1


def walk_kernel_py(
    state, u, sp, slow_f, slow_a, slow_ph,
    ep_kind, ep_start, ep_end, ep_rate, ep_p1, ep_p2,
    probs, n_foci, t_end,
    out_t, out_sym, out_morph, out_pk, out_amp, out_ep, ep_first, ep_last,
):  # fmt: skip
    """Emit up to ``u.shape[0]`` beats; return how many. ``state`` is updated in place.

    ``state``: t_last, rr_last, sinus_next, ep, entered, run_left, run_focus, run_rr, pattern,
    last_sym, n_before, done, last_sym2, run_ep.
    """
    t_last = state[0]
    rr_last = state[1]
    sn = state[2]
    ep = int(state[3])
    entered = int(state[4])
    run_left = int(state[5])
    run_focus = int(state[6])
    run_rr = state[7]
    pat = int(state[8])
    last_sym = int(state[9])
    base = int(state[10])
    last_sym2 = int(state[12])
    run_ep = int(state[13])
    n_ep = ep_kind.size
    cap = u.shape[0]
    j = 0
    done = 0
    while j < cap:
        uu = u[j]
        t_new = 0.0
        sym = 0
        morph = 0
        pk = 1
        epi = -1
        if run_left > 0:
            # a PVC run in progress (couplet, triplet)
            t_new = t_last + run_rr * (0.97 + 0.06 * uu[3])
            sym = 2
            morph = run_focus
            pk = 0
            epi = run_ep
            run_left -= 1
            if run_left == 0:
                refr = max(0.35, 0.6 * _sinus_rr(t_new, 0.0, 0.0, 0.0, sp, slow_f, slow_a, slow_ph))
                while sn < t_new + refr:
                    sn += _sinus_rr(sn, 0.0, 0.0, 0.0, sp, slow_f, slow_a, slow_ph)
                run_ep = -1
        else:
            if entered == 0:
                while ep < n_ep and ep_end[ep] <= t_last:
                    ep += 1
            kind = 0
            if ep < n_ep:
                if entered == 1:
                    kind = ep_kind[ep]
                elif ep_start[ep] <= sn and last_sym == 0:
                    kind = ep_kind[ep]
            if 1 <= kind <= 5:
                # rhythm replaced by the episode's own beats: AF, AFL, VT, SVT, IVR
                entered = 1
                rate = ep_rate[ep]
                pk = 0
                if kind == 1:
                    z = math.sqrt(-2.0 * math.log(1.0 - uu[4])) * math.cos(2.0 * math.pi * uu[5])
                    cv = ep_p2[ep]
                    s = math.sqrt(math.log(1.0 + cv * cv))
                    rr = 60.0 / rate * math.exp(s * z - 0.5 * s * s)
                    rr = min(max(rr, 0.3), 1.8)
                    t_new = t_last + rr
                elif kind == 2:
                    cyc = ep_p2[ep]
                    t0 = ep_start[ep]
                    delay = 0.18
                    k_last = math.floor((t_last - t0 - delay) / cyc + 0.5)
                    ratio = ep_p1[ep]
                    if ratio <= 0.0:
                        if uu[1] < 0.5:
                            ratio = 2.0
                        elif uu[1] < 0.65:
                            ratio = 3.0
                        else:
                            ratio = 4.0
                    k = k_last + ratio
                    while t0 + k * cyc + delay < t_last + 0.3:
                        k += 1.0
                    t_new = t0 + k * cyc + delay
                else:
                    jit = 0.06 if kind == 5 else 0.04
                    rr = 60.0 / rate * (1.0 + jit * (uu[3] - 0.5))
                    t_new = t_last + max(rr, 0.25)
                    if kind == 4:
                        sym = 1
                        pk = 2
                    else:
                        sym = 2
                        morph = int(ep_p1[ep])
                if t_new >= ep_end[ep]:
                    # episode over: sinus rhythm resumes after a recovery interval
                    ep += 1
                    entered = 0
                    rr0 = _sinus_rr(t_last, 0.0, 0.0, 0.0, sp, slow_f, slow_a, slow_ph)
                    sn = t_last + rr0 * (1.1 + 0.4 * uu[6])
                    continue
                epi = ep
            elif kind == 6 or kind == 7:
                # ventricular bigeminy / trigeminy
                if entered == 0:
                    entered = 1
                    pat = 0
                if sn >= ep_end[ep]:
                    ep += 1
                    entered = 0
                    continue
                m = 1 if kind == 6 else 2
                epi = ep
                if last_sym == 0 and pat >= m:
                    rr_ref = _sinus_rr(t_last, 0.0, 0.0, 0.0, sp, slow_f, slow_a, slow_ph)
                    t_new = t_last + ep_p2[ep] * rr_ref * (0.99 + 0.02 * uu[2])
                    sym = 2
                    morph = int(ep_p1[ep])
                    pk = 0
                    pat = 0
                    refr = max(0.35, 0.6 * rr_ref)
                    while sn < t_new + refr:
                        sn += _sinus_rr(sn, 0.0, 0.0, 0.0, sp, slow_f, slow_a, slow_ph)
                else:
                    t_new = sn
                    pat += 1
                    sn = sn + _sinus_rr(sn, 0.0, 0.0, 0.0, sp, slow_f, slow_a, slow_ph)
            elif kind >= 10:
                # one-shot: sinus arrest, PVC couplet or triplet
                epi = ep
                if kind == 10:
                    t_new = t_last + ep_rate[ep]
                    sn = t_new + _sinus_rr(t_new, 0.0, 0.0, 0.0, sp, slow_f, slow_a, slow_ph)
                else:
                    rr_ref = _sinus_rr(t_last, 0.0, 0.0, 0.0, sp, slow_f, slow_a, slow_ph)
                    t_new = t_last + (0.5 + 0.15 * uu[2]) * rr_ref
                    sym = 2
                    morph = int(ep_p1[ep])
                    pk = 0
                    run_focus = morph
                    run_left = 1 if kind == 11 else 2
                    run_rr = max(rr_ref * (0.55 + 0.15 * uu[6]), 0.3)
                    run_ep = ep
                ep += 1
            else:
                # sinus rhythm (possibly in a brady/tachycardia episode) with isolated ectopy
                tgt = 0.0
                es = 0.0
                ee = 0.0
                if kind == 8 or kind == 9:
                    if entered == 0:
                        entered = 1
                    if sn >= ep_end[ep]:
                        ep += 1
                        entered = 0
                        continue
                    tgt = ep_rate[ep]
                    es = ep_start[ep]
                    ee = ep_end[ep]
                    epi = ep
                rr_ref = _sinus_rr(t_last, tgt, es, ee, sp, slow_f, slow_a, slow_ph)
                x = uu[0]
                scale = rr_ref / 3600.0
                p_v1 = probs[0] * scale
                p_v2 = p_v1 + probs[1] * scale
                p_v3 = p_v2 + probs[2] * scale
                p_a = p_v3 + probs[3] * scale
                p_f = p_a + probs[4] * scale
                p_q = p_f + probs[5] * scale
                ectopy_ok = last_sym == 0 and last_sym2 == 0
                if ectopy_ok and x < p_v3:
                    n_run = 1 if x < p_v1 else (2 if x < p_v2 else 3)
                    t_new = t_last + (0.45 + 0.2 * uu[2]) * rr_ref
                    sym = 2
                    morph = _pick_focus(uu[1], n_foci)
                    pk = 0
                    if n_run == 1:
                        refr = max(0.35, 0.6 * rr_ref)
                        while sn < t_new + refr:
                            sn += _sinus_rr(sn, tgt, es, ee, sp, slow_f, slow_a, slow_ph)
                    else:
                        run_left = n_run - 1
                        run_focus = morph
                        run_rr = max(rr_ref * (0.55 + 0.15 * uu[6]), 0.3)
                        run_ep = -1
                elif ectopy_ok and x < p_a:
                    t_new = t_last + (0.5 + 0.25 * uu[2]) * rr_last
                    sym = 1
                    pk = 2
                    sn = t_new + _sinus_rr(t_new, tgt, es, ee, sp, slow_f, slow_a, slow_ph) * (
                        1.0 + 0.1 * uu[6]
                    )
                elif ectopy_ok and x < p_f:
                    t_new = max(sn - 0.04 * uu[2], t_last + 0.3)
                    sym = 3
                    morph = _pick_focus(uu[1], n_foci)
                    sn = sn + _sinus_rr(sn, tgt, es, ee, sp, slow_f, slow_a, slow_ph)
                elif ectopy_ok and x < p_q:
                    t_new = sn
                    sym = 4
                    morph = 0 if uu[1] < 0.5 else 1
                    sn = sn + _sinus_rr(sn, tgt, es, ee, sp, slow_f, slow_a, slow_ph)
                else:
                    t_new = sn
                    sn = sn + _sinus_rr(sn, tgt, es, ee, sp, slow_f, slow_a, slow_ph)
        if t_new >= t_end:
            done = 1
            break
        idx = base + j
        out_t[j] = t_new
        out_sym[j] = sym
        out_morph[j] = morph
        out_pk[j] = pk
        out_amp[j] = _resp_amp(t_new, uu[3], sp)
        out_ep[j] = epi
        if epi >= 0:
            if ep_first[epi] < 0:
                ep_first[epi] = idx
            ep_last[epi] = idx
        if last_sym >= 0:
            rr_last = t_new - t_last
        t_last = t_new
        last_sym2 = last_sym
        last_sym = sym
        j += 1
    state[0] = t_last
    state[1] = rr_last
    state[2] = sn
    state[3] = ep
    state[4] = entered
    state[5] = run_left
    state[6] = run_focus
    state[7] = run_rr
    state[8] = pat
    state[9] = last_sym
    state[10] = base + j
    state[11] = done
    state[12] = last_sym2
    state[13] = run_ep
    return j


def _compiled(func, helpers):
    """``func`` compiled by numba, its calls to ``helpers`` (plain Python) going to compiled
    copies: the same source serves as the plain-Python reference and as the fast kernel."""
    jitted = {name: numba.njit(cache=True)(helpers[name]) for name in helpers}
    env = dict(func.__globals__)
    env.update(jitted)
    clone = types.FunctionType(func.__code__, env, func.__name__, func.__defaults__)
    clone.__qualname__ = func.__qualname__
    clone.__module__ = func.__module__
    clone.__doc__ = func.__doc__
    return numba.njit(cache=True)(clone)


walk_kernel = _compiled(
    walk_kernel_py, {"_sinus_rr": _sinus_rr, "_resp_amp": _resp_amp, "_pick_focus": _pick_focus}
)


@dataclass
class Beats:
    """Every beat of a recording (parallel arrays, sorted by time).

    ``time`` in s, ``sym`` type code (index into :data:`SYMBOLS`), ``morph`` PVC focus (V, F)
    or variant (Q), ``pk`` P wave (0 none, 1 sinus, 2 ectopic), ``amp`` QRS amplitude factor,
    ``ep`` index of the rhythm episode the beat belongs to (-1 none).
    """

    time: np.ndarray
    sym: np.ndarray
    morph: np.ndarray
    pk: np.ndarray
    amp: np.ndarray
    ep: np.ndarray

    def __len__(self) -> int:
        return int(self.time.size)


def walk(
    plan: EpisodePlan,
    model: SinusModel,
    probs: np.ndarray,
    n_foci: int,
    duration: float,
    seed: int,
    *,
    kernel: Callable[..., int] | None = None,
) -> tuple[Beats, np.ndarray, np.ndarray]:
    """Walk the whole recording; return the beats and each episode's first/last beat index.

    ``kernel`` defaults to the numba kernel; pass :func:`walk_kernel_py` for the reference.
    """
    kernel = walk_kernel if kernel is None else kernel
    n_ep = len(plan)
    ep_first = np.full(n_ep, -1, dtype=np.int64)
    ep_last = np.full(n_ep, -1, dtype=np.int64)
    state = np.zeros(14)
    rng0 = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 101])))
    state[0] = 0.0
    state[1] = 60.0 / model.params[0]
    state[2] = 0.2 + 0.6 * rng0.uniform()  # the first beat
    state[9] = -1  # no beat before the first
    state[12] = -1
    state[13] = -1
    parts: list[tuple[np.ndarray, ...]] = []
    call = 0
    while state[11] == 0:
        gen = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 102, call])))
        u = gen.random((CALL_BEATS, N_UNIFORM))
        out = (
            np.empty(CALL_BEATS, np.float64),
            np.empty(CALL_BEATS, np.uint8),
            np.empty(CALL_BEATS, np.int8),
            np.empty(CALL_BEATS, np.int8),
            np.empty(CALL_BEATS, np.float32),
            np.empty(CALL_BEATS, np.int32),
        )
        n = kernel(
            state, u, model.params, model.slow_f, model.slow_a, model.slow_ph,
            plan.kind, plan.start, plan.end, plan.rate, plan.p1, plan.p2,
            probs, n_foci, float(duration), *out, ep_first, ep_last,
        )  # fmt: skip
        parts.append(tuple(a[:n].copy() for a in out))
        call += 1
    cols = [np.concatenate([p[i] for p in parts]) for i in range(6)]
    beats = Beats(*cols)
    return beats, ep_first, ep_last

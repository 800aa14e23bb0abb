"""Beat waveforms: sums of Gaussians (ECGSYN-style P, Q, R, S, T) projected onto leads.

Each wave of a beat is a Gaussian in time with a 3-D "dipole" amplitude vector; a lead sees
the dot product of that vector with its lead vector, so one beat shape gives consistent,
different waveforms in II, V5, V1 (and any of the 12 standard leads). A morphology bank holds
the shapes of one synthetic subject: the normal beat, the PAC (ectopic P), one wide PVC shape
per focus (no P, discordant T), fusion beats and two unclassifiable variants.

:func:`render_beats_py` is the plain-Python kernel that adds the Gaussians of a set of beats
to a window; :data:`render_beats` is the same code compiled by numba, and
:func:`render_beats_numpy` an independent vectorised implementation (tests prove all equal).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from holterlab.errors import ParameterError

__all__ = [
    "LEAD_VECTORS",
    "LEAD_ORDER",
    "lead_names",
    "lead_matrix",
    "MorphologyBank",
    "make_bank",
    "beat_components",
    "render_beats",
    "render_beats_py",
    "render_beats_numpy",
    "PRE_S",
    "POST_S",
    "N_COMP",
]

#: Lead vectors (x: to the left, y: to the feet, z: to the front).
LEAD_VECTORS: dict[str, tuple[float, float, float]] = {
    "I": (1.0, 0.0, 0.0),
    "II": (0.5, 0.866, 0.0),
    "III": (-0.5, 0.866, 0.0),
    "aVR": (-0.866, -0.5, 0.0),
    "aVL": (0.866, -0.5, 0.0),
    "aVF": (0.0, 1.0, 0.0),
    "V1": (-0.35, 0.1, 0.93),
    "V2": (-0.1, 0.1, 1.0),
    "V3": (0.3, 0.1, 0.95),
    "V4": (0.6, 0.1, 0.8),
    "V5": (0.85, 0.1, 0.45),
    "V6": (0.95, 0.1, 0.1),
}

#: Leads used for 1, 2, 3, ... channels (Holter: an inferior, a lateral, a right-precordial).
LEAD_ORDER = ["II", "V5", "V1", "I", "III", "aVF", "aVL", "aVR", "V2", "V3", "V4", "V6"]

#: The three leads in which wave amplitudes are specified below.
_BASIS = ("II", "V5", "V1")

#: Component slots of every beat: P, Q (onset), R (main), S (terminal), ST, T1, T2, X (extra).
P, Q, R, S, ST, T1, T2, X = range(8)
N_COMP = 8

#: Waveform extent around the R peak (s): the P wave starts at most PRE_S before, the T wave
#: ends at most POST_S after.
PRE_S = 0.40
POST_S = 0.85

#: Gaussians are cut at this many standard deviations.
CUT_SIGMAS = 4.0

#: Normal beat: (offset s, sigma s, amplitude in II, V5, V1 in mV, T-wave flag).
_NORMAL = {
    P: (-0.165, 0.022, (0.15, 0.08, 0.06), 0),
    Q: (-0.030, 0.008, (-0.07, -0.10, 0.15), 0),
    R: (0.000, 0.0105, (1.10, 1.50, -0.35), 0),
    S: (0.026, 0.011, (-0.20, -0.30, -0.75), 0),
    T1: (0.225, 0.055, (0.18, 0.25, 0.05), 1),
    T2: (0.260, 0.035, (0.15, 0.20, 0.04), 1),
}
#: ST shift per mV of depression (II, V5, V1); the V5-like lead carries the full depth.
_ST_DIRECTION = (-0.7, -1.0, 0.25)
_ST_OFFSET = 0.10  # centre of the ST shift (the S wave ends, J, about R + 53 ms)
_ST_SIGMA = 0.045


def lead_names(leads: int | list[str] | tuple[str, ...]) -> list[str]:
    """Lead names for a number of leads (1-12) or validate a list of names."""
    if isinstance(leads, (int, np.integer)) and not isinstance(leads, bool):
        n = int(leads)
        if not 1 <= n <= len(LEAD_ORDER):
            raise ParameterError(f"leads must be between 1 and {len(LEAD_ORDER)}, got {n}")
        return LEAD_ORDER[:n]
    if isinstance(leads, str):
        leads = [x.strip() for x in leads.split(",") if x.strip()]
    names = [str(x) for x in leads]  # type: ignore[union-attr]
    if not names:
        raise ParameterError("give at least one lead")
    unknown = [x for x in names if x not in LEAD_VECTORS]
    if unknown:
        raise ParameterError(
            f"unknown lead(s) {', '.join(unknown)}; the generator knows {', '.join(LEAD_ORDER)}"
        )
    if len(set(names)) != len(names):
        raise ParameterError("lead names must not repeat")
    return names


def lead_matrix(names: list[str]) -> np.ndarray:
    """(3, L) matrix whose columns are the lead vectors of ``names``."""
    return np.array([LEAD_VECTORS[n] for n in names], dtype=np.float64).T


def _basis_to_vector(amps: tuple[float, float, float]) -> np.ndarray:
    """The 3-D vector whose projections on II, V5, V1 are ``amps``."""
    m = np.array([LEAD_VECTORS[n] for n in _BASIS])
    return np.linalg.solve(m, np.asarray(amps, dtype=np.float64))


def _rotation(rng: np.random.Generator, max_deg: float) -> np.ndarray:
    """A random rotation by at most ``max_deg`` degrees about a random axis."""
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    angle = math.radians(rng.uniform(-max_deg, max_deg))
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * (k @ k)


@dataclass
class MorphologyBank:
    """Beat shapes of one synthetic subject.

    ``offset``, ``sigma``: (M, C) seconds; ``vector``: (M, C, 3) mV; ``tflag``: (M, C) 1 where
    the wave's timing follows the QT (RR) adaptation; ``st_factor``: (M,) share of the ST
    shift a morphology shows; ``st_vector``: (3,) ST shift per mV of depression.
    Morphology ids: 0 normal, 1 PAC, ``2 + f`` PVC focus f, ``2 + n_foci + f`` fusion with
    focus f, ``2 + 2 n_foci + v`` unclassifiable variant v.
    """

    offset: np.ndarray
    sigma: np.ndarray
    vector: np.ndarray
    tflag: np.ndarray
    st_factor: np.ndarray
    st_vector: np.ndarray
    n_foci: int

    def morph_id(self, sym: np.ndarray, morph: np.ndarray) -> np.ndarray:
        """Morphology id of beats with type codes ``sym`` (N A V F Q) and ``morph`` index."""
        sym = np.asarray(sym)
        m = np.asarray(morph, dtype=np.int64)
        nf = self.n_foci
        out = np.zeros(sym.shape, dtype=np.int16)
        out[sym == 1] = 1
        out[sym == 2] = 2 + m[sym == 2]
        out[sym == 3] = 2 + nf + m[sym == 3]
        out[sym == 4] = 2 + 2 * nf + m[sym == 4]
        return out

    def st_per_lead(self, names: list[str]) -> np.ndarray:
        """ST depression (mV, positive = depression) per lead for 1 mV of nominal depth."""
        return -(self.st_vector @ lead_matrix(names))


def _pvc_direction(rng: np.random.Generator) -> np.ndarray:
    """A random unit direction whose projection on every basis lead is clearly visible."""
    basis = np.array([LEAD_VECTORS[n] for n in _BASIS])
    for _ in range(1000):
        d = rng.normal(size=3)
        d /= np.linalg.norm(d)
        proj = basis @ d
        if abs(proj[0]) > 0.45 and np.all(np.abs(proj) > 0.2):
            return d
    return np.array([0.6, 0.7, -0.4]) / np.linalg.norm([0.6, 0.7, -0.4])  # pragma: no cover


def make_bank(rng: np.random.Generator, n_foci: int) -> MorphologyBank:
    """Draw the beat shapes of one subject from ``rng``."""
    n_morph = 2 + 2 * n_foci + 2
    offset = np.zeros((n_morph, N_COMP))
    sigma = np.full((n_morph, N_COMP), 0.01)
    vector = np.zeros((n_morph, N_COMP, 3))
    tflag = np.zeros((n_morph, N_COMP), dtype=np.int8)
    st_factor = np.zeros(n_morph)

    rot = _rotation(rng, 12.0)
    scale = rng.uniform(0.8, 1.2)
    normal_vec = np.zeros((N_COMP, 3))
    for c, (off, sig, amps, tf) in _NORMAL.items():
        offset[0, c] = off
        sigma[0, c] = sig
        normal_vec[c] = rot @ _basis_to_vector(amps) * scale
        tflag[0, c] = tf
    offset[0, ST] = _ST_OFFSET
    sigma[0, ST] = _ST_SIGMA
    vector[0] = normal_vec
    st_factor[0] = 1.0

    # PAC: the normal QRS-T with an early, abnormal (low atrial) P wave
    offset[1], sigma[1], vector[1], tflag[1] = offset[0], sigma[0], vector[0], tflag[0]
    offset[1, P] = -0.140
    sigma[1, P] = 0.018
    vector[1, P] = _basis_to_vector((-0.10, 0.03, 0.05)) * rng.uniform(0.8, 1.3)
    st_factor[1] = 1.0

    for f in range(n_foci):
        m = 2 + f
        d = _pvc_direction(rng)
        mag = rng.uniform(1.6, 2.6)
        # a broad, flat-topped main deflection (two equal Gaussians at +-half: its peak stays
        # exactly at the annotated time) with small opposite initial and terminal lobes
        half = rng.uniform(0.012, 0.015)
        width = rng.uniform(0.019, 0.022)
        d2 = _rotation(rng, 50.0) @ d
        d3 = _rotation(rng, 50.0) @ d
        offset[m, Q] = -half
        sigma[m, Q] = width
        vector[m, Q] = 0.6 * mag * d
        offset[m, R] = half
        sigma[m, R] = width
        vector[m, R] = 0.6 * mag * d
        offset[m, X] = -0.055
        sigma[m, X] = 0.014
        vector[m, X] = -0.12 * mag * d2
        offset[m, S] = 0.058
        sigma[m, S] = 0.016
        vector[m, S] = -0.22 * mag * d3
        offset[m, T1] = rng.uniform(0.28, 0.33)
        sigma[m, T1] = 0.075
        vector[m, T1] = -0.28 * mag * d
        offset[m, T2] = offset[m, T1] + 0.05
        sigma[m, T2] = 0.05
        vector[m, T2] = -0.08 * mag * d
        offset[m, ST] = _ST_OFFSET
        sigma[m, ST] = _ST_SIGMA

        # fusion with this focus: half a normal beat, half the PVC
        g = 2 + n_foci + f
        offset[g], sigma[g], tflag[g] = offset[0], sigma[0], tflag[0]
        vector[g] = 0.5 * vector[0]
        offset[g, X] = 0.0
        sigma[g, X] = width + 0.5 * half
        # the PVC part adds to the normal R wave in lead II, so the fused R peak stays put
        ii = np.asarray(LEAD_VECTORS["II"])
        same = 1.0 if (d @ ii) * (vector[0, R] @ ii) > 0 else -1.0
        vector[g, X] = 0.5 * mag * d * same
        st_factor[g] = 0.5

    # unclassifiable beats: a notched low-voltage QRS, and an aberrant wider one
    q0 = 2 + 2 * n_foci
    offset[q0], sigma[q0], tflag[q0] = offset[0], sigma[0], tflag[0]
    vector[q0] = vector[0]
    vector[q0, R] = 0.55 * vector[0, R]
    offset[q0, X] = 0.032
    sigma[q0, X] = 0.009
    vector[q0, X] = 0.35 * vector[0, R]
    st_factor[q0] = 1.0
    q1 = q0 + 1
    offset[q1], sigma[q1], tflag[q1] = offset[0], sigma[0], tflag[0]
    rot2 = _rotation(rng, 60.0)
    vector[q1] = vector[0] @ rot2.T
    sigma[q1, R] = 0.018
    sigma[q1, S] = 0.016
    offset[q1, S] = 0.035
    vector[q1, T1] = -vector[0, T1]
    vector[q1, T2] = -vector[0, T2]
    st_factor[q1] = 1.0

    for m in range(n_morph):
        if offset[m, ST] == 0.0:
            offset[m, ST] = _ST_OFFSET
            sigma[m, ST] = _ST_SIGMA
    return MorphologyBank(
        offset=offset,
        sigma=sigma,
        vector=vector,
        tflag=tflag,
        st_factor=st_factor,
        st_vector=_basis_to_vector(_ST_DIRECTION),
        n_foci=n_foci,
    )


def beat_components(
    bank: MorphologyBank,
    lead_mat: np.ndarray,
    r_time: np.ndarray,
    mid: np.ndarray,
    pk: np.ndarray,
    amp: np.ndarray,
    rr: np.ndarray,
    st: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres (s), widths (s) and lead amplitudes (mV) of the waves of some beats.

    Uses only exact arithmetic (and ``sqrt``), so a beat's waves do not depend on which other
    beats are computed with it.

    Returns
    -------
    centers, sigmas
        (nb, C) arrays.
    amps
        (nb, C, L) array.
    """
    mid = np.asarray(mid, dtype=np.int64)
    qtf = np.sqrt(np.clip(rr, 0.3, 1.8))
    tf = bank.tflag[mid].astype(bool)
    off = bank.offset[mid]
    off = np.where(tf, off * qtf[:, None], off)
    sig = bank.sigma[mid]
    sig = np.where(tf, sig * (0.5 + 0.5 * qtf[:, None]), sig)
    centers = r_time[:, None] + off
    gain = np.ones((mid.size, N_COMP))
    gain[:, P] = np.where(pk > 0, 1.0, 0.0)
    qrs = amp.astype(np.float64)
    for c in (Q, R, S, X):
        gain[:, c] = qrs
    vec = bank.vector[mid] * gain[:, :, None]
    vec[:, ST, :] = (st * bank.st_factor[mid])[:, None] * bank.st_vector[None, :]
    # explicit sum rather than a matrix product: BLAS results may depend on the shapes, and a
    # lead's samples must not depend on which other leads are read with it
    m = lead_mat
    amps = (
        vec[:, :, 0, None] * m[0][None, None, :]
        + vec[:, :, 1, None] * m[1][None, None, :]
        + vec[:, :, 2, None] * m[2][None, None, :]
    )
    return centers, sig, amps


def render_beats_py(out, first, fs, centers, sigmas, amps):
    """Add the Gaussians of some beats to ``out`` (L, n), which holds samples from ``first``.

    Each Gaussian covers the samples within :data:`CUT_SIGMAS` widths of its centre; the
    samples it covers and the order of additions depend only on the beats, never on the
    window, so any window gives the same values.
    """
    n_lead = out.shape[0]
    n = out.shape[1]
    last = first + n
    inv_fs = 1.0 / fs
    for b in range(centers.shape[0]):
        for c in range(centers.shape[1]):
            nonzero = False
            for ll in range(n_lead):
                if amps[b, c, ll] != 0.0:
                    nonzero = True
            if not nonzero:
                continue
            mu = centers[b, c]
            sd = sigmas[b, c]
            lo = math.ceil((mu - 4.0 * sd) * fs)
            hi = math.floor((mu + 4.0 * sd) * fs) + 1
            if lo < first:
                lo = first
            if hi > last:
                hi = last
            inv_sd = 1.0 / sd
            for i in range(lo, hi):
                x = (i * inv_fs - mu) * inv_sd
                g = math.exp(-0.5 * x * x)
                for ll in range(n_lead):
                    out[ll, i - first] += amps[b, c, ll] * g
    return out


render_beats = numba.njit(cache=True)(render_beats_py)


def render_beats_numpy(n_lead, first, n, fs, centers, sigmas, amps):
    """Vectorised reference of :func:`render_beats_py` (float64, shape (L, n))."""
    out = np.zeros((n_lead, n))
    idx = np.arange(first, first + n)
    t = idx * (1.0 / fs)
    for b in range(centers.shape[0]):
        for c in range(centers.shape[1]):
            if not np.any(amps[b, c] != 0):
                continue
            mu, sd = centers[b, c], sigmas[b, c]
            lo = math.ceil((mu - CUT_SIGMAS * sd) * fs)
            hi = math.floor((mu + CUT_SIGMAS * sd) * fs) + 1
            sel = (idx >= lo) & (idx < hi)
            g = np.exp(-0.5 * ((t[sel] - mu) * (1.0 / sd)) ** 2)
            out[:, sel] += amps[b, c][:, None] * g[None, :]
    return out

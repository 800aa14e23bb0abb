"""Rhythm episodes as MIT rhythm-change annotations (``+`` with an aux note).

MIT-format rhythm annotations describe one rhythm at a time: each ``+`` annotation starts a
rhythm that lasts until the next. Overlapping episodes are resolved by priority (the first
wins): VT > IVR > SVT > AFL > AF > ventricular bigeminy > ventricular trigeminy > sinus
bradycardia; where none is active the rhythm is ``(N``. So a VT run inside AF gives
``(AFIB ... (VT ... (AFIB``, as in the MIT-BIH reference files.

Each rhythm change is written one sample before the first beat of an episode and one sample
after its last beat, so every beat lies unambiguously inside its rhythm.

Episode types without an MIT rhythm code (tachycardia, S bigeminy/trigeminy, slow S runs,
couplets, pauses) are not written. Brady episodes are written as ``(SBR`` (the MIT code for
sinus bradycardia) whatever the underlying rhythm, unless a higher-priority rhythm covers
them.
"""

from __future__ import annotations

import numpy as np

from holterlab.annotations import Annotations
from holterlab.errors import ParameterError
from holterlab.events import Event

__all__ = ["RHYTHM_CODES", "rhythm_annotations", "rhythm_timeline"]

#: MIT aux note of each annotated event type, highest priority first.
RHYTHM_CODES: dict[str, str] = {
    "vt": "(VT",
    "ivr": "(IVR",
    "svt": "(SVTA",
    "afl": "(AFL",
    "af": "(AFIB",
    "v_bigeminy": "(B",
    "v_trigeminy": "(T",
    "brady": "(SBR",
}


def rhythm_timeline(events: list[Event], pad_s: float = 0.0) -> list[tuple[float, str]]:
    """``(time_s, aux)`` rhythm changes from episodes, by priority (see module docstring).

    Each episode is widened by ``pad_s`` on both sides (so that the change lies just before
    its first beat and just after its last). The first entry is at 0 s. Consecutive entries
    have different aux notes.
    """
    eps = [e for e in events if e.type in RHYTHM_CODES and e.end_s > e.start_s]
    if not eps:
        return [(0.0, "(N")]
    starts = [max(e.start_s - pad_s, 0.0) for e in eps]
    ends = [e.end_s + pad_s for e in eps]
    bounds = np.unique(np.array([0.0, *starts, *ends]))
    # priority of each elementary interval [bounds[k], bounds[k+1]); 0 = none
    codes = list(RHYTHM_CODES)
    prio = np.zeros(bounds.size, dtype=np.int64)
    rank = {name: len(codes) - i for i, name in enumerate(codes)}
    for e, a, b in zip(eps, starts, ends, strict=True):
        lo = int(np.searchsorted(bounds, a, side="left"))
        hi = int(np.searchsorted(bounds, b, side="left"))
        np.maximum(prio[lo:hi], rank[e.type], out=prio[lo:hi])
    aux_of = {rank[name]: RHYTHM_CODES[name] for name in codes}
    aux_of[0] = "(N"
    out: list[tuple[float, str]] = []
    for time, r in zip(bounds.tolist(), prio.tolist(), strict=True):
        aux = aux_of[r]
        if not out or out[-1][1] != aux:
            out.append((time, aux))
    return out


def rhythm_annotations(result, fs: float) -> Annotations:
    """Rhythm-change annotations (``+``, aux ``(AFIB``, ``(VT``, ... , ``(N``) of a result.

    Parameters
    ----------
    result
        A :class:`holterlab.rhythm.RhythmResult` (or any object with an ``events`` list).
    fs
        Sampling rate the annotation sample numbers refer to.

    Returns
    -------
    Annotations
        Ready for :func:`holterlab.annotations.write_annotations` (e.g. into the ``.hlab``
        file together with the beat annotations, via ``Annotations.concatenate``).
    """
    try:
        fs = float(fs)
    except (TypeError, ValueError):
        raise ParameterError(f"fs must be a number of Hz, got {fs!r}") from None
    if not np.isfinite(fs) or fs <= 0:
        raise ParameterError(f"fs must be a positive sampling rate in Hz, got {fs}")
    events = getattr(result, "events", result)
    # a rhythm starts one sample before its first beat and ends one sample after its last
    timeline = rhythm_timeline(list(events), pad_s=1.0 / fs)
    samples: list[int] = []
    aux: list[str] = []
    for time, note in timeline:
        s = int(round(time * fs))
        if samples and samples[-1] == s:
            # two changes in one sample: the later one holds
            aux[-1] = note
            if len(aux) > 1 and aux[-2] == note:
                samples.pop()
                aux.pop()
            continue
        if aux and aux[-1] == note:
            continue
        samples.append(s)
        aux.append(note)
    n = len(samples)
    return Annotations(np.asarray(samples, dtype=np.int64), ["+"] * n, fs, aux, np.zeros(n))

"""A small synthetic beat-sequence generator with truth events, for the rhythm tests.

Sinus rhythm has respiratory sinus arrhythmia, a slow rate drift and beat-to-beat jitter;
AF has independent RR intervals (gamma distributed, given mean rate and coefficient of
variation); ectopic beats, runs, bigeminy/trigeminy and pauses are inserted with the
coupling and compensatory intervals of real ones. Every call records the truth event it
creates (type, start_s, end_s) with the conventions of :mod:`holterlab.rhythm`.
"""

from __future__ import annotations

import numpy as np


class RRBuilder:
    """Build a beat sequence call by call; ``build()`` returns beats, labels and truth."""

    def __init__(
        self, fs: float = 250.0, seed: int = 0, start_s: float = 0.5, jitter_s: float = 0.004
    ) -> None:
        self.fs = fs
        self.rng = np.random.default_rng(seed)
        self.times: list[float] = [start_s]
        self.labels: list[str] = ["N"]
        self.truth: list[tuple[str, float, float]] = []
        self.jitter_s = jitter_s
        self.sinus_rr = 60.0 / 70.0
        self.phase = 0.0

    # ------------------------------------------------------------------ helpers
    @property
    def now(self) -> float:
        return self.times[-1]

    def _add(self, rr: float, label: str) -> None:
        self.times.append(self.now + rr)
        self.labels.append(label)

    def _next_sinus_rr(self, bpm: float, rsa: float, jitter: float) -> float:
        base = 60.0 / bpm
        # slow approach of the current sinus cycle to the target rate
        self.sinus_rr += 0.1 * (base - self.sinus_rr)
        self.phase += 2 * np.pi * self.sinus_rr / 4.0  # 15 breaths/min
        rr = self.sinus_rr * (1 + rsa * np.sin(self.phase)) * (1 + jitter * self.rng.normal())
        return float(rr)

    # ------------------------------------------------------------------ rhythms
    def sinus(
        self,
        duration_s: float,
        bpm: float = 70.0,
        rsa: float = 0.04,
        jitter: float = 0.01,
        ectopy: float = 0.0,
    ) -> RRBuilder:
        """Sinus rhythm; ``ectopy`` = probability per beat of an isolated S or V beat."""
        end = self.now + duration_s
        while self.now < end:
            # isolated ectopy only after 6 N beats: random beats never form bigeminy/trigeminy
            if ectopy and self.rng.random() < ectopy and set(self.labels[-6:]) == {"N"}:
                self.ectopic("S" if self.rng.random() < 0.5 else "V", record=False)
            else:
                self._add(self._next_sinus_rr(bpm, rsa, jitter), "N")
        return self

    def af(
        self, duration_s: float, bpm: float = 90.0, cv: float = 0.2, record: bool = True
    ) -> RRBuilder:
        """Atrial fibrillation: independent gamma-distributed RR intervals."""
        start = self.now
        end = self.now + duration_s
        mean = 60.0 / bpm
        k = 1.0 / cv**2
        while self.now < end:
            rr = max(0.3, float(self.rng.gamma(k, mean / k)))
            self._add(rr, "N")
        if record:
            self.truth.append(("af", start, self.now))
        return self

    def ectopic(self, label: str, coupling: float = 0.6, record: bool = True) -> RRBuilder:
        """One premature beat (S: non-compensatory pause; V: full compensatory pause),
        followed by one sinus beat."""
        rr = self.sinus_rr
        self._add(coupling * rr, label)
        self._add((2.0 - coupling) * rr if label == "V" else 1.1 * rr, "N")
        return self

    def run(self, label: str, n: int, bpm: float, coupling: float = 0.6) -> RRBuilder:
        """A run of ``n`` ectopic beats at ``bpm``, then a sinus beat."""
        rr = self.sinus_rr
        self._add(min(coupling * rr, 60.0 / bpm), label)
        start = self.now
        for _ in range(n - 1):
            self._add(60.0 / bpm, label)
        end = self.now
        self._add(1.2 * rr, "N")
        kind = {"V": "vt" if bpm >= 100 else "ivr", "S": "svt" if bpm >= 100 else "s_run"}
        # the run convention of holterlab.params.rhythm.EctopyParams: 2 couplet, 3 triplet,
        # >= 4 a run (VT/IVR, SVT/s_run by rate)
        names = {2: f"{label.lower()}_couplet", 3: f"{label.lower()}_triplet"}
        self.truth.append((names.get(n, kind[label]), start, end))
        return self

    def geminy(self, label: str, cycles: int, spacing: int, coupling: float = 0.6) -> RRBuilder:
        """Bigeminy (spacing 1) or trigeminy (spacing 2): ``cycles`` ectopic beats."""
        rr = self.sinus_rr
        first = len(self.times)
        for _ in range(cycles):
            for _ in range(spacing - 1):
                self._add(self._next_sinus_rr(60 / rr, 0.0, 0.005), "N")
            self._add(coupling * rr, label)
            self._add((2.0 - coupling) * rr if label == "V" else 1.1 * rr, "N")
        # episode: from the N beat(s) before the first ectopic beat to the last ectopic beat
        first_ectopic = first + (spacing - 1)
        start = self.times[first_ectopic - spacing]
        end = self.times[-2]
        name = "bigeminy" if spacing == 1 else "trigeminy"
        self.truth.append((f"{label.lower()}_{name}", start, end))
        return self

    def pause(self, rr_s: float) -> RRBuilder:
        """One long N-N interval."""
        start = self.now
        self._add(rr_s, "N")
        self.truth.append(("pause", start, self.now))
        return self

    def rate_episode(self, kind: str, duration_s: float, bpm: float) -> RRBuilder:
        """Sinus brady- or tachycardia recorded as truth."""
        start = self.now
        self.sinus_rr = 60.0 / bpm
        self.sinus(duration_s, bpm=bpm, rsa=0.02)
        self.truth.append((kind, start, self.now))
        return self

    def build(self) -> tuple[np.ndarray, np.ndarray, list[tuple[str, float, float]]]:
        t = np.asarray(self.times)
        if self.jitter_s:
            t = t + self.rng.uniform(-self.jitter_s, self.jitter_s, t.size)
        beats = np.round(t * self.fs).astype(np.int64)
        return beats, np.asarray(self.labels), list(self.truth)


def from_pattern(
    pattern: str, rr_s: float = 0.8, fs: float = 250.0, start_s: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Beats at a constant RR with the labels of ``pattern`` (spaces ignored), e.g. "NNVN"."""
    labels = np.array([c for c in pattern if not c.isspace()])
    t = start_s + rr_s * np.arange(labels.size)
    return np.round(t * fs).astype(np.int64), labels


def from_times(times, labels, fs: float = 250.0) -> tuple[np.ndarray, np.ndarray]:
    """Beats at the given times (s) with the given labels."""
    return np.round(np.asarray(times, dtype=float) * fs).astype(np.int64), np.asarray(list(labels))

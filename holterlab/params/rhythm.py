"""Parameters of the rhythm stage: heart rate, pauses, ectopy and atrial fibrillation.

All four objects are frozen and validated (see :mod:`holterlab.params.base`); they are nested
in :class:`RhythmParams`, the object :func:`holterlab.rhythm.analyze_rhythm` takes. Units are
physiological: bpm, seconds, milliseconds, beats, clock hours.
"""

from __future__ import annotations

from dataclasses import dataclass

from holterlab.errors import ParameterError
from holterlab.params.base import Params, param_field

__all__ = ["RateParams", "PauseParams", "EctopyParams", "AFParams", "RhythmParams"]


@dataclass(frozen=True)
class RateParams(Params):
    """Heart-rate summary, day/night split, brady- and tachycardia episodes.

    Minimum and maximum heart rate are taken from a running average (as Holter systems
    report them): with ``minmax_basis="window"`` the rate of every window of
    ``minmax_window_s`` seconds that ends on a beat (beats / time, windows covering less than
    80 % analysable time are skipped); with ``"beats"`` the mean rate of every
    ``minmax_beats`` consecutive RR intervals. The mean rate is beats per analysable minute.
    Brady/tachy episodes use a centred ``episode_average_beats``-interval running rate that
    stays below ``brady_bpm`` (above ``tachy_bpm``) for at least the minimum duration.

    Convention (as clinical Holter reports): brady- and tachycardia are *sinus* rate episodes.
    With ``rate_episodes_exclude_arrhythmia`` (default) beats inside AF/flutter episodes and
    inside VT/IVR/SVT/slow-S runs never belong to a brady/tachy episode: AF with a fast
    ventricular response is reported as AF (with its rate), 2:1 flutter as flutter, a VT run as
    VT, not also as "tachycardia". An ectopic run of at most ``rate_episodes_bridge_s`` inside
    a sinus brady/tachycardia does not split it (its beats are skipped); AF/flutter episodes
    always end it. The holterlab.synth truth follows the same convention.
    """

    stage = "rhythm.rate"
    minmax_basis: str = param_field(
        "window", choices=("window", "beats"), doc="running average used for min/max HR"
    )
    minmax_window_s: float = param_field(
        60.0, unit="s", min=5.0, max=3600.0, doc="window of the min/max running average"
    )
    minmax_beats: int = param_field(
        8, unit="beats", min=2, max=1000, doc="RR intervals averaged when minmax_basis=beats"
    )
    day_start_h: float = param_field(
        7.0, unit="h", min=0.0, max=24.0, doc="clock hour the day period starts (07:00)"
    )
    night_start_h: float = param_field(
        23.0, unit="h", min=0.0, max=24.0, doc="clock hour the night period starts (23:00)"
    )
    brady_bpm: float = param_field(
        50.0, unit="bpm", min=20.0, max=100.0, doc="bradycardia: running rate below this"
    )
    brady_min_duration_s: float = param_field(
        60.0, unit="s", min=0.0, max=86400.0, doc="shortest bradycardia episode reported"
    )
    tachy_bpm: float = param_field(
        100.0, unit="bpm", min=60.0, max=300.0, doc="tachycardia: running rate above this"
    )
    tachy_min_duration_s: float = param_field(
        60.0, unit="s", min=0.0, max=86400.0, doc="shortest tachycardia episode reported"
    )
    episode_average_beats: int = param_field(
        8, unit="beats", min=1, max=200, doc="RR intervals in the brady/tachy running rate"
    )
    max_rr_s: float = param_field(
        10.0,
        unit="s",
        min=2.0,
        max=120.0,
        doc="longer RR intervals are left out of rate averages (they still count as pauses)",
    )
    rate_episodes_exclude_arrhythmia: bool = param_field(
        True,
        doc="brady/tachy episodes leave out AF/flutter episodes and VT/IVR/SVT runs (sinus only)",
    )
    rate_episodes_bridge_s: float = param_field(
        30.0,
        unit="s",
        min=0.0,
        max=3600.0,
        doc="an ectopic run up to this long inside a brady/tachy episode does not split it",
    )

    def validate(self) -> None:
        if self.day_start_h == self.night_start_h:
            raise ParameterError("rhythm.rate.day_start_h and night_start_h must differ")
        if self.brady_bpm >= self.tachy_bpm:
            raise ParameterError("rhythm.rate.brady_bpm must be below tachy_bpm")


@dataclass(frozen=True)
class PauseParams(Params):
    """Pauses and sinus arrest.

    A pause is an RR interval of at least ``pause_s`` lying wholly in analysable time (never
    across excluded time). Each pause gets a ``kind``: ``"af"`` inside an AF/flutter episode,
    ``"post_ectopic"`` when it follows an S/V/F/Q beat, ``"sa_block"`` when both beats are N and
    the pause is within ``block_tolerance`` of a whole multiple (x2, x3, ...) of the
    underlying sinus cycle (median of up to 8 preceding N-N intervals), otherwise
    ``"sinus_arrest"`` (both beats N, not a multiple). A pause is flagged ``sinus_arrest``
    only if it is also at least ``sinus_arrest_s`` long.
    """

    stage = "rhythm.pause"
    pause_s: float = param_field(
        2.0, unit="s", min=1.0, max=30.0, doc="RR at or above this is a pause"
    )
    sinus_arrest_s: float = param_field(
        2.0, unit="s", min=1.0, max=30.0, doc="shortest N-N pause that may be sinus arrest"
    )
    block_tolerance: float = param_field(
        0.1,
        min=0.0,
        max=0.5,
        doc="relative distance to a multiple of the sinus cycle that counts as SA block",
    )


@dataclass(frozen=True)
class EctopyParams(Params):
    """Ventricular (V) and supraventricular (S) ectopy.

    Run convention (one convention for the detector and the holterlab.synth truth): maximal
    sequences of consecutive ectopic beats of one class are counted by length. 1 = isolated,
    2 = **couplet**, 3 = **triplet**, and ``run_min_beats`` (default **4**) or more = a
    **run**, classified by its rate (mean of the RR intervals inside it): V runs at or above
    ``vt_rate_bpm`` are **VT** (non-sustained while shorter than 30 s), slower V runs
    **IVR** (idioventricular / accelerated idioventricular rhythm); S runs at or above
    ``svt_rate_bpm`` are **SVT**, slower ones ``s_run``. So a triplet is always reported as a
    triplet, never also as VT, as in Holter reports that list couplets, triplets and runs
    (>= 4 beats) separately. Set ``run_min_beats=3`` for the MIT-BIH / EC57 convention, in
    which every run of three or more ectopic beats is a run (VT when fast) and triplets are
    still counted in ``triplets``. Bigeminy (trigeminy) is a chain of at least
    ``bigeminy_min_cycles`` (``trigeminy_min_cycles``) isolated ectopic beats each separated
    from the next by exactly one (two) N beats. S beats inside AF/flutter episodes, less
    than ``af_onset_s`` before one starts, or in an unbroken run of S beats continuing one for
    up to ``af_onset_s`` after its detected end, are not counted as S ectopy (AF takes
    precedence; the detected episode edges lag the true ones by a few beats, whose
    sudden shortening reads as S beats). With ``fusion_in_runs`` F beats within a
    sequence of V and F beats holding at least two V beats count as beats of the run.
    """

    stage = "rhythm.ectopy"
    run_min_beats: int = param_field(
        4,
        unit="beats",
        min=3,
        max=20,
        doc="shortest run classified as VT/IVR or SVT (3-beat runs are triplets)",
    )
    fusion_in_runs: bool = param_field(
        True,
        doc="F (fusion) beats between V beats belong to the ventricular run (>= 2 V beats)",
    )
    vt_rate_bpm: float = param_field(
        100.0, unit="bpm", min=40.0, max=300.0, doc="V runs at or above this rate are VT"
    )
    svt_rate_bpm: float = param_field(
        100.0, unit="bpm", min=40.0, max=300.0, doc="S runs at or above this rate are SVT"
    )
    bigeminy_min_cycles: int = param_field(
        3, unit="beats", min=2, max=100, doc="ectopic beats in the shortest bigeminy episode"
    )
    trigeminy_min_cycles: int = param_field(
        3, unit="beats", min=2, max=100, doc="ectopic beats in the shortest trigeminy episode"
    )
    af_onset_s: float = param_field(
        10.0,
        unit="s",
        min=0.0,
        max=60.0,
        doc="S beats this close before an AF/flutter episode (or in an S run just after it) "
        "belong to it, not to S ectopy",
    )


@dataclass(frozen=True)
class AFParams(Params):
    """Atrial fibrillation from RR irregularity (see :mod:`holterlab.rhythm.af`).

    Relative RR differences at lags 1..``lags`` (lags 2 and 3 suppress bigeminy and
    trigeminy), with intervals touching V/F/Q (and by default S) beats left out; AF starts
    where, over a centred window of ``window_beats`` intervals, the median difference at
    every lag reaches ``threshold`` and lasts while it reaches ``exit_threshold``. Episodes
    closer than ``merge_gap_s`` are merged, shorter than ``min_duration_s`` dropped.
    """

    stage = "rhythm.af"
    enabled: bool = param_field(True, doc="detect atrial fibrillation")
    window_beats: int = param_field(
        32, unit="beats", min=8, max=512, doc="RR intervals in the irregularity window"
    )
    s_intervals: str = param_field(
        "exclude",
        choices=("exclude", "include"),
        doc="leave out RR intervals touching S beats too (the window then counts N-N intervals)",
    )
    lags: int = param_field(
        3, min=1, max=4, doc="RR lags compared (1: plain successive differences)"
    )
    threshold: float = param_field(
        0.08, min=0.005, max=1.0, doc="windowed irregularity at which an AF episode starts"
    )
    exit_threshold: float = param_field(
        0.07, min=0.005, max=1.0, doc="an AF episode lasts while the irregularity stays above this"
    )
    min_duration_s: float = param_field(
        30.0, unit="s", min=0.0, max=86400.0, doc="shortest AF episode reported"
    )
    merge_gap_s: float = param_field(
        10.0, unit="s", min=0.0, max=600.0, doc="AF episodes closer than this are merged"
    )
    min_rr_s: float = param_field(
        0.2, unit="s", min=0.1, max=1.0, doc="shorter RR intervals are left out (artefact)"
    )
    max_rr_s: float = param_field(
        3.0, unit="s", min=1.0, max=10.0, doc="longer RR intervals are left out (pauses)"
    )
    return_cycle_mad: float = param_field(
        0.06,
        min=0.0,
        max=0.5,
        doc="S-to-N return cycles this regular (MAD / median) mark sinus rhythm with APCs; 0: off",
    )
    return_cycle_count: int = param_field(
        8, unit="beats", min=4, max=64, doc="consecutive return cycles in that test"
    )
    return_cycle_ratio: float = param_field(
        2.0,
        min=1.0,
        max=10.0,
        doc="those return cycles must be this many times the coupling interval (prematurity)",
    )
    return_cycle_spacing: int = param_field(
        4,
        unit="beats",
        min=2,
        max=64,
        doc="those return cycles must span at most this many beats per S beat (dense APCs)",
    )
    afl_min_atrial_bpm: float = param_field(
        240.0, unit="bpm", min=150.0, max=400.0, doc="flutter atrial rate, lower bound"
    )
    afl_max_atrial_bpm: float = param_field(
        350.0, unit="bpm", min=200.0, max=500.0, doc="flutter atrial rate, upper bound"
    )

    def validate(self) -> None:
        if self.min_rr_s >= self.max_rr_s:
            raise ParameterError("rhythm.af.min_rr_s must be below max_rr_s")
        if self.exit_threshold > self.threshold:
            raise ParameterError("rhythm.af.exit_threshold must not exceed threshold")
        if self.afl_min_atrial_bpm >= self.afl_max_atrial_bpm:
            raise ParameterError("rhythm.af.afl_min_atrial_bpm must be below afl_max_atrial_bpm")


@dataclass(frozen=True)
class RhythmParams(Params):
    """All parameters of the rhythm stage."""

    stage = "rhythm"
    rate: RateParams = param_field(RateParams())
    pause: PauseParams = param_field(PauseParams())
    ectopy: EctopyParams = param_field(EctopyParams())
    af: AFParams = param_field(AFParams())

"""Parameters of the heart-rate-variability stage (:mod:`holterlab.hrv`).

Defaults follow the Task Force of the ESC and NASPE (1996) for HRV, Peng et al. (1995) for
DFA and Schmidt et al. (1999) / Bauer et al. (2008) for heart-rate turbulence. Every choice
that the standards leave open is documented with its field.
"""

from __future__ import annotations

import dataclasses

from holterlab.errors import ParameterError
from holterlab.params.base import Params, param_field

__all__ = ["HRVParams"]


def _check_window(name: str, start: float, end: float) -> None:
    if start == end:
        raise ParameterError(f"hrv.{name}_start_h and hrv.{name}_end_h must differ (empty window)")


@dataclasses.dataclass(frozen=True)
class HRVParams(Params):
    """Parameters of :func:`holterlab.hrv.compute_hrv` and its parts."""

    stage = "hrv"

    # ----------------------------------------------------------------- NN series
    min_rr_ms: float = param_field(
        300.0, unit="ms", min=100, max=1000, doc="shortest RR interval accepted as NN"
    )
    max_rr_ms: float = param_field(
        2000.0, unit="ms", min=500, max=6000, doc="longest RR interval accepted as NN"
    )
    change_filter: bool = param_field(
        False,
        doc=(
            "reject an NN interval that differs by more than max_change_pct from the last "
            "accepted NN interval (off by default: it also removes genuine sinus arrhythmia)"
        ),
    )
    max_change_pct: float = param_field(
        20.0, unit="%", min=1, max=100, doc="percent-change limit of the change filter"
    )
    change_reset_s: float = param_field(
        10.0,
        unit="s",
        min=1,
        max=600,
        doc=(
            "the change filter forgets its reference when the last accepted NN interval ended "
            "more than this long before the candidate starts (avoids lock-out after a gap)"
        ),
    )

    # ----------------------------------------------------------------- time domain
    histogram_bin_ms: float = param_field(
        1000.0 / 128.0,
        unit="ms",
        min=1,
        max=50,
        doc="bin width of the NN histogram (triangular index, TINN); Task Force: 1/128 s",
    )
    pnn_threshold_ms: float = param_field(
        50.0, unit="ms", min=1, max=200, doc="successive-difference threshold of pNN50"
    )

    # ----------------------------------------------------------------- segments
    segment_s: float = param_field(
        300.0, unit="s", min=30, max=3600, doc="short-term segment length (SDANN, spectra)"
    )
    segment_min_coverage_pct: float = param_field(
        80.0,
        unit="%",
        min=1,
        max=100,
        doc="a segment counts when its NN intervals cover at least this share of it",
    )

    # ----------------------------------------------------------------- frequency domain
    resample_hz: float = param_field(
        4.0, unit="Hz", min=1, max=20, doc="rate of the evenly resampled NN series"
    )
    ulf_max_hz: float = param_field(0.003, unit="Hz", min=0.0001, max=0.01, doc="ULF: <= this")
    ulf_min_hours: float = param_field(
        18.0,
        unit="h",
        min=0.0,
        max=168.0,
        doc="ULF power is reported only for NN series spanning at least this long (Task Force "
        "1996: ULF is a 24-hour measure; a few hours hold only a few ULF cycles)",
    )
    vlf_max_hz: float = param_field(0.04, unit="Hz", min=0.01, max=0.1, doc="VLF upper edge")
    lf_max_hz: float = param_field(0.15, unit="Hz", min=0.05, max=0.3, doc="LF upper edge")
    hf_max_hz: float = param_field(0.4, unit="Hz", min=0.2, max=1.0, doc="HF upper edge")

    # ----------------------------------------------------------------- nonlinear
    dfa_short_min: int = param_field(4, unit="beats", min=3, max=64, doc="alpha1 smallest box")
    dfa_short_max: int = param_field(16, unit="beats", min=4, max=256, doc="alpha1 largest box")
    dfa_long_min: int = param_field(16, unit="beats", min=4, max=256, doc="alpha2 smallest box")
    dfa_long_max: int = param_field(64, unit="beats", min=8, max=4096, doc="alpha2 largest box")

    # ----------------------------------------------------------------- turbulence
    hrt_min_vpb: int = param_field(
        1, min=1, max=1000, doc="fewest qualifying VPBs for TO/TS (else they are undefined)"
    )
    hrt_n_before: int = param_field(
        2, unit="beats", min=2, max=20, doc="sinus RR intervals required before the coupling"
    )
    hrt_n_after: int = param_field(
        15, unit="beats", min=5, max=30, doc="sinus RR intervals required after the pause"
    )
    hrt_reference_n: int = param_field(
        5, unit="beats", min=1, max=20, doc="sinus RR intervals averaged into the reference"
    )
    hrt_min_prematurity_pct: float = param_field(
        20.0, unit="%", min=0, max=80, doc="coupling interval at most (100 - this)% of reference"
    )
    hrt_min_pause_pct: float = param_field(
        20.0, unit="%", min=0, max=200, doc="compensatory pause at least (100 + this)% of ref."
    )
    hrt_max_deviation_pct: float = param_field(
        20.0, unit="%", min=1, max=100, doc="sinus RR differing more from the reference: reject"
    )
    hrt_max_step_ms: float = param_field(
        200.0, unit="ms", min=10, max=2000, doc="sinus RR differing more from the previous: reject"
    )
    hrt_ts_window: int = param_field(5, unit="beats", min=3, max=10, doc="TS regression length")

    # ----------------------------------------------------------------- day / night
    day_start_h: float = param_field(8.0, unit="h", min=0, max=24, doc="day window start (clock)")
    day_end_h: float = param_field(20.0, unit="h", min=0, max=24, doc="day window end (clock)")
    night_start_h: float = param_field(0.0, unit="h", min=0, max=24, doc="night window start")
    night_end_h: float = param_field(6.0, unit="h", min=0, max=24, doc="night window end")

    def validate(self) -> None:
        if self.min_rr_ms >= self.max_rr_ms:
            raise ParameterError(
                f"hrv.min_rr_ms ({self.min_rr_ms}) must be below hrv.max_rr_ms ({self.max_rr_ms})"
            )
        if not (self.ulf_max_hz < self.vlf_max_hz < self.lf_max_hz < self.hf_max_hz):
            raise ParameterError(
                "hrv band edges must increase: ulf_max_hz < vlf_max_hz < lf_max_hz < hf_max_hz"
            )
        if self.hf_max_hz >= self.resample_hz / 2:
            raise ParameterError(
                f"hrv.resample_hz ({self.resample_hz} Hz) must exceed twice hf_max_hz "
                f"({self.hf_max_hz} Hz)"
            )
        if self.dfa_short_min >= self.dfa_short_max or self.dfa_long_min >= self.dfa_long_max:
            raise ParameterError("hrv DFA ranges need min < max (dfa_short_*, dfa_long_*)")
        if self.hrt_ts_window > self.hrt_n_after:
            raise ParameterError("hrv.hrt_ts_window cannot exceed hrv.hrt_n_after")
        _check_window("day", self.day_start_h, self.day_end_h)
        _check_window("night", self.night_start_h, self.night_end_h)

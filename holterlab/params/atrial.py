"""Parameters of the atrial-activity stage (:mod:`holterlab.atrial_activity`).

The stage blanks the QRS complexes, takes the spectrum of what is left in fixed windows and
reports the dominant atrial rate, how organised (flutter-like) the atrial activity is, and the
fraction of beats with a P wave. Frequencies in Hz, times in seconds, amplitudes in mV.
"""

from __future__ import annotations

from dataclasses import dataclass

from holterlab.errors import ParameterError
from holterlab.params.base import Params, param_field

__all__ = ["AtrialParams"]


@dataclass(frozen=True)
class AtrialParams(Params):
    """Atrial activity (flutter F waves, fibrillatory f waves, P waves) from the signal."""

    stage = "atrial"
    enabled: bool = param_field(
        True, doc="measure atrial activity (needed to report flutter; refines AF)"
    )
    window_s: float = param_field(
        8.0, unit="s", min=4.0, max=60.0, doc="length of each spectral measurement window"
    )
    step_s: float = param_field(
        8.0, unit="s", min=1.0, max=60.0, doc="windows start every step_s seconds"
    )
    blank_before_s: float = param_field(
        0.05, unit="s", min=0.0, max=0.2, doc="QRS blanking starts this long before each beat"
    )
    blank_after_s: float = param_field(
        0.08, unit="s", min=0.0, max=0.3, doc="QRS blanking ends this long after each beat"
    )
    band_low_hz: float = param_field(
        3.0, unit="Hz", min=1.0, max=10.0, doc="lowest atrial frequency searched (180/min)"
    )
    band_high_hz: float = param_field(
        12.0, unit="Hz", min=5.0, max=25.0, doc="highest atrial frequency searched (720/min)"
    )
    peak_halfwidth_hz: float = param_field(
        0.3, unit="Hz", min=0.05, max=2.0, doc="half width of a spectral peak (organisation)"
    )
    noise_low_hz: float = param_field(
        20.0, unit="Hz", min=10.0, max=100.0, doc="noise floor band, lower edge"
    )
    noise_high_hz: float = param_field(
        40.0, unit="Hz", min=15.0, max=200.0, doc="noise floor band, upper edge"
    )
    min_snr: float = param_field(
        4.0,
        min=1.0,
        max=1000.0,
        doc="atrial band power density / noise density below which no rate is reported",
    )
    min_atrial_mv: float = param_field(
        0.02,
        unit="mV",
        min=0.0,
        max=1.0,
        doc="RMS of the dominant atrial component (all leads) below which no rate is reported",
    )
    harmonic_tolerance: float = param_field(
        0.05,
        min=0.0,
        max=0.2,
        doc="relative distance at which the atrial peak counts as a ventricular harmonic",
    )
    ventricular_ratio: float = param_field(
        0.6,
        min=0.0,
        max=100.0,
        doc="a peak at k x ventricular rate is atrial only if its power exceeds this times "
        "the strongest other ventricular harmonic",
    )
    metronomic_cv: float = param_field(
        0.01,
        min=0.0,
        max=0.1,
        doc="RR coefficient of variation below which a window's rhythm is metronomic "
        "(fixed flutter conduction)",
    )
    metronomic_ratio: float = param_field(
        0.4,
        min=0.0,
        max=100.0,
        doc="ventricular_ratio used in metronomic windows",
    )
    p_start_s: float = param_field(
        0.26, unit="s", min=0.1, max=0.5, doc="P-wave search starts this long before the QRS"
    )
    p_end_s: float = param_field(
        0.06, unit="s", min=0.0, max=0.2, doc="P-wave search ends this long before the QRS"
    )
    p_min_mv: float = param_field(
        0.04, unit="mV", min=0.0, max=1.0, doc="smallest P template (peak to peak) counted"
    )
    p_min_corr: float = param_field(
        0.6,
        min=0.0,
        max=1.0,
        doc="a beat has a P wave if it correlates this well with the P template",
    )
    min_beats: int = param_field(
        3, unit="beats", min=1, max=100, doc="windows with fewer beats report nothing"
    )

    def validate(self) -> None:
        if self.band_low_hz >= self.band_high_hz:
            raise ParameterError("atrial.band_low_hz must be below band_high_hz")
        if self.noise_low_hz >= self.noise_high_hz:
            raise ParameterError("atrial.noise_low_hz must be below noise_high_hz")
        if self.p_end_s >= self.p_start_s:
            raise ParameterError("atrial.p_end_s must be below p_start_s (both before the QRS)")
        if self.step_s > self.window_s:
            raise ParameterError(
                "atrial.step_s must not exceed window_s (windows would leave gaps)"
            )

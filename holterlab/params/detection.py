"""Parameters of signal quality (:mod:`holterlab.quality`) and QRS detection
(:mod:`holterlab.beats.detect`).

Both objects are frozen and validated (see :mod:`holterlab.params.base`). Units are
physiological: milliseconds, seconds, hertz, millivolts, bpm. The defaults were tuned on the
DS1 training split of the MIT-BIH Arrhythmia Database (de Chazal et al. 2004) and hold from
125 Hz to 1000 Hz sampling rates.
"""

from __future__ import annotations

from dataclasses import dataclass

from holterlab.errors import ParameterError
from holterlab.params.base import Params, param_field

__all__ = ["QualityParams", "DetectionParams"]


@dataclass(frozen=True)
class QualityParams(Params):
    """Per-lead, per-segment signal quality.

    Every lead is cut into segments of ``segment_s`` seconds on a fixed grid from the first
    sample. A segment of one lead is

    * *missing* when more than ``max_missing_pct`` of its samples are NaN/inf (gaps);
    * *flat* (lead off) when its peak-to-peak amplitude is below ``flat_mv``, or when more
      than ``max_constant_pct`` of it sits on runs of identical values at least
      ``saturation_ms`` long (a lead off for part of the segment);
    * *saturated* when more than ``saturation_pct`` of it sits on plateaus of identical
      values at least ``saturation_ms`` long at the segment's extreme (clipping at the ADC
      rail), or beyond ``max_abs_mv``;
    * *noisy* when the ratio of QRS slope to background slope (the signal-to-noise ratio of a
      band-limited derivative, QRS level taken over ``reference_segments`` segments around
      it) is below ``noisy_snr``, and *unusable noise* below ``unusable_snr``;
    * *no ECG* when it shows no QRS complexes over ``ecg_window_s`` (medians of per-segment
      values): its QRS band (5-30 Hz) is not spiky (kurtosis below ``ecg_kurtosis``) and
      either its amplitude is below ``qrs_min_mv`` (baseline wander, amplifier noise) or
      its high-frequency (~40 Hz) content exceeds ``hf_ratio_max`` times its QRS-band
      content (muscle noise) — the latter only where no lead shows ECG, since ECG under
      heavy muscle noise still helps the multi-lead detector.

    A segment is *unusable* when it is missing, flat, saturated, unusable noise or no ECG.
    Time where no lead is usable is excluded from detection and analysis and reported as
    noise.
    """

    stage = "quality"
    segment_s: float = param_field(
        2.0, unit="s", min=0.5, max=10.0, doc="segment length of the quality grid"
    )
    flat_mv: float = param_field(
        0.02,
        unit="mV",
        min=0.0,
        max=1.0,
        doc="a segment whose peak-to-peak amplitude is below this is flat (lead off)",
    )
    saturation_ms: float = param_field(
        40.0,
        unit="ms",
        min=5.0,
        max=1000.0,
        doc="shortest run of identical values at the segment extreme counted as clipping",
    )
    max_constant_pct: float = param_field(
        25.0,
        unit="%",
        min=0.0,
        max=100.0,
        doc="a segment with more of its samples on runs of identical values (at least "
        "saturation_ms long) is flat: the lead is off for part of it",
    )
    saturation_pct: float = param_field(
        10.0,
        unit="%",
        min=0.0,
        max=100.0,
        doc="a segment with more clipped samples than this is saturated",
    )
    max_abs_mv: float = param_field(
        1.0e4,
        unit="mV",
        min=1.0,
        max=1.0e9,
        doc="samples beyond +-this are treated as saturated (garbage; no ECG is this large)",
    )
    max_missing_pct: float = param_field(
        50.0, unit="%", min=0.0, max=100.0, doc="a segment with more NaN samples is missing"
    )
    noise_band_ms: float = param_field(
        8.0,
        unit="ms",
        min=1.0,
        max=50.0,
        doc="lag of the derivative x[n] - x[n-lag] used for slopes (band-limits the noise)",
    )
    reference_segments: int = param_field(
        5,
        unit="segments",
        min=1,
        max=61,
        doc="segments (odd, centred) over which the QRS slope level is taken",
    )
    noisy_snr: float = param_field(
        6.0, min=1.0, max=100.0, doc="QRS-to-background slope ratio below which a segment is noisy"
    )
    unusable_snr: float = param_field(
        1.8,
        min=0.0,
        max=100.0,
        doc="ratio below which a noisy segment is unusable (excluded from analysis)",
    )
    min_event_s: float = param_field(
        4.0, unit="s", min=0.0, max=3600.0, doc="shortest excluded stretch reported as an event"
    )
    qrs_min_mv: float = param_field(
        0.06,
        unit="mV",
        min=0.0,
        max=10.0,
        doc="a lead whose QRS-band amplitude (median over ecg_window_s of segment maxima) is "
        "below this while its QRS band is not spiky (kurtosis below ecg_kurtosis) shows no "
        "ECG (baseline wander or amplifier noise only). Kept low so that low-voltage ECG "
        "(a quarter of the usual gain) stays usable",
    )
    hf_ratio_max: float = param_field(
        1.1,
        min=0.0,
        max=100.0,
        doc="a lead whose high-frequency (~40 Hz) to QRS-band rms ratio is above this and whose "
        "QRS-band kurtosis is below ecg_kurtosis (medians over ecg_window_s) shows muscle "
        "noise, not ECG",
    )
    ecg_kurtosis: float = param_field(
        7.0,
        min=0.0,
        max=100.0,
        doc="QRS-band kurtosis above which a lead is spiky enough to be ECG whatever its "
        "high-frequency content (Gaussian noise: 3; NSTDB muscle noise: 4-6; ECG under heavy "
        "muscle noise: 6-8; clean ECG: 8-25)",
    )
    ecg_window_s: float = param_field(
        30.0,
        unit="s",
        min=0.0,
        max=600.0,
        doc="window of the medians of the no-ECG test (pauses and asystole shorter than half "
        "of it stay analysable)",
    )

    min_island_s: float = param_field(
        30.0,
        unit="s",
        min=0.0,
        max=3600.0,
        doc="usable time shorter than this between two excluded stretches of at least "
        "island_gap_s (or one and the recording's edge) is excluded too (a loose electrode "
        "touching for a moment); 0: never",
    )
    island_gap_s: float = param_field(
        60.0,
        unit="s",
        min=0.0,
        max=86400.0,
        doc="excluded stretches at least this long isolate a short usable one (min_island_s)",
    )

    def validate(self) -> None:
        if self.reference_segments % 2 != 1:
            raise ParameterError(
                f"quality.reference_segments must be odd, got {self.reference_segments}"
            )
        if self.unusable_snr > self.noisy_snr:
            raise ParameterError("quality.unusable_snr must not exceed quality.noisy_snr")


@dataclass(frozen=True)
class DetectionParams(Params):
    """Multi-lead QRS detection.

    Each lead is band-passed (``band_low_hz``-``band_high_hz``), differentiated, squared and
    integrated over ``integration_ms``; the root of that is the lead's QRS energy envelope.
    Envelopes are normalised by their running QRS level (median of ``scale_blocks`` block
    maxima) and fused with weights that follow each lead's signal-to-noise ratio (block
    length ``block_ms``; power mean of exponent ``fusion_power``). One adaptive-threshold
    detector (Pan-Tompkins style: signal and noise levels, ``threshold`` and
    ``noise_factor``, refractory period, T-wave check, search-back) runs on the fused
    envelope; a verification step rejects candidates that are weak in one lead, early and
    unlike the running beat template. The fiducial point is placed on the largest absolute
    value of a zero-phase QRS-band signal (difference of ``fiducial_short_ms`` and
    ``fiducial_long_ms`` moving averages) of the reference lead.
    """

    stage = "detection"
    band_low_hz: float = param_field(
        5.0, unit="Hz", min=0.5, max=30.0, doc="lower edge of the QRS band-pass"
    )
    band_high_hz: float = param_field(
        15.0, unit="Hz", min=5.0, max=60.0, doc="upper edge of the QRS band-pass"
    )
    integration_ms: float = param_field(
        120.0, unit="ms", min=30.0, max=300.0, doc="moving-integration window of the envelope"
    )
    block_ms: float = param_field(
        1000.0, unit="ms", min=250.0, max=5000.0, doc="block length of lead scaling and weights"
    )
    scale_blocks: int = param_field(
        9, unit="blocks", min=1, max=61, doc="blocks (odd, centred) of the running QRS level"
    )
    level_floor: float = param_field(
        0.1,
        min=0.0,
        max=1.0,
        doc="a lead's QRS level never drops below this x its largest level of the last "
        "level_memory_s (so noise in asystole or lead-off is not scaled up to QRS size)",
    )
    level_memory_s: float = param_field(
        120.0, unit="s", min=0.0, max=3600.0, doc="memory of the QRS level floor"
    )
    min_activity: float = param_field(
        0.25,
        min=0.0,
        max=1.0,
        doc="a block where no lead reaches this x its largest QRS level of the last "
        "level_memory_s holds no QRS (asystole or lead-off noise is not detected)",
    )
    artefact_ratio: float = param_field(
        4.0,
        min=1.0,
        max=1000.0,
        doc="a lead whose block maximum exceeds this x its QRS level loses weight (artefact)",
    )
    fusion_power: float = param_field(
        0.5, min=0.1, max=2.0, doc="exponent of the weighted power mean that fuses the leads"
    )
    refractory_ms: float = param_field(
        200.0, unit="ms", min=120.0, max=400.0, doc="no second beat within this time"
    )
    twave_ms: float = param_field(
        360.0, unit="ms", min=200.0, max=600.0, doc="window after a beat of the T-wave check"
    )
    twave_ratio: float = param_field(
        0.5, min=0.0, max=1.0, doc="a peak in the T-wave window below this x last beat is a T"
    )
    threshold: float = param_field(
        0.25, min=0.05, max=0.9, doc="detection threshold as a fraction of the signal level"
    )
    noise_factor: float = param_field(
        2.5, min=0.0, max=10.0, doc="the threshold is at least this times the noise level"
    )
    max_threshold: float = param_field(
        0.5,
        min=0.1,
        max=1.0,
        doc="the threshold never exceeds this x the signal level (no lock-out in noise)",
    )
    level_clip: float = param_field(
        2.0,
        min=1.0,
        max=100.0,
        doc="a beat raises the signal level as if it were at most this x the level "
        "(one huge artefact cannot blind the detector)",
    )
    replace_ratio: float = param_field(
        1.5, min=1.0, max=10.0, doc="a peak this much larger within the refractory period wins"
    )
    searchback_rr: float = param_field(
        1.66, min=1.2, max=5.0, doc="search back when no beat came for this x the mean RR"
    )
    searchback_threshold: float = param_field(
        0.8, min=0.2, max=1.0, doc="search-back threshold as a fraction of the threshold"
    )
    verify: bool = param_field(True, doc="reject one-lead, early, atypical candidates")
    verify_lead_ratio: float = param_field(
        0.35, min=0.0, max=1.0, doc="weakest lead below this x its beat level: suspicious"
    )
    verify_next_rr: float = param_field(
        0.85, min=0.0, max=2.0, doc="next beat sooner than this x the median RR: suspicious"
    )
    verify_correlation: float = param_field(
        0.94, min=-1.0, max=1.0, doc="template correlation below this: suspicious"
    )
    template_ms: float = param_field(
        60.0, unit="ms", min=20.0, max=200.0, doc="half width of the beat template window"
    )
    template_rate: float = param_field(
        0.1, min=0.001, max=1.0, doc="update rate of the running beat templates"
    )
    templates: int = param_field(
        4, min=1, max=16, doc="beat templates kept (one per recent morphology)"
    )
    template_match: float = param_field(
        0.85, min=-1.0, max=1.0, doc="correlation at which a beat updates a template"
    )
    min_lead_weight: float = param_field(
        0.2, min=0.0, max=1.0, doc="leads below this x the largest weight are ignored per beat"
    )
    fiducial_lead_weight: float = param_field(
        0.3,
        min=0.0,
        max=1.0,
        doc="the fiducial lead is the first lead with at least this x the largest weight",
    )
    fiducial_before_ms: float = param_field(
        200.0, unit="ms", min=50.0, max=400.0, doc="fiducial search starts this before the peak"
    )
    fiducial_after_ms: float = param_field(
        20.0, unit="ms", min=-50.0, max=200.0, doc="fiducial search ends this after the peak"
    )
    fiducial_short_ms: float = param_field(
        14.0, unit="ms", min=1.0, max=60.0, doc="short moving average of the fiducial signal"
    )
    fiducial_long_ms: float = param_field(
        160.0, unit="ms", min=40.0, max=500.0, doc="long moving average of the fiducial signal"
    )

    def validate(self) -> None:
        if self.band_low_hz >= self.band_high_hz:
            raise ParameterError("detection.band_low_hz must be below detection.band_high_hz")
        if self.scale_blocks % 2 != 1:
            raise ParameterError(f"detection.scale_blocks must be odd, got {self.scale_blocks}")
        if self.fiducial_short_ms >= self.fiducial_long_ms:
            raise ParameterError(
                "detection.fiducial_short_ms must be below detection.fiducial_long_ms"
            )
        if -self.fiducial_before_ms >= self.fiducial_after_ms:
            raise ParameterError("the fiducial search window is empty")

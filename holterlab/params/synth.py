"""Parameters of the synthetic Holter ECG generator (:mod:`holterlab.synth`).

Rates of events are per hour, rates of rhythms in bpm, durations in seconds, amplitudes in
mV. The defaults give a Holter-like day: a 24-hour recording holds every kind of event a few
times. :meth:`SynthParams.showcase` ("dense events") places every kind at least once even in
a short (10-minute to 1-hour) recording, which is what tests want.
"""

from __future__ import annotations

from dataclasses import dataclass

from holterlab.errors import ParameterError
from holterlab.params.base import Params, param_field

__all__ = ["SynthParams", "NOISE_LEVELS"]

#: Named noise levels accepted by the command line (``--noise low``).
NOISE_LEVELS = {"none": 0.0, "low": 0.5, "medium": 1.0, "high": 2.0, "extreme": 4.0}


def _rate(default: float, what: str) -> float:
    return param_field(default, unit="1/h", min=0.0, max=3600.0, doc=f"{what} per hour")


@dataclass(frozen=True)
class SynthParams(Params):
    """What the synthetic recording contains.

    The beat and rhythm schedule depends only on the rhythm fields and the seed; the noise
    fields never change it (a clean and a noisy render of one seed share every beat).
    """

    stage = "synth"

    # ---------------------------------------------------------------- sinus rhythm
    hr_day_bpm: float = param_field(
        78.0, unit="bpm", min=40.0, max=160.0, doc="mean sinus rate by day"
    )
    hr_night_bpm: float = param_field(
        60.0, unit="bpm", min=35.0, max=160.0, doc="mean sinus rate at night (23:00-07:00)"
    )
    start_hour: float = param_field(
        9.0, unit="h", min=0.0, max=24.0, doc="clock time the recording starts (sets day/night)"
    )
    rsa_fraction: float = param_field(
        0.03, unit="", min=0.0, max=0.2, doc="respiratory sinus arrhythmia: RR modulation depth"
    )
    respiration_hz: float = param_field(0.25, unit="Hz", min=0.1, max=0.6, doc="breathing rate")
    lf_fraction: float = param_field(
        0.02, unit="", min=0.0, max=0.2, doc="0.1 Hz (Mayer wave) RR modulation depth"
    )
    slow_fraction: float = param_field(
        0.06, unit="", min=0.0, max=0.3, doc="slow 1/f-like heart-rate variability (relative)"
    )

    # ---------------------------------------------------------------- ectopy
    pvc_per_hour: float = _rate(20.0, "isolated PVCs")
    pvc_foci: int = param_field(2, unit="", min=1, max=4, doc="distinct PVC morphologies")
    couplet_per_hour: float = _rate(0.5, "PVC couplets")
    triplet_per_hour: float = _rate(0.2, "PVC triplets (3 PVCs, no rhythm label)")
    pac_per_hour: float = _rate(15.0, "isolated PACs")
    fusion_per_hour: float = _rate(0.3, "fusion beats (F)")
    unclassified_per_hour: float = _rate(0.1, "unclassifiable beats (Q)")

    # ---------------------------------------------------------------- rhythm episodes
    af_per_hour: float = _rate(0.15, "atrial fibrillation episodes")
    af_min_s: float = param_field(120.0, unit="s", min=5.0, max=86400.0, doc="shortest AF episode")
    af_max_s: float = param_field(3600.0, unit="s", min=5.0, max=86400.0, doc="longest AF episode")
    af_rate_bpm: float = param_field(
        100.0, unit="bpm", min=40.0, max=200.0, doc="mean ventricular rate in AF"
    )
    af_rr_cv: float = param_field(
        0.2, unit="", min=0.05, max=0.5, doc="coefficient of variation of RR in AF"
    )
    afl_per_hour: float = _rate(0.12, "atrial flutter episodes")
    afl_min_s: float = param_field(
        60.0, unit="s", min=5.0, max=86400.0, doc="shortest flutter episode"
    )
    afl_max_s: float = param_field(
        1200.0, unit="s", min=5.0, max=86400.0, doc="longest flutter episode"
    )
    flutter_rate_bpm: float = param_field(
        300.0, unit="bpm", min=200.0, max=400.0, doc="atrial (F-wave) rate in flutter"
    )
    vt_per_hour: float = _rate(0.2, "ventricular tachycardia runs (>= 4 beats)")
    vt_min_bpm: float = param_field(120.0, unit="bpm", min=100.0, max=280.0, doc="slowest VT rate")
    vt_max_bpm: float = param_field(200.0, unit="bpm", min=100.0, max=280.0, doc="fastest VT rate")
    vt_max_beats: int = param_field(20, unit="beats", min=4, max=2000, doc="longest VT run")
    svt_per_hour: float = _rate(0.2, "supraventricular tachycardia runs")
    svt_min_bpm: float = param_field(
        140.0, unit="bpm", min=100.0, max=280.0, doc="slowest SVT rate"
    )
    svt_max_bpm: float = param_field(
        210.0, unit="bpm", min=100.0, max=280.0, doc="fastest SVT rate"
    )
    svt_max_s: float = param_field(30.0, unit="s", min=2.0, max=3600.0, doc="longest SVT run")
    ivr_per_hour: float = _rate(0.15, "idioventricular rhythm episodes")
    ivr_min_bpm: float = param_field(
        50.0, unit="bpm", min=20.0, max=130.0, doc="slowest idioventricular rate"
    )
    ivr_max_bpm: float = param_field(
        100.0, unit="bpm", min=20.0, max=130.0, doc="fastest idioventricular rate"
    )
    bigeminy_per_hour: float = _rate(0.15, "ventricular bigeminy episodes")
    trigeminy_per_hour: float = _rate(0.15, "ventricular trigeminy episodes")
    geminy_max_s: float = param_field(
        600.0, unit="s", min=10.0, max=86400.0, doc="longest bigeminy/trigeminy episode"
    )
    brady_per_hour: float = _rate(0.12, "sinus bradycardia episodes")
    brady_bpm: float = param_field(
        44.0, unit="bpm", min=30.0, max=59.0, doc="sinus rate in bradycardia episodes"
    )
    brady_max_s: float = param_field(
        1800.0, unit="s", min=30.0, max=86400.0, doc="longest bradycardia episode"
    )
    tachy_per_hour: float = _rate(0.15, "sinus tachycardia episodes")
    tachy_bpm: float = param_field(
        125.0, unit="bpm", min=101.0, max=200.0, doc="sinus rate in tachycardia episodes"
    )
    tachy_max_s: float = param_field(
        900.0, unit="s", min=30.0, max=86400.0, doc="longest tachycardia episode"
    )
    pause_per_hour: float = _rate(0.15, "sinus arrests (pauses)")
    pause_min_s: float = param_field(2.2, unit="s", min=1.0, max=20.0, doc="shortest sinus arrest")
    pause_max_s: float = param_field(3.5, unit="s", min=1.0, max=20.0, doc="longest sinus arrest")
    pause_threshold_s: float = param_field(
        2.0, unit="s", min=1.0, max=20.0, doc="every RR at or above this is listed as a pause"
    )

    # ---------------------------------------------------------------- ST episodes
    st_per_hour: float = _rate(0.15, "ST-depression episodes")
    st_depth_mv: float = param_field(
        0.3,
        unit="mV",
        min=0.0,
        max=1.0,
        doc="deepest ST depression at J+60 ms (episodes range from a third of it to all)",
    )
    st_min_s: float = param_field(60.0, unit="s", min=10.0, max=86400.0, doc="shortest ST episode")
    st_max_s: float = param_field(600.0, unit="s", min=10.0, max=86400.0, doc="longest ST episode")

    # ---------------------------------------------------------------- noise
    noise_level: float = param_field(
        1.0, unit="", min=0.0, max=10.0, doc="scales every noise source; 0 = clean signal"
    )
    baseline_mv: float = param_field(
        0.15, unit="mV", min=0.0, max=5.0, doc="baseline wander amplitude"
    )
    muscle_mv: float = param_field(0.012, unit="mV", min=0.0, max=1.0, doc="muscle (EMG) noise RMS")
    motion_per_hour: float = _rate(1.0, "motion artefacts")
    pop_per_hour: float = _rate(0.5, "electrode pops")
    lead_off_per_hour: float = _rate(0.1, "lead-off (flat) segments")
    noisy_per_hour: float = _rate(0.5, "periods of strong muscle noise")
    mains_hz: float = param_field(
        0.0,
        unit="Hz",
        choices=(0.0, 50.0, 60.0),
        doc="power-line interference frequency (0 = none)",
    )
    mains_mv: float = param_field(
        0.0, unit="mV", min=0.0, max=1.0, doc="power-line interference amplitude"
    )
    real_noise: float = param_field(
        0.0,
        unit="mV",
        min=0.0,
        max=5.0,
        doc="RMS of the real NSTDB noise (bw + ma records, looped) mixed in; 0 = none",
    )
    nstdb_dir: str = param_field("", doc="folder holding NSTDB bw.hea/ma.hea (real_noise > 0)")

    # ---------------------------------------------------------------- other
    adc_range_mv: float = param_field(
        10.0, unit="mV", min=1.0, max=100.0, doc="the signal saturates (clips) at +- this value"
    )
    guarantee_each: bool = param_field(False, doc="place every event kind at least once")

    def validate(self) -> None:
        pairs = [
            ("af_min_s", "af_max_s"),
            ("afl_min_s", "afl_max_s"),
            ("vt_min_bpm", "vt_max_bpm"),
            ("svt_min_bpm", "svt_max_bpm"),
            ("ivr_min_bpm", "ivr_max_bpm"),
            ("pause_min_s", "pause_max_s"),
            ("st_min_s", "st_max_s"),
        ]
        for lo, hi in pairs:
            if getattr(self, lo) > getattr(self, hi):
                raise ParameterError(
                    f"synth.{lo} ({getattr(self, lo)}) must not exceed synth.{hi} "
                    f"({getattr(self, hi)})"
                )
        if self.pause_min_s <= self.pause_threshold_s:
            raise ParameterError(
                "synth.pause_min_s must exceed synth.pause_threshold_s so that every sinus "
                "arrest counts as a pause"
            )
        if self.real_noise > 0 and not self.nstdb_dir:
            raise ParameterError(
                "synth.real_noise > 0 needs synth.nstdb_dir, the folder holding the NSTDB "
                "records bw and ma"
            )

    @classmethod
    def preset(cls, events: str = "normal", **changes: object) -> SynthParams:
        """Parameters for ``events="normal"`` (Holter-like rates) or ``"dense"`` (showcase)."""
        if events == "normal":
            return cls(**changes)  # type: ignore[arg-type]
        if events == "dense":
            return cls.showcase(**changes)
        raise ParameterError(f"events must be 'normal' or 'dense', got {events!r}")

    @classmethod
    def showcase(cls, **changes: object) -> SynthParams:
        """Dense events: every kind at least once, even in a 10-minute recording."""
        dense: dict[str, object] = dict(
            pvc_per_hour=240.0,
            couplet_per_hour=12.0,
            triplet_per_hour=6.0,
            pac_per_hour=200.0,
            fusion_per_hour=60.0,
            unclassified_per_hour=60.0,
            af_per_hour=1.0,
            af_min_s=40.0,
            af_max_s=120.0,
            afl_per_hour=1.0,
            afl_min_s=30.0,
            afl_max_s=60.0,
            vt_per_hour=4.0,
            vt_max_beats=12,
            svt_per_hour=4.0,
            svt_max_s=12.0,
            ivr_per_hour=2.0,
            bigeminy_per_hour=2.0,
            trigeminy_per_hour=2.0,
            geminy_max_s=40.0,
            brady_per_hour=1.0,
            brady_max_s=60.0,
            tachy_per_hour=1.0,
            tachy_max_s=60.0,
            pause_per_hour=6.0,
            st_per_hour=3.0,
            st_depth_mv=0.35,
            st_min_s=120.0,  # long enough that every episode meets the 1 mm / 1 min rule
            st_max_s=180.0,
            motion_per_hour=12.0,
            pop_per_hour=12.0,
            lead_off_per_hour=4.0,
            noisy_per_hour=6.0,
            guarantee_each=True,
        )
        dense.update(changes)
        return cls(**dense)  # type: ignore[arg-type]

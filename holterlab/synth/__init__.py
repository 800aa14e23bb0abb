"""Synthetic multi-lead Holter ECG with exact ground truth.

A recording of any length (seconds to 14 days), sampling rate and seed: sinus rhythm with
day/night rate, respiratory and slow heart-rate variability; PVCs (several foci, couplets,
triplets, bigeminy, trigeminy, VT, idioventricular runs), PACs and SVT, atrial fibrillation
and flutter, pauses, brady- and tachycardia, ST-depression episodes; baseline wander, muscle
noise, motion artefacts, electrode pops and lead-off segments.

Two stages: :func:`~holterlab.synth.schedule.build_schedule` draws every beat and event from
the seed; :class:`~holterlab.synth.source.SynthSource` renders any window of samples on demand
(the same samples however the recording is windowed), so writers stream long recordings.

>>> from holterlab.synth import synthesize, generate, SynthParams
>>> rec, truth = synthesize(hours=0.5, leads=3, fs=250, seed=1, params=SynthParams.showcase())
>>> generate("out/rec.hea", hours=24, leads=2, fs=250, seed=7)  # .hea .atr .truth.json
"""

from holterlab.params.synth import SynthParams
from holterlab.synth.api import SynthResult, generate, recording_from_schedule, synthesize
from holterlab.synth.schedule import Schedule, build_schedule
from holterlab.synth.source import SynthSource
from holterlab.synth.truth import Truth, build_truth

__all__ = [
    "SynthParams",
    "SynthResult",
    "generate",
    "synthesize",
    "recording_from_schedule",
    "Schedule",
    "build_schedule",
    "SynthSource",
    "Truth",
    "build_truth",
]

"""Signal processing helpers: zero-phase filters, baseline and mains removal, resampling."""

from holterlab.dsp.filters import (
    bandpass,
    design_sos,
    highpass,
    lowpass,
    mains_frequency,
    remove_baseline,
    remove_mains,
    resample,
    resample_indices,
)

__all__ = [
    "bandpass",
    "design_sos",
    "highpass",
    "lowpass",
    "mains_frequency",
    "remove_baseline",
    "remove_mains",
    "resample",
    "resample_indices",
]

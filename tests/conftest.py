"""Shared test fixtures: paths to the shared reference data and to temporary folders."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", module="wfdb")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HOLTERLAB_SHARED", REPO.parent / "shared")).resolve()
SHARED_DATA = SHARED / "data"
MITDB = SHARED_DATA / "mitdb"
NSTDB = SHARED_DATA / "nstdb"
NSRDB = SHARED_DATA / "nsrdb"
EDF_DIR = SHARED_DATA / "edf"
CSV_DIR = SHARED_DATA / "csv"
TEST_DATA = Path(__file__).resolve().parent / "data"

#: The DS1 training split of de Chazal et al. 2004 (all present in shared/data/mitdb).
DS1 = [
    101,
    106,
    108,
    109,
    112,
    114,
    115,
    116,
    118,
    119,
    122,
    124,
    201,
    203,
    205,
    207,
    208,
    209,
    215,
    220,
    223,
    230,
]
PACED = [102, 104, 107, 217]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared reference data not found at {SHARED_DATA} (set HOLTERLAB_SHARED)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def mitdb(shared_data: Path) -> Path:
    return MITDB

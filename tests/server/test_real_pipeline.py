"""End to end with the real analysis pipeline (and the real PDF renderer when it exists).

Skipped only while ``holterlab.pipeline`` cannot be imported; it turns on by itself.
"""

from __future__ import annotations

import importlib

import pytest

from tests.server.conftest import ServerProcess, create_key

try:
    importlib.import_module("holterlab.pipeline")
except ImportError as exc:  # pragma: no cover - until the pipeline lands
    pytest.skip(f"holterlab.pipeline is not available ({exc})", allow_module_level=True)


def _renderer_available() -> bool:
    try:
        return callable(importlib.import_module("holterlab.report").render_report)
    except (ImportError, AttributeError):
        return False


def test_real_pipeline_end_to_end(tmp_path):
    import holterlab
    from holterlab.client import HolterClient
    from holterlab.result import HolterResult
    from holterlab.synth import synthesize

    rec, _truth = synthesize(hours=0.05, leads=2, fs=250, seed=3)
    path = holterlab.write(rec, tmp_path / "synth.aiecg")
    data = tmp_path / "data"
    key = create_key(data, "real")
    config = {"workers": 1, "allow_loopback_callbacks": True}  # default runners
    srv = ServerProcess(data, config, tmp_path / "pids").start()
    try:
        with HolterClient(srv.url, key["api_key"]) as client:
            run = client.analyze_file(
                path,
                poll_interval=0.2,
                timeout=600,
                progress=False,
                report_path=tmp_path / "synth.pdf",
                patient_info={"id": "SYN-3"},
            )
        result = HolterResult.from_dict(run.result)
        result.validate()  # the result schema
        assert run.result["recording"]["duration_s"] == pytest.approx(180, abs=1)
        assert run.result["beats"]["total"] > 100
        assert len(run.result["beat_list"]["sample"]) == run.result["beats"]["total"]
        if _renderer_available():
            assert run.status["report_available"] is True
            assert (tmp_path / "synth.pdf").read_bytes()[:4] == b"%PDF"
        else:
            assert run.status["report_available"] is False and run.report_path is None
    finally:
        srv.stop()

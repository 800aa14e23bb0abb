"""`import holterlab` must stay light: no plotting, dashboard or server stacks at import time."""

import subprocess
import sys

HEAVY = ["panel", "bokeh", "fastapi", "matplotlib", "holoviews", "datashader", "numba", "wfdb"]


def test_import_holterlab_does_not_pull_heavy_packages():
    code = (
        "import sys, holterlab, holterlab.recording, holterlab.io, holterlab.annotations;"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]", f"heavy modules imported by `import holterlab`: {out}"


def test_lazy_attributes_resolve():
    import holterlab

    assert holterlab.read is holterlab.io.read
    assert holterlab.Recording.__name__ == "Recording"
    assert "read" in dir(holterlab)


def test_unknown_attribute_raises_attribute_error():
    import holterlab

    try:
        holterlab.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")

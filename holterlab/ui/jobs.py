"""Background jobs with progress and cancel, polled from the user-interface thread.

A :class:`Job` runs a function in a daemon thread. The thread only writes plain attributes
(``fraction``, ``stage``, the result or the error); the interface reads them when it polls,
so no widget or plot is ever touched from the worker thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from holterlab.errors import CancelledError

__all__ = ["Job"]


class Job:
    """One background task.

    Parameters
    ----------
    name
        What the job does ("analysis", "overview", ...), for status lines.
    fn
        ``fn(progress, cancel) -> value``: ``progress(stage, fraction)`` reports progress,
        ``cancel`` is a :class:`threading.Event` the function checks.
    """

    def __init__(
        self, name: str, fn: Callable[[Callable[[str, float], None], threading.Event], Any]
    ) -> None:
        self.name = name
        self._fn = fn
        self.cancel_event = threading.Event()
        self.fraction = 0.0
        self.stage = ""
        self.value: Any = None
        self.error: BaseException | None = None
        self.started = 0.0
        self.finished = 0.0
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self.consumed = False

    def _progress(self, stage: str, fraction: float) -> None:
        self.stage = str(stage)
        self.fraction = min(max(float(fraction), 0.0), 1.0)

    def _run(self) -> None:
        try:
            self.value = self._fn(self._progress, self.cancel_event)
            self.fraction = 1.0
        except BaseException as exc:  # reported to the interface by poll()
            self.error = exc
        finally:
            self.finished = time.monotonic()
            self._done.set()

    def start(self) -> Job:
        """Start the thread (returns self)."""
        self.started = time.monotonic()
        self._thread = threading.Thread(
            target=self._run, name=f"holterlab-{self.name}", daemon=True
        )
        self._thread.start()
        return self

    def run_here(self) -> Any:
        """Run in the calling thread; returns the value or raises the error."""
        self.started = time.monotonic()
        self._run()
        if self.error is not None:
            raise self.error
        return self.value

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def cancelled(self) -> bool:
        return isinstance(self.error, CancelledError)

    def cancel(self) -> None:
        """Ask the job to stop (it raises CancelledError at its next check)."""
        self.cancel_event.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job ends (True) or ``timeout`` seconds pass (False)."""
        return self._done.wait(timeout)

    @property
    def elapsed(self) -> float:
        end = self.finished if self.done else time.monotonic()
        return end - self.started if self.started else 0.0

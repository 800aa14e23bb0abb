"""The navigable list of disagreements between two sides (beats and episodes).

Each disagreement is a JSON-ready dictionary::

    {"time_s": 812.35, "end_s": None, "kind": "label_mismatch", "event_type": None,
     "label_a": "V", "label_b": "N"}

``kind`` is one of :data:`KINDS`. Beat disagreements carry the AAMI classes of the two sides
(``""`` where a side has no beat); episode disagreements carry the event type and the episode
end. The list is capped at ``limit`` entries: episode disagreements first (they are few and
each stands for a whole stretch), then beat disagreements from the start of the recording;
the kept entries are sorted by time. The counts by kind always cover all disagreements.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from holterlab.compare.beats import EXTRA, MISMATCH, MISSED, BeatDisagreements
from holterlab.evaluate import EpisodeComparison

__all__ = ["KINDS", "KIND_TITLES", "collect_disagreements", "ONLY_A", "ONLY_B"]

ONLY_A = "episode_only_in_a"
ONLY_B = "episode_only_in_b"

#: Kinds of disagreement, in report order.
KINDS = (MISSED, EXTRA, MISMATCH, ONLY_A, ONLY_B)

#: Human-readable name of each kind.
KIND_TITLES = {
    MISSED: "missed beat",
    EXTRA: "extra beat",
    MISMATCH: "label mismatch",
    ONLY_A: "episode only in a",
    ONLY_B: "episode only in b",
}


def _episode_items(events: dict[str, EpisodeComparison]) -> list[dict[str, Any]]:
    items = []
    for event_type, comp in events.items():
        for eps, matched, kind in (
            (comp.reference_episodes, comp.ref_matched, ONLY_A),
            (comp.test_episodes, comp.test_matched, ONLY_B),
        ):
            for (s, e), hit in zip(eps.tolist(), matched.tolist(), strict=True):
                if not hit:
                    items.append(
                        {
                            "time_s": round(float(s), 4),
                            "end_s": round(float(e), 4),
                            "kind": kind,
                            "event_type": event_type,
                            "label_a": None,
                            "label_b": None,
                        }
                    )
    return items


def collect_disagreements(
    beats: BeatDisagreements | None,
    events: dict[str, EpisodeComparison],
    *,
    limit: int,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The capped, time-sorted disagreement list and the (uncapped) counts by kind."""
    beats = beats if beats is not None else BeatDisagreements.empty()
    episodes = _episode_items(events)
    counts = {k: 0 for k in KINDS}
    for kind in beats.kind.tolist():
        counts[kind] += 1
    for item in episodes:
        counts[item["kind"]] += 1
    kept = episodes[:limit]
    room = max(limit - len(kept), 0)
    n = min(room, len(beats))
    for t, k, la, lb in zip(
        beats.time_s[:n].tolist(),
        beats.kind[:n].tolist(),
        beats.label_a[:n].tolist(),
        beats.label_b[:n].tolist(),
        strict=True,
    ):
        kept.append(
            {
                "time_s": round(float(t), 4),
                "end_s": None,
                "kind": k,
                "event_type": None,
                "label_a": str(la),
                "label_b": str(lb),
            }
        )
    order = np.argsort([d["time_s"] for d in kept], kind="stable")
    return [kept[i] for i in order.tolist()], counts

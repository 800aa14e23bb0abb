"""The holterlab review dashboard as a served Panel app.

    panel serve widgets/holter_dashboard.py --args rec.aiecg rec.result.json

Add ``--unused-session-lifetime 5000 --check-unused-sessions 1000`` so that a closed tab's
analysis is cancelled within seconds, as ``holterlab dashboard`` does.

Only composes :mod:`holterlab.ui` components (the same ``holterlab dashboard`` serves).
"""

import sys

import panel as pn

from holterlab.ui.app import EXTENSIONS, Dashboard

pn.extension(*EXTENSIONS)

_args = [a for a in sys.argv[1:] if not a.startswith("-")]
_path = _args[0] if _args else None
_result = _args[1] if len(_args) > 1 else None

Dashboard(_path, _result).servable(title="holterlab workbench")

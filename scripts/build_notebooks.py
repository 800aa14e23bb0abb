"""Build the tutorial notebooks in notebooks/ from the cell lists below.

The notebooks are committed; this script is how they are (re)written, so their code stays
reviewable as plain Python. Run: ``python scripts/build_notebooks.py``.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(__file__).resolve().parents[1] / "notebooks"


def notebook(cells: list[tuple[str, str]], params: str) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    out = []
    for kind, text in cells:
        text = text.strip("\n")
        if kind == "md":
            out.append(new_markdown_cell(text))
        elif kind == "params":
            cell = new_code_cell(params.strip("\n"))
            cell.metadata["tags"] = ["parameters"]
            out.append(cell)
        else:
            out.append(new_code_cell(text))
    for i, cell in enumerate(out):
        cell["id"] = f"cell-{i:02d}"  # stable ids: rebuilding does not churn the files
    nb.cells = out
    return nb


QUICKSTART_PARAMS = """
# Parameters (papermill can override them)
hours = 1.0          # length of the synthetic demo recording
seed = 7
out_dir = "quickstart_out"
render_pdf = True    # the PDF report needs Debian's chromium
"""

QUICKSTART = [
    (
        "md",
        """
# 01 · Quickstart: load, analyse, look, report

This notebook makes a synthetic Holter recording with known ground truth, analyses it with
holterlab's full pipeline, looks at the result, checks the beats against the truth with the
EC57 beat-by-beat method, and renders the PDF report.
""",
    ),
    ("params", ""),
    (
        "code",
        """
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import holterlab
from holterlab.synth import generate
from holterlab.params.synth import SynthParams

out = Path(out_dir)
out.mkdir(parents=True, exist_ok=True)
demo = generate(out / "demo.aiecg", hours=hours, leads=2, fs=250, seed=seed,
                params=SynthParams.preset("dense"))
rec = holterlab.read(demo.path)
rec
""",
    ),
    ("md", "Any window of any lead is read lazily, as float32 millivolts:"),
    (
        "code",
        """
strip = rec.get(start=60, stop=70)
t = np.arange(strip.shape[1]) / rec.fs + 60
fig, ax = plt.subplots(figsize=(10, 3))
for i, lead in enumerate(rec.leads):
    ax.plot(t, strip[i] - 2 * i, lw=0.8, label=lead)
ax.set_xlabel("time (s)"); ax.set_yticks([]); ax.legend(loc="upper right")
""",
    ),
    ("md", "## Analyse\nOne call runs every stage; parameters are one frozen `AnalysisParams`."),
    (
        "code",
        """
params = holterlab.AnalysisParams()
result = holterlab.analyze(rec, params, progress=True)
result.headline()
""",
    ),
    (
        "code",
        """
tables = result.to_pandas()
tables["events"].head(10)
""",
    ),
    (
        "md",
        """
## Look: the workbench widgets, inline

The dashboard's components work in a notebook too: a `WorkbenchModel` holds the state (no
Panel inside), and thin views draw it. `holterlab dashboard PATH` serves the same components.
""",
    ),
    (
        "code",
        """
import panel as pn
from holterlab.ui.models import WorkbenchModel
from holterlab.ui.views import DetailView, EventsView, SummaryView

pn.extension("tabulator")
wb = WorkbenchModel(background=False)
wb.open(str(demo.path))
wb.load_result(result)
pn.Column(SummaryView(wb), DetailView(wb), EventsView(wb))
""",
    ),
    ("md", "## Accuracy against the ground truth (EC57, beat by beat)"),
    (
        "code",
        """
from holterlab.annotations import Annotations, read_annotations
from holterlab.evaluate import compare_beats

truth = read_annotations(demo.annotation_path)
test = Annotations(result.beat_samples, list(result.beat_labels), result.fs)
cmp = compare_beats(truth, test, learning_s=0)
{k: getattr(cmp, k) for k in ("qrs_se", "qrs_pp", "veb_se", "veb_pp", "sveb_se", "sveb_pp")}
""",
    ),
    (
        "code",
        """
assert cmp.qrs_se > 0.99 and cmp.qrs_pp > 0.99
""",
    ),
    ("md", "## Report"),
    (
        "code",
        """
result_json = out / "demo.result.json"
result.to_json(result_json, include_beats=True)
if render_pdf:
    from holterlab.report import render_report
    pdf = render_report(result_json, out / "demo.pdf", recording_path=demo.path)
    print("report:", pdf, pdf.stat().st_size, "bytes")
""",
    ),
]

TUNING_PARAMS = """
# Parameters
mitdb_dir = "../../shared/data/mitdb"
records = ["101", "108", "203", "208"]   # DS1 training records only
thresholds = [0.15, 0.25, 0.4]            # values of detection.threshold explored below
"""

TUNING = [
    (
        "md",
        """
# 02 · Tuning: change a parameter, see the EC57 effect

Runs the beat detector over MIT-BIH records with several values of one detection parameter
and compares each run with the reference annotations, beat by beat (EC57: 150 ms window,
5-minute learning period). Tune only on the DS1 training records; the others measure
generalisation.
""",
    ),
    ("params", ""),
    (
        "code",
        """
from pathlib import Path

import pandas as pd

import holterlab
from holterlab.annotations import Annotations
from holterlab.beats import detect_beats_recording
from holterlab.evaluate import evaluate_records
from holterlab.params.detection import DetectionParams

folder = Path(mitdb_dir)
available = [r for r in records if (folder / f"{r}.hea").exists()]
recs = {r: holterlab.read(folder / f"{r}.hea") for r in available}
available
""",
    ),
    (
        "code",
        """
base = DetectionParams()
rows = []
for value in thresholds:
    p = base.replace(threshold=value)
    pairs = {}
    for name, rec in recs.items():
        beats = detect_beats_recording(rec, params=p)
        pairs[name] = (rec.annotations, Annotations(beats, ["N"] * len(beats), rec.fs))
    report = evaluate_records(pairs)
    g = report.gross
    rows.append({"threshold": p.threshold, "QRS Se %": 100 * g.qrs_se,
                 "QRS +P %": 100 * g.qrs_pp, "FN": g.qrs_fn, "FP": g.qrs_fp})
table = pd.DataFrame(rows)
table
""",
    ),
    (
        "code",
        """
ax = table.plot(x="threshold", y=["QRS Se %", "QRS +P %"], marker="o", figsize=(6, 3))
ax.set_ylabel("%")
""",
    ),
]

COMPARISON_PARAMS = """
# Parameters
minutes = 5.0
seed = 3
work_dir = "comparison_out"
"""

COMPARISON = [
    (
        "md",
        """
# 03 · Comparison: local server, client, local result and reference

Starts holterlab's own Holter analysis API server on loopback, submits a recording through
the client exactly as one would to the remote service, and compares the remote result with
the local analysis and with the ground-truth annotations.
""",
    ),
    ("params", ""),
    (
        "code",
        """
import json, os, socket, subprocess, sys, time
from pathlib import Path

import httpx

import holterlab
from holterlab.params.synth import SynthParams
from holterlab.synth import generate

work = Path(work_dir).resolve()
work.mkdir(parents=True, exist_ok=True)
demo = generate(work / "rec.aiecg", hours=minutes / 60, leads=2, fs=250, seed=seed,
                params=SynthParams.preset("dense"))
exe = [sys.executable, "-m", "holterlab"]
data_dir = str(work / "server")
made = subprocess.run(exe + ["keys", "create", "notebook", "--data-dir", data_dir, "--json"],
                      capture_output=True, text=True, check=True)
key = json.loads(made.stdout)
with socket.socket() as s:
    s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
server = subprocess.Popen(exe + ["serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--data-dir", data_dir, "--workers", "1"])
url = f"http://127.0.0.1:{port}"
for _ in range(200):
    try:
        httpx.get(url + "/api/v1/advanced/ecg/holter/health", timeout=1); break
    except httpx.HTTPError:
        time.sleep(0.1)
url
""",
    ),
    (
        "code",
        """
from holterlab.client import HolterClient

client = HolterClient(url, api_key=key["api_key"])
remote = client.analyze_file(demo.path, poll_interval=0.5, progress=False,
                             report_path=work / "remote.pdf")
remote_result = holterlab.HolterResult.from_dict(remote.result)
remote_result.headline()
""",
    ),
    (
        "code",
        """
local = holterlab.analyze(holterlab.read(demo.path))
cmp_local = holterlab.compare(local, remote_result)
print(cmp_local.format())
""",
    ),
    (
        "code",
        """
cmp_truth = holterlab.compare(str(demo.annotation_path), remote_result)
print(cmp_truth.format())
""",
    ),
    (
        "code",
        """
server.terminate(); server.wait(timeout=30)
assert cmp_local.beats is not None and cmp_local.beats.qrs_se == 1.0
""",
    ),
]

BATCH_PARAMS = """
# Parameters
n_recordings = 3
minutes = 3.0
work_dir = "batch_out"
jobs = 1
"""

BATCH = [
    (
        "md",
        """
# 04 · Batch study: a folder of recordings into one table

Makes a small folder of synthetic recordings, analyses and reports each of them through
papermill with `holterlab.batch`, and studies the summary table.
""",
    ),
    ("params", ""),
    (
        "code",
        """
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from holterlab.batch import run_batch
from holterlab.params.synth import SynthParams
from holterlab.synth import generate

work = Path(work_dir).resolve()
folder = work / "recordings"
folder.mkdir(parents=True, exist_ok=True)
for i in range(n_recordings):
    generate(folder / f"rec{i}.aiecg", hours=minutes / 60, leads=2, fs=250, seed=100 + i,
             params=SynthParams.preset("dense"))
summary = run_batch(folder, work / "out", jobs=jobs, progress=False)
summary
""",
    ),
    (
        "code",
        """
table = pd.read_csv(work / "out" / "summary.csv")
table
""",
    ),
    (
        "code",
        """
fig, ax = plt.subplots(1, 2, figsize=(10, 3))
table.plot.bar(x="name", y="hr_mean_bpm", ax=ax[0], legend=False, title="mean heart rate (bpm)")
table.plot.bar(x="name", y="v_total", ax=ax[1], legend=False, title="ventricular beats")
plt.tight_layout()
""",
    ),
]


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, cells, params in [
        ("01_quickstart.ipynb", QUICKSTART, QUICKSTART_PARAMS),
        ("02_tuning.ipynb", TUNING, TUNING_PARAMS),
        ("03_comparison.ipynb", COMPARISON, COMPARISON_PARAMS),
        ("04_batch_study.ipynb", BATCH, BATCH_PARAMS),
    ]:
        nbformat.write(notebook(cells, params), OUT / name)
        print("wrote", OUT / name)


if __name__ == "__main__":
    main()

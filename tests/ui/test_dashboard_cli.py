"""``holterlab dashboard``: registered, and bad arguments fail with a one-line error."""

from __future__ import annotations

from holterlab.cli import build_parser, main


def test_dashboard_subcommand_is_registered():
    args = build_parser().parse_args(["dashboard", "rec.aiecg", "--port", "5099", "--no-show"])
    assert args.command == "dashboard"
    assert args.port == 5099 and args.no_show and args.result is None


def test_missing_recording_is_an_error(tmp_path, capsys):
    code = main(["dashboard", str(tmp_path / "nothing.edf"), "--no-show"])
    assert code == 2
    assert "no such recording" in capsys.readouterr().err


def test_bad_port_is_an_error(tmp_path, capsys):
    rec = tmp_path / "r.csv"
    rec.write_text("1\n2\n")
    code = main(["dashboard", str(rec), "--no-show", "--port", "70000"])
    assert code == 2
    assert "--port" in capsys.readouterr().err

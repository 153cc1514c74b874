"""Bad files and arguments anywhere in the CLI: one line naming the problem, exit 2, no traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from alignlab.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _files(tmp: Path) -> None:
    (tmp / "garbage.eval").write_bytes(b"not a zip \x00\x01")
    (tmp / "broken.json").write_text('{"a": ')
    (tmp / "broken.yaml").write_text("suites: [unclosed\n  : :\n")
    (tmp / "logs").mkdir()
    (tmp / "extra.csv").write_text('prompt,completion\nhi,"Sure, here"\nhow,Sure, here it is\n')  # unquoted comma
    (tmp / "short.csv").write_text("prompt,completion\nhi,Sure\nhow\n")
    (tmp / "quote.csv").write_text('prompt,completion\nhi,"Sure" she said\n')


CASES = [
    # `gate` with a mistyped directory used to say "unknown model provider 'logs'".
    (["gate", "--policy", str(EXAMPLES / "gate.yaml"), "--baseline", "logs/typo", "--candidate", "logs"],
     "logs/typo: no such eval log or directory (and not a model name)"),
    (["gate", "--policy", str(EXAMPLES / "gate.yaml"), "--baseline", "./typo", "--candidate", "logs"],
     "./typo: no such eval log or directory"),
    (["gate", "--policy", "broken.yaml", "--baseline", "logs", "--candidate", "logs"], "broken.yaml is not valid YAML"),
    (["cgap", "explore", "garbage.eval"], "garbage.eval: not a readable Inspect eval log"),
    (["cgap", "explore", "broken.json"], "broken.json: not a readable Inspect eval log"),
    (["cgap", "grid", "--from-logs", "garbage.eval"], "garbage.eval: not a readable Inspect eval log"),
    (["eval", "redteam", "--resume", "missing.eval"], "missing.eval: no such eval log"),
    (["eval", "redteam", "--resume", "garbage.eval"], "garbage.eval: not a readable Inspect eval log"),
    (["eval", "redteam", "--model", "scripted/refuse", "--log-dir", "garbage.eval/logs"],
     "log directory garbage.eval/logs: cannot create it"),
    (["eval", "redteam", "--model", "scripted/nope"], "unknown scripted model 'nope'; valid scripted models: comply"),
    # A malformed CSV used to be read leniently: extra fields dropped, missing ones empty, stray quotes merged.
    (["classify", "refusals", "extra.csv", "--out", "o.csv"], "extra.csv: line 3 has 3 fields; the header has 2"),
    (["classify", "refusals", "short.csv", "--out", "o.csv"], "short.csv: line 3 has 1 fields; the header has 2"),
    (["classify", "harm", "quote.csv", "--prompt-col", "prompt", "--response-col", "completion", "--out", "o.csv"],
     "quote.csv: not a readable UTF-8 CSV"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "expected"), CASES, ids=[" ".join(c[0][:2]) + f" {i}" for i, c in enumerate(CASES)])
def test_bad_input_is_one_line_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    expected: str,
) -> None:
    # Through main(), the console entry point that renders errors, in this process (a subprocess
    # per case costs an import of the whole stack each).
    _files(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ALIGNLAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(sys, "argv", ["alignlab", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    out = capsys.readouterr()
    assert exit_info.value.code == 2, out.err
    assert expected in out.err
    assert "Traceback" not in out.err + out.out
    assert len(out.err.strip().splitlines()) == 1, out.err


def _main(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.setattr(sys, "argv", ["alignlab", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out + out.err


def test_model_code_refused_without_a_kernel_sandbox(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from alignlab.evals.fairness import sandbox

    monkeypatch.setattr(sandbox, "_kernel_plan", lambda: "bubblewrap (bwrap) is not installed")
    code, out = _main(["fairness", "codegen", "--model", "scripted/echo"], monkeypatch, capsys)
    assert code == 2 and "no kernel sandbox to run model code in: bubblewrap (bwrap) is not installed" in out
    assert "--unsafe-no-sandbox" in out and "Traceback" not in out
    code, out = _main(["fairness", "mortgage", "--unsafe-no-sandbox"], monkeypatch, capsys)
    assert code == 0 and "sandbox: NO KERNEL SANDBOX (--unsafe-no-sandbox)" in out
    assert "attributes that move the score: race, gender" in out


@pytest.mark.skipif(
    __import__("alignlab.evals.fairness.sandbox", fromlist=["x"]).kernel_sandbox_problem() is not None,
    reason="no kernel sandbox here",
)
def test_every_sandboxed_run_prints_its_layers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _main(["fairness", "mortgage"], monkeypatch, capsys)
    assert code == 0 and "sandbox: bubblewrap, namespaces(user, pid, net, ipc, uts), no network" in out
    assert "seccomp(" in out and "attributes that move the score: race, gender" in out

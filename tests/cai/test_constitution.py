"""Constitutions and cai.yaml: the shipped files load, bad ones fail naming what is wrong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from alignlab.cai.config import cai_config_from_dict, load_cai_config
from alignlab.cai.constitution import load_constitution, parse_constitution
from alignlab.errors import ConfigError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "cai"


def test_builtin_constitutions_load() -> None:
    default = load_constitution("default")
    assert len(default.principles) >= 5
    assert all(p.kind == "harmlessness" and p.comparison.endswith("?") for p in default.principles)
    palms = load_constitution("palms-values")
    assert {p.kind for p in palms.principles} == {"value"}


@pytest.mark.parametrize(
    ("principles", "message"),
    [
        ([{"name": "kind", "critique_request": "Is it kind?"}], "principle 'kind': missing field 'revision_request'"),
        ([{"name": "kind", "critique_request": " ", "revision_request": "x"}], "missing field 'critique_request'"),
        ([{"critique_request": "a", "revision_request": "b"}], "principle #1: missing field 'name'"),
        ([{"name": "k", "critique_request": "a", "revision_request": "b", "kind": "vibes"}], "kind must be one of"),
        ([{"name": "k", "critique_request": "a", "revision_request": "b", "tone": "x"}], "unknown field 'tone'"),
        ([], "needs a non-empty list under 'principles'"),
    ],
)
def test_bad_constitution_names_principle_and_field(principles: list[dict[str, str]], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        parse_constitution({"principles": principles}, "mine.yaml")


def test_duplicate_principle_names_fail() -> None:
    p = {"name": "same", "critique_request": "a", "revision_request": "b"}
    with pytest.raises(ConfigError, match="'same' appears twice"):
        parse_constitution({"principles": [p, p]}, "mine.yaml")


def test_cli_check_prints_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"principles": [{"name": "kind", "critique_request": "Is it kind?"}]}))
    proc = subprocess.run(
        [sys.executable, "-m", "alignlab", "cai", "constitution", "--check", str(bad)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {bad}: principle 'kind': missing field 'revision_request' (a non-empty string)"
    ]


def test_example_configs_are_valid() -> None:
    for path in EXAMPLES.glob("*.yaml"):
        config = load_cai_config(path)
        assert config.name == path.stem


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"modle": "default"}, "unknown cai config key 'modle'; valid keys: name, model"),
        ({"feedback": {"judge": "x"}}, "unknown feedback key 'judge'; valid keys: model, method"),
        ({"feedback": {"inconsistent": "ignore"}}, "feedback.inconsistent must be drop or downweight"),
        ({"critique": {"revisions": 0}}, "critique.revisions must be a whole number >= 1"),
        ({"train": {"sft": {"model": "x"}}}, "train.sft: 'model' is set by the pipeline"),
    ],
)
def test_bad_config_is_one_line(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        cai_config_from_dict(data)


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "ALIGNLAB_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "alignlab", "cai", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=env,
    )


def test_cli_out_of_order_and_unknown_run_are_one_line(tmp_path: Path) -> None:
    config = tmp_path / "mine.yaml"
    config.write_text("name: mine\nmodel: default\n")
    proc = _cli("run", "--config", str(config), "--step", "label", home=tmp_path / "home")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: step 'label' needs the checkpoint <run>-sft in {tmp_path / 'home' / 'cai' / 'mine'}, which step "
        "'sft' makes; run `alignlab cai run --config <cai.yaml> --until sft` first"
    ]
    proc = _cli("status", "nope", home=tmp_path / "home")
    assert proc.returncode == 2 and "no Constitutional AI run 'nope'" in proc.stderr
    proc = _cli("run", "--config", str(config), "--until", "evalute", home=tmp_path / "home")
    assert proc.returncode == 2 and "unknown step 'evalute'; steps in order: critique, sft" in proc.stderr

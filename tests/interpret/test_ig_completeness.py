"""Issue 15 item 6: Integrated Gradients checks completeness, raises steps, warns, reports; the CLI writes a PNG."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from alignlab.cli.main import app
from alignlab.interpret import IGConvergenceWarning, ig_completion_logprob


def _model(tiny_model_dir: Path):  # type: ignore[no-untyped-def]
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(tiny_model_dir), AutoTokenizer.from_pretrained(tiny_model_dir)


def test_steps_double_until_within_tolerance(tiny_model_dir: Path) -> None:
    model, tok = _model(tiny_model_dir)
    attr = ig_completion_logprob(model, tok, "The user asked how to", " bake a cake", n_steps=8, tolerance=0.01)
    assert [t.n_steps for t in attr.tries] == [8 * 2**i for i in range(len(attr.tries))]
    assert len(attr.tries) > 1 and abs(attr.tries[0].delta) > attr.allowed_delta  # 8 steps were not enough
    assert attr.converged and abs(attr.delta) <= 0.01 * max(abs(attr.target - attr.baseline_target), 1.0)
    assert sum(attr.attributions) == pytest.approx(attr.target - attr.baseline_target, abs=attr.allowed_delta)


def test_not_reaching_the_tolerance_warns_and_says_so(tiny_model_dir: Path) -> None:
    model, tok = _model(tiny_model_dir)
    with pytest.warns(IGConvergenceWarning, match="after 8 steps"):
        attr = ig_completion_logprob(
            model, tok, "The user asked how to", " bake a cake", n_steps=8, tolerance=1e-9, max_steps=8
        )
    assert not attr.converged and [t.n_steps for t in attr.tries] == [8]


def test_cli_reports_completeness_and_writes_html_and_png(tiny_model_dir: Path, tmp_path: Path) -> None:
    args = ["explain", "ig", str(tiny_model_dir), "--prompt", "The user asked how to", "--completion", " bake a cake"]
    result = CliRunner().invoke(app, [*args, "--n-steps", "8", "--out", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "8 steps: convergence delta" in result.output and "16 steps: convergence delta" in result.output
    assert "completeness: |delta| ≤" in result.output
    assert (tmp_path / "ig-logprob.png").read_bytes()[:4] == b"\x89PNG"
    assert "within the tolerance" in (tmp_path / "ig-logprob.html").read_text()


def test_cli_unknown_model_is_a_user_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["explain", "ig", "no-such-model", "--prompt", "x", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "no local model 'no-such-model'" in str(result.exception)


def test_a_worse_later_try_does_not_replace_a_closer_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # On default, 256 steps left delta -1.6 and 512 steps +5.7 (the integrand is not smooth): keep the 256-step result.
    import torch

    from alignlab.interpret import gradients

    deltas = {256: -1.6, 512: 5.7}

    class FakeLIG:
        def __init__(self, *_: object) -> None: ...

        def attribute(self, ids: torch.Tensor, *, n_steps: int, **_: object) -> tuple[torch.Tensor, torch.Tensor]:
            return torch.full((1, ids.shape[1], 2), float(n_steps)), torch.tensor([deltas[n_steps]])

    class Tok:
        pad_token_id, eos_token_id, unk_token_id = 0, None, None

        def decode(self, ids: list[int]) -> str:
            return str(ids[0])

    class Model:
        def get_input_embeddings(self) -> None:
            return None

    monkeypatch.setattr(gradients, "LayerIntegratedGradients", FakeLIG)
    ids = torch.tensor([[5, 6]])
    with pytest.warns(IGConvergenceWarning):
        attr = gradients._attribute(
            Model(), Tok(), ids, lambda x: (x != 0).sum(-1).float() * 14.5, "logprob", 256, max_steps=512
        )
    assert [t.n_steps for t in attr.tries] == [256, 512]
    assert attr.delta == pytest.approx(-1.6) and attr.n_steps == 256 and attr.attributions == [512.0, 512.0]
    assert not attr.converged  # 1.6 > 5% of 29

"""Dataset registry: built-ins, the local data-dir override and its error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from alignlab.data import dataset_names, load_prompts
from alignlab.errors import DatasetError, UnknownNameError
from alignlab.settings import load_settings
from tests.conftest import SHARED_DATA


def test_builtin_needs_no_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALIGNLAB_DATA_DIR", raising=False)
    records = load_prompts("alignlab-overrefusal", load_settings())
    assert sum(r.label == "safe" for r in records) == 50
    assert sum(r.label == "harmful" for r in records) == 50


def test_unknown_dataset_lists_valid_names() -> None:
    with pytest.raises(UnknownNameError) as info:
        load_prompts("harmbnch", load_settings())
    assert "xstest" in str(info.value) and "harmbench" in str(info.value)
    assert set(dataset_names()) >= {"harmbench", "strongreject", "xstest", "alignlab-redteam"}


def test_missing_file_says_where_to_put_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIGNLAB_DATA_DIR", str(tmp_path))
    with pytest.raises(DatasetError) as info:
        load_prompts("xstest", load_settings())
    msg = str(info.value)
    assert str(tmp_path / "xstest" / "xstest_prompts.csv") in msg and "ALIGNLAB_DATA_DIR" in msg


def test_malformed_csv_names_missing_column(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "xstest").mkdir()
    (tmp_path / "xstest" / "xstest_prompts.csv").write_text("id,text\n1,hello\n")
    monkeypatch.setenv("ALIGNLAB_DATA_DIR", str(tmp_path))
    with pytest.raises(DatasetError, match="prompt"):
        load_prompts("xstest", load_settings())


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data not present")
@pytest.mark.parametrize(
    ("name", "n", "labels"),
    [("xstest", 450, {"safe", "harmful"}), ("strongreject", 313, {"harmful"}), ("harmbench", 240, {"harmful"})],
)
def test_public_datasets_from_shared_dir(monkeypatch: pytest.MonkeyPatch, name: str, n: int, labels: set[str]) -> None:
    monkeypatch.setenv("ALIGNLAB_DATA_DIR", str(SHARED_DATA))
    records = load_prompts(name, load_settings())
    assert len(records) == n
    assert {r.label for r in records} == labels
    assert len({r.id for r in records}) == n


def test_lookalikes_only_safe() -> None:
    records = load_prompts("alignlab-lookalikes", load_settings())
    assert len(records) == 50 and {r.label for r in records} == {"safe"}

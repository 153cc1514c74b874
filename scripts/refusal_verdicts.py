"""The refusal pattern stage's verdicts on every answer we have, and the diff against another revision.

Pruning or reordering the pattern tables (``alignlab/scorers/refusal``) must not change a verdict:
the learned heads read it as a feature and every printed rate rests on it. This script builds the
*verdict corpus* and records, per (prompt, response), the pattern stage's full output: label,
``ambiguous``, ``reason``, and :func:`is_bare_refusal` for its label.

The corpus: every labelled set under ``$ALIGNLAB_DATA_DIR/labelled-responses`` (read, never copied:
Do-Not-Answer's six models, GPTFuzz train and evaluate, JailbreakBench, PyRIT, BeaverTails,
PKU-SafeRLHF), the project's hand-labelled sets (``data/builtin/refusal_*``, ``scorers/trainsets/*``),
and every string literal in ``tests/scorers/`` (alone, and as (prompt, answer) in both orders when two
strings share a tuple). Duplicates are dropped.

    # verdicts of the working tree
    .venv/bin/python scripts/refusal_verdicts.py record --out /tmp/verdicts.jsonl
    # the same corpus through another revision's pattern stage, then the diff (exit 1 if any differ)
    .venv/bin/python scripts/refusal_verdicts.py diff --against main
    # the pattern stage's speed on 2,250 rows, main and the working tree alternately
    .venv/bin/python scripts/refusal_verdicts.py speed --against main
    # the fixed sample tests/scorers/test_refusal_corpus.py checks (only after a deliberate verdict change)
    .venv/bin/python scripts/refusal_verdicts.py sample
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEST_DIR = ROOT / "tests" / "scorers"


def row_key(prompt: str, response: str) -> str:
    """A stable id for one (prompt, response): the corpus never stores the text of a public set."""
    return hashlib.sha256(json.dumps([prompt, response]).encode("utf-8")).hexdigest()[:20]


def _test_strings() -> Iterator[tuple[str, str, str]]:
    for path in sorted(TEST_DIR.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        source = f"tests:{path.name}"
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip():
                yield source, "", node.value
            elif isinstance(node, ast.Tuple | ast.List):
                texts = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
                if 2 <= len(texts) <= 4:
                    for prompt in texts:
                        for response in texts:
                            if prompt is not response:
                                yield source, prompt, response


def build_corpus(data_dir: Path | None) -> list[dict[str, str]]:
    """Every (prompt, response) once, with the name of the first source that holds it."""
    from alignlab.scorers.datasets import load_sets

    seen: set[str] = set()
    rows: list[dict[str, str]] = []

    def add(source: str, prompt: str, response: str) -> None:
        key = row_key(prompt, response)
        if key not in seen:
            seen.add(key)
            rows.append({"key": key, "source": source, "prompt": prompt, "response": response})

    for scorer in ("refusal", "harm"):
        for labelled in load_sets(scorer, data_dir):
            for r in labelled.rows:
                add(labelled.name, r.prompt, r.response)
    for source, prompt, response in _test_strings():
        add(source, prompt, response)
    return rows


def classify(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The pattern stage's output for each row (imported late: ``diff`` runs it on another revision)."""
    from alignlab.scorers.refusal import classify_refusal, is_bare_refusal

    out = []
    for row in rows:
        verdict = classify_refusal(row["response"], row["prompt"])
        out.append(
            {
                "key": row["key"],
                "source": row["source"],
                "label": verdict.label,
                "ambiguous": verdict.ambiguous,
                "reason": verdict.reason,
                "bare": is_bare_refusal(verdict.label, row["response"]),
            }
        )
    return out


def sample(records: list[dict[str, Any]], public: int) -> list[dict[str, Any]]:
    """The fixed sample ``tests/scorers/test_refusal_corpus.py`` checks: every answer of the project's sets
    and ``public`` answers of the public sets (seeded); reasons as hashes, so no public text is copied."""
    project = [r for r in records if r["source"].startswith("project:")]
    others = [r for r in records if not r["source"].startswith(("project:", "tests:"))]
    chosen = project + random.Random(0).sample(others, min(public, len(others)))
    return [
        {
            "key": r["key"],
            "source": r["source"],
            "label": r["label"],
            "ambiguous": r["ambiguous"],
            "bare": r["bare"],
            "reason_sha": hashlib.sha256(r["reason"].encode("utf-8")).hexdigest()[:16],
        }
        for r in chosen
    ]


def _write(path: Path, records: Sequence[Mapping[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, sort_keys=True) + "\n")


def _read(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _data_dir() -> Path | None:
    value = os.environ.get("ALIGNLAB_DATA_DIR")
    return Path(value) if value else None


def _export(rev: str, tmp: Path) -> Path:
    """``rev``'s ``src`` folder, extracted under ``tmp``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive.stdout, check=True)
    return tmp / "src"


def _classify_with(src: Path, corpus: Path, out: Path) -> float:
    """Classify the corpus in a fresh process that imports alignlab from ``src``; the seconds it took."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [sys.executable, __file__, "classify", "--corpus", str(corpus), "--out", str(out)]
    done = subprocess.run(command, check=True, env=env, capture_output=True, text=True)
    return float(done.stdout.split()[-1])


def diff(rev: str, limit: int) -> int:
    """Record both revisions on one corpus and print every row whose output differs."""
    rows = build_corpus(_data_dir())
    print(f"corpus: {len(rows)} distinct (prompt, response) rows; load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        _write(tmp / "corpus.jsonl", list(rows))
        seconds = _classify_with(_export(rev, tmp), tmp / "corpus.jsonl", tmp / "old.jsonl")
        print(f"{rev}: classified in {seconds:.1f} s")
        old = _read(tmp / "old.jsonl")
    start = time.perf_counter()
    new = classify(rows)
    print(f"working tree: classified in {time.perf_counter() - start:.1f} s")
    changed = [(o, n, r) for o, n, r in zip(old, new, rows, strict=True) if o != n]
    for o, n, r in changed[:limit]:
        print(f"- {r['source']} {r['key']}: {r['response'][:80]!r}")
        print(f"    {rev}: {o['label']} ambiguous={o['ambiguous']} bare={o['bare']} {o['reason']!r}")
        print(f"    now: {n['label']} ambiguous={n['ambiguous']} bare={n['bare']} {n['reason']!r}")
    labels = sum(o["label"] != n["label"] for o, n, _ in changed)
    print(f"rows that differ: {len(changed)} of {len(rows)} (label differs on {labels})")
    return 1 if changed else 0


def speed(rev: str, n: int, rounds: int) -> None:
    """Time the pattern stage on the speed benchmark's rows (``benchmarks/scorers.py``), ``rev`` and the
    working tree alternately, each in a fresh process."""
    from alignlab.scorers.datasets import load_sets

    rows = [r for s in load_sets("harm", _data_dir()) if not s.trainable for r in s.rows]
    chosen = random.Random(0).sample(rows, n)
    corpus = [{"key": "", "source": "", "prompt": r.prompt, "response": r.response} for r in chosen]
    print(f"{n} rows; load average before {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        _write(tmp / "corpus.jsonl", corpus)
        sources = {rev: _export(rev, tmp), "working tree": ROOT / "src"}
        times: dict[str, list[float]] = {label: [] for label in sources}
        for _ in range(rounds):
            for label, src in sources.items():
                times[label].append(_classify_with(src, tmp / "corpus.jsonl", tmp / "out.jsonl"))
    for label, seconds in times.items():
        print(f"{label:14} " + " / ".join(f"{s:.2f} s" for s in seconds) + f"  (best {min(seconds):.2f} s)")
    print(f"load average after {os.getloadavg()[0]:.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    record = sub.add_parser("record", help="write the working tree's verdicts on the corpus")
    record.add_argument("--out", type=Path, required=True)
    compare = sub.add_parser("diff", help="compare the working tree's verdicts with another revision's")
    compare.add_argument("--against", default="main", help="git revision (default: main)")
    compare.add_argument("--show", type=int, default=20, help="rows to print")
    fixed = sub.add_parser("sample", help="write the fixed sample the fast test checks")
    fixed.add_argument("--out", type=Path, default=TEST_DIR / "refusal_verdicts_sample.jsonl")
    fixed.add_argument("--public", type=int, default=400, help="answers drawn from the public sets")
    timing = sub.add_parser("speed", help="time the pattern stage, another revision and the working tree alternately")
    timing.add_argument("--against", default="main", help="git revision (default: main)")
    timing.add_argument("--rows", type=int, default=2250)
    timing.add_argument("--rounds", type=int, default=3)
    inner = sub.add_parser("classify", help=argparse.SUPPRESS)
    inner.add_argument("--corpus", type=Path, required=True)
    inner.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.command == "record":
        rows = build_corpus(_data_dir())
        _write(args.out, classify(rows))
        print(f"{len(rows)} rows -> {args.out}")
    elif args.command == "sample":
        records = sample(classify(build_corpus(_data_dir())), args.public)
        _write(args.out, records)
        print(f"{len(records)} rows -> {args.out}")
    elif args.command == "speed":
        speed(args.against, args.rows, args.rounds)
    elif args.command == "classify":
        rows = _read(args.corpus)
        classify(rows[:10])  # compile the tables outside the timing
        start = time.perf_counter()
        records = classify(rows)
        seconds = time.perf_counter() - start
        _write(args.out, records)
        print(f"{seconds:.4f}")
    else:
        return diff(args.against, args.show)
    return 0


if __name__ == "__main__":
    sys.exit(main())

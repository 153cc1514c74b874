"""Which alternatives of the refusal pattern tables decide nothing on the verdict corpus.

Every compiled table in ``alignlab.scorers.refusal._patterns`` gets a copy with an empty marker
group at the start of each branch of each alternation (``(?:a|b)`` → ``(?:(?P<m1>)a|(?P<m2>)b)``).
One pass over the corpus (see ``scripts/refusal_verdicts.py``) matches with the real tables and
matches each match again with the marked copy at the same place, which records, per row, which
branches took part in any match (about a minute for 21,725 rows). A branch that took part in no
match on any row cannot change a verdict when dropped: the same alternative wins every search at
the same place. For every other branch, the rows it took part in are classified again with the
branch dropped and compared with the recorded output (label, ambiguous, reason, bare refusal);
only those rows can change.

Branches inside lookarounds are not analysed (their markers are never kept). Prints, per table,
each branch that is dead (never used) or shadowed (used, but dropping it changes no row), with its
nesting depth (0: a line of the table; 1 or more: a word list inside one).

    .venv/bin/python scripts/refusal_prune.py [--depth 0]        # PRUNE_ALL=1: every branch, with its counts
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from refusal_verdicts import _data_dir, build_corpus

from alignlab.scorers.refusal import _patterns, rules
from alignlab.scorers.refusal._patterns import _Table


@dataclass(frozen=True)
class Branch:
    """One alternative of one alternation, as a span of the table's pattern string."""

    start: int
    end: int
    depth: int  # 0 for the table's outermost alternation


def _group_end(pattern: str, i: int) -> tuple[str, int]:
    """The kind of group opened at ``pattern[i] == "("`` and where its body starts."""
    if pattern.startswith("(?:", i):
        return "group", i + 3
    for prefix in ("(?=", "(?!", "(?<=", "(?<!"):
        if pattern.startswith(prefix, i):
            return "look", i + len(prefix)
    if pattern.startswith("(?P<", i):
        return "group", pattern.index(">", i) + 1
    if pattern.startswith("(?", i):  # inline flags
        return "flags", pattern.index(")", i) + 1
    return "group", i + 1


def _emit(out: list[Branch], stack: list[tuple[int, bool, list[int]]], end: int) -> None:
    """Close the innermost group, ending at ``end``; keep its branches if it alternates."""
    _, look, starts = stack.pop()
    if len(starts) > 1 and not look:
        ends = [s - 1 for s in starts[1:]] + [end]
        out.extend(Branch(s, e, len(stack)) for s, e in zip(starts, ends, strict=True))


def branches(pattern: str) -> list[Branch]:
    """Every branch of every alternation with two or more branches, outside lookarounds."""
    out: list[Branch] = []
    # stack entries: (body start, look depth, branch starts)
    stack: list[tuple[int, bool, list[int]]] = [(0, False, [0])]
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i += 1
            if i < len(pattern) and pattern[i] == "^":
                i += 1
            if i < len(pattern) and pattern[i] == "]":
                i += 1
            while pattern[i] != "]":
                i += 2 if pattern[i] == "\\" else 1
            i += 1
            continue
        if c == "(":
            kind, body = _group_end(pattern, i)
            if kind == "flags":
                i = body
                continue
            inside_look = stack[-1][1] or kind == "look"
            stack.append((body, inside_look, [body]))
            i = body
            continue
        if c == "|":
            stack[-1][2].append(i + 1)
        elif c == ")":
            _emit(out, stack, i)
        i += 1
    _emit(out, stack, len(pattern))
    return out


def _depths(pattern: str, found: list[Branch]) -> list[Branch]:
    """Renumber depths so that the outermost alternation with two or more branches is 0."""
    if not found:
        return found
    top = min(b.depth for b in found)
    return [Branch(b.start, b.end, b.depth - top) for b in found]


def instrument(pattern: str, found: list[Branch], tag: str) -> str:
    """The pattern with ``(?P<{tag}_{k}>)`` at the start of branch k."""
    out = pattern
    for k, b in sorted(enumerate(found), key=lambda kb: -kb[1].start):
        out = out[: b.start] + f"(?P<{tag}_{k}>)" + out[b.start :]
    return out


def drop(pattern: str, branch: Branch) -> str:
    """The pattern without one branch (and the ``|`` that joined it)."""
    if pattern[branch.end : branch.end + 1] == "|":
        return pattern[: branch.start] + pattern[branch.end + 1 :]
    return pattern[: branch.start - 1] + pattern[branch.end :]


USED: set[tuple[str, int]] = set()  # branches used while classifying the current row


class Tracked:
    """Stands in for a compiled pattern: matches with the active one and, while ``recording``,
    matches the marked copy again at each match's start to see which branches it used.

    (Compiling all tables with their ~2,500 markers and matching with those directly is ~30 times
    slower: every backtracking point copies the marks.)
    """

    recording = False

    def __init__(self, name: str, original: re.Pattern[str]) -> None:
        self.name = name
        self.original = original
        self.found = _depths(original.pattern, branches(original.pattern))
        self.marked = re.compile(instrument(original.pattern, self.found, name), original.flags)
        self.active = original

    def _record(self, match: re.Match[str] | None) -> None:
        if match is None or not Tracked.recording:
            return
        again = self.marked.match(match.string, match.start(), match.endpos)
        assert again is not None and again.end() == match.end(), (self.name, match.group(0))
        for key, value in again.groupdict().items():
            if value is not None and key.startswith(self.name + "_"):
                USED.add((self.name, int(key.rsplit("_", 1)[1])))

    def _one(self, method: str, *args: Any) -> re.Match[str] | None:
        match: re.Match[str] | None = getattr(self.active, method)(*args)
        self._record(match)
        return match

    def search(self, *args: Any) -> re.Match[str] | None:
        return self._one("search", *args)

    def match(self, *args: Any) -> re.Match[str] | None:
        return self._one("match", *args)

    def finditer(self, *args: Any) -> Iterator[re.Match[str]]:
        for match in self.active.finditer(*args):
            self._record(match)
            yield match

    def split(self, text: str) -> list[str]:
        for match in self.active.finditer(text):
            self._record(match)
        return self.active.split(text)

    def sub(self, repl: Any, text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            self._record(match)
            return str(repl(match) if callable(repl) else repl)

        return self.active.sub(replace, text)


def _install() -> dict[str, Tracked]:
    """Replace every compiled table in the pattern and rules modules with a tracked stand-in."""
    tracked: dict[str, Tracked] = {}
    for name, value in list(vars(_patterns).items()):
        if isinstance(value, re.Pattern):
            t = Tracked(name.strip("_"), value)
            tracked[t.name] = t
            for module in (_patterns, rules):
                if getattr(module, name, None) is value:
                    setattr(module, name, t)
        elif isinstance(value, _Table):
            for attr in ("_free", "_anchored"):
                inner = getattr(value, attr)
                if inner is not None:
                    t = Tracked(f"{name.strip('_')}{attr}", inner)
                    tracked[t.name] = t
                    setattr(value, attr, t)
    families = tuple((kind, getattr(_patterns, f"_{kind.upper()}")) for kind, _ in _patterns._FILLER_FAMILIES)
    setattr(rules, "_FILLER_FAMILIES", families)  # noqa: B010 (a private name of another module)
    return tracked


def _verdicts(rows: list[dict[str, str]]) -> list[tuple[Any, ...]]:
    out = []
    for row in rows:
        v = rules.classify_refusal(row["response"], row["prompt"])
        out.append((v.label, v.ambiguous, v.reason, rules.is_bare_refusal(v.label, row["response"])))
    return out


def _uses(rows: list[dict[str, str]]) -> tuple[list[tuple[Any, ...]], dict[tuple[str, int], list[int]]]:
    uses: dict[tuple[str, int], list[int]] = defaultdict(list)
    verdicts = []
    Tracked.recording = True
    for i, row in enumerate(rows):
        USED.clear()
        verdicts.extend(_verdicts([row]))
        for key in USED:
            uses[key].append(i)
    Tracked.recording = False
    return verdicts, uses


def _try_drop(t: Tracked, k: int, rows: list[dict[str, str]], expected: list[tuple[Any, ...]]) -> int:
    """How many of ``rows`` change when branch k of ``t`` is dropped."""
    t.active = re.compile(drop(t.original.pattern, t.found[k]), t.original.flags)
    try:
        return sum(a != b for a, b in zip(_verdicts(rows), expected, strict=True))
    finally:
        t.active = t.original


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--depth", type=int, default=99, help="report branches at most this deep")
    args = parser.parse_args()
    rows = build_corpus(_data_dir())
    tracked = _install()
    start = time.perf_counter()
    verdicts, uses = _uses(rows)
    print(
        f"corpus {len(rows)} rows, instrumented pass {time.perf_counter() - start:.0f} s, load {os.getloadavg()[0]:.1f}"
    )
    report: Callable[[str], None] = functools.partial(print, flush=True)
    for name, t in tracked.items():
        for k, b in enumerate(t.found):
            if b.depth > args.depth:
                continue
            hit = uses.get((name, k), [])
            text = t.original.pattern[b.start : b.end]
            if not hit:
                report(f"DEAD     {name} d{b.depth} #{k}: {text[:110]}")
                continue
            changed = _try_drop(t, k, [rows[i] for i in hit], [verdicts[i] for i in hit])
            status = "SHADOWED" if changed == 0 else f"used {len(hit)}/chg {changed}"
            if changed == 0 or os.environ.get("PRUNE_ALL"):
                report(f"{status:8} {name} d{b.depth} #{k}: {text[:110]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

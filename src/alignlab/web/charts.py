"""Inline SVG line charts of rates (no JavaScript, no bundle)."""

from __future__ import annotations

from html import escape

from alignlab.monitor import RateBucket

__all__ = ["rate_chart"]

_W, _H, _PAD = 480, 120, 24


def rate_chart(buckets: list[RateBucket]) -> str:
    """An SVG polyline of the rate per bucket (0–100 %), empty buckets skipped; safe to embed as markup."""
    points = [(i, b.rate) for i, b in enumerate(buckets) if b.n]
    if not points:
        return f'<svg width="{_W}" height="{_H}" role="img"><text x="10" y="60">no scored traffic yet</text></svg>'
    span = max(len(buckets) - 1, 1)
    coords = " ".join(
        f"{_PAD + (_W - 2 * _PAD) * i / span:.1f},{_H - _PAD - (_H - 2 * _PAD) * rate:.1f}" for i, rate in points
    )
    label = escape(f"{buckets[0].start:%m-%d %H:%M} → {buckets[-1].start:%m-%d %H:%M} UTC")
    dots = "".join(
        f'<circle cx="{_PAD + (_W - 2 * _PAD) * i / span:.1f}" cy="{_H - _PAD - (_H - 2 * _PAD) * rate:.1f}" r="2">'
        f"<title>{rate:.1%}</title></circle>"
        for i, rate in points
    )
    return (
        f'<svg width="{_W}" height="{_H}" role="img" class="chart">'
        f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - _PAD}" y2="{_H - _PAD}" stroke="#999"/>'
        f'<line x1="{_PAD}" y1="{_PAD}" x2="{_PAD}" y2="{_H - _PAD}" stroke="#999"/>'
        f'<text x="2" y="{_PAD + 4}" font-size="10">100%</text><text x="8" y="{_H - _PAD}" font-size="10">0%</text>'
        f'<polyline fill="none" stroke="#c33" stroke-width="2" points="{coords}"/>{dots}'
        f'<text x="{_PAD}" y="{_H - 6}" font-size="10">{label}</text></svg>'
    )

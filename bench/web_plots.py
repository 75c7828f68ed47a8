"""The web section's plot: both pairs of rates, drawn with matplotlib off-screen."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from .web_harness import PairedRates


def web_bars(path: Path, posts: PairedRates, likes: PairedRates) -> None:
    """Two panels, posts/s and likes/s: a bar per median, a dot per round."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(7, 3.2))
    _pair(left, posts, "posts stored / s", "Feed backlog into PostgreSQL")
    _pair(right, likes, "function calls / s", "Likes into device calls")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _pair(axes: Axes, rates: PairedRates, unit: str, title: str) -> None:
    labels = ["baseline", "web process"]
    rounds = [rates.baseline, rates.web]
    medians = [rates.baseline_median, rates.web_median]
    bars = axes.bar(labels, medians, width=0.55, color=["tab:blue", "tab:orange"])
    # The web's bar can be a sliver beside the baseline's; the number still shows.
    axes.bar_label(bars, fmt="{:,.0f}", padding=2, fontsize=9)
    axes.margins(y=0.12)
    for x, values in enumerate(rounds):
        axes.plot([x] * len(values), values, "k.", markersize=5)
    axes.set_ylabel(unit)
    axes.set_title(f"{title}\nweb / baseline = {rates.ratio:.2f}", fontsize=10)

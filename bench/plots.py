"""Plots for docs/benchmarks.md, drawn with matplotlib without a screen."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure


def throughput_bars(path: Path, worker: list[float], baseline: list[float]) -> None:
    figure, axes = plt.subplots(figsize=(6, 3.2))
    rounds = range(1, len(worker) + 1)
    width = 0.38
    axes.bar([r - width / 2 for r in rounds], baseline, width, label="plain aio-pika")
    axes.bar([r + width / 2 for r in rounds], worker, width, label="worker (SSE in)")
    axes.set_xlabel("round")
    axes.set_ylabel("confirmed messages / s")
    axes.set_xticks(list(rounds))
    axes.legend(loc="lower right")
    axes.set_title("Publishing with confirms")
    _save(figure, path)


def latency_cdf(path: Path, worker_ms: list[float], baseline_ms: list[float]) -> None:
    figure, axes = plt.subplots(figsize=(6, 3.2))
    for label, samples in (("plain aio-pika", baseline_ms), ("worker", worker_ms)):
        ordered = sorted(samples)
        fractions = [(i + 1) / len(ordered) for i in range(len(ordered))]
        axes.plot(ordered, fractions, label=label)
    axes.set_xscale("log")
    axes.set_xlabel("latency, ms (log scale)")
    axes.set_ylabel("fraction of events")
    axes.axhline(0.99, color="grey", linewidth=0.6, linestyle=":")
    axes.legend(loc="lower right")
    axes.set_title("Write to consumer at a steady rate")
    _save(figure, path)


def memory_line(path: Path, samples: list[tuple[int, int]]) -> None:
    figure, axes = plt.subplots(figsize=(6, 3.2))
    axes.plot([seen / 1000 for seen, _ in samples], [rss / 2**20 for _, rss in samples])
    axes.set_xlabel("events through the worker (thousands)")
    axes.set_ylabel("worker RSS, MiB")
    axes.set_ylim(bottom=0)
    axes.set_title("Worker memory over the run")
    _save(figure, path)


def _save(figure: Figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)

"""The run's outcome: a table on the terminal, results.json and a PNG plot."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from sogenactif.bench.load import LevelResult

#: The issue's targets (reported, never asserted by the test suite).
TARGET_RATIO = 0.35
TARGET_P99_MS = 15.0
TARGET_P99_CONNECTIONS = 32
TARGET_RSS_MB = 200.0
TARGET_GROWTH = 0.10

CEILING, CARD_ORDER, CARD_ORDER_GROWN = "ceiling", "cardOrder", "cardOrder+preload"


@dataclass
class Report:
    machine: dict[str, Any]
    settings: dict[str, Any]
    durable: dict[str, float]
    levels: list[LevelResult] = field(default_factory=list)
    preload_seconds: float | None = None

    def by(self, target: str) -> dict[int, LevelResult]:
        return {r.connections: r for r in self.levels if r.target == target}

    def ratios(self, target: str = CARD_ORDER) -> dict[int, float]:
        """cardOrder's throughput over the ceiling's, at each concurrency."""
        ceiling, orders = self.by(CEILING), self.by(target)
        return {c: orders[c].throughput / ceiling[c].throughput
                for c in orders if c in ceiling and ceiling[c].throughput > 0}

    def peak(self, target: str) -> float:
        return max((r.throughput for r in self.levels if r.target == target), default=0.0)

    def checks(self) -> list[tuple[str, bool, str]]:
        """The issue's targets against this run: (what, met, the figures).

        The ratio to the ceiling is a target for every setting; p99 and memory are targets
        of the default setting only (SQLite, one worker)."""
        out: list[tuple[str, bool, str]] = []
        ceiling, orders = self.peak(CEILING), self.peak(CARD_ORDER)
        if ceiling and orders:
            ratio = orders / ceiling
            out.append((f"cardOrder peak ≥ {TARGET_RATIO}× ceiling peak", ratio >= TARGET_RATIO,
                        f"{orders:,.0f} / {ceiling:,.0f} req/s = {ratio:.2f}×"))
        default = self.settings.get("backend") == "sqlite" and self.settings.get("workers") == 1
        at = self.by(CARD_ORDER).get(TARGET_P99_CONNECTIONS)
        if at is not None and default:
            p99 = at.percentile(99)
            out.append((f"cardOrder p99 ≤ {TARGET_P99_MS:g} ms at {TARGET_P99_CONNECTIONS}"
                        " connections", p99 <= TARGET_P99_MS, f"{p99:.2f} ms"))
        rss = max((r.peak_rss_mb for r in self.levels), default=0.0)
        if default:
            out.append((f"server memory ≤ {TARGET_RSS_MB:g} MB", rss <= TARGET_RSS_MB,
                        f"{rss:.0f} MB peak"))
        errors = sum(r.errors for r in self.levels)
        out.append(("no errors", errors == 0, f"{errors} errors"))
        grown = self.peak(CARD_ORDER_GROWN)
        if grown and orders:
            change = grown / orders - 1
            out.append((f"with the preload, within {TARGET_GROWTH:.0%} of the empty store",
                        change >= -TARGET_GROWTH,
                        f"{grown:,.0f} vs {orders:,.0f} req/s ({change:+.1%})"))
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "machine": self.machine, "settings": self.settings, "durable": self.durable,
            "preload_seconds": self.preload_seconds,
            "levels": [r.as_dict() for r in self.levels],
            "ratios": {t: self.ratios(t) for t in (CARD_ORDER, CARD_ORDER_GROWN)},
            "checks": [{"target": w, "met": m, "figures": f} for w, m, f in self.checks()],
        }


def print_report(report: Report, console: Console) -> None:
    table = Table(title="sogenactif bench", title_justify="left")
    for name in ("endpoint", "conns", "answered", "errors", "req/s", "p50 ms", "p90 ms",
                 "p99 ms", "max ms", "peak RSS MB", "CPU ms/answer", "× ceiling"):
        table.add_column(name, justify="left" if name == "endpoint" else "right")
    ratios = {t: report.ratios(t) for t in (CARD_ORDER, CARD_ORDER_GROWN)}
    for r in report.levels:
        ratio = ratios.get(r.target, {}).get(r.connections)
        table.add_row(r.target, str(r.connections), f"{r.answered}/{r.sent}", str(r.errors),
                      f"{r.throughput:,.0f}", f"{r.percentile(50):.2f}",
                      f"{r.percentile(90):.2f}", f"{r.percentile(99):.2f}",
                      f"{r.percentile(100):.2f}", f"{r.peak_rss_mb:.0f}",
                      f"{r.cpu_ms_per_answer:.3f}",
                      "" if ratio is None else f"{ratio:.2f}")
    console.print(table)
    durable = ", ".join(f"{k} {v:,.0f}/s" for k, v in report.durable.items())
    console.print(f"Durable-write rate of this machine (one writer): {durable}")
    if report.preload_seconds is not None:
        console.print(f"Preload of {report.settings['preload']:,} transactions: "
                      f"{report.preload_seconds:.1f} s")
    for what, met, figures in report.checks():
        mark = "[green]met[/]" if met else "[red]missed[/]"
        console.print(f"  {mark}  {what}: {figures}")


def markdown(report: Report) -> str:
    """The table and the checks, as Markdown (what docs/benchmarks.md quotes)."""
    ratios = {t: report.ratios(t) for t in (CARD_ORDER, CARD_ORDER_GROWN)}
    lines = ["| endpoint | connections | answered | errors | answers/s | p50 ms | p90 ms | "
             "p99 ms | max ms | peak RSS MB | server CPU ms/answer | × ceiling |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in report.levels:
        ratio = ratios.get(r.target, {}).get(r.connections)
        lines.append(
            f"| {r.target} | {r.connections} | {r.answered}/{r.sent} | {r.errors} | "
            f"{r.throughput:,.0f} | {r.percentile(50):.2f} | {r.percentile(90):.2f} | "
            f"{r.percentile(99):.2f} | {r.percentile(100):.2f} | {r.peak_rss_mb:.0f} | "
            f"{r.cpu_ms_per_answer:.3f} | {'' if ratio is None else f'{ratio:.2f}'} |")
    durable = ", ".join(f"{k.replace('_', ' ')} {v:,.0f}/s" for k, v in report.durable.items())
    lines += ["", f"Durable-write rate (one writer, one commit at a time): {durable}."]
    if report.preload_seconds is not None:
        lines.append(f"Preload of {report.settings['preload']:,} transactions: "
                     f"{report.preload_seconds:.1f} s.")
    lines += ["", "| target | met | figures |", "|---|---|---|"]
    lines += [f"| {what} | {'yes' if met else '**no**'} | {figures} |"
              for what, met, figures in report.checks()]
    machine = report.machine
    lines += ["", f"Run at {machine['at']} on {machine['cpus']} × {machine['cpu_model']} "
              f"({machine['memory_gb']} GB, {machine['system']}, Python {machine['python']}, "
              f"SQLite {machine.get('sqlite', '?')}), load average before the run "
              f"{', '.join(str(x) for x in machine['load_average'])}; "
              f"`{report.settings['command']}`."]
    return "\n".join(lines) + "\n"


def write_json(report: Report, path: Path) -> None:
    path.write_text(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n")


def plot(report: Report, path: Path) -> None:
    """Throughput (x) against latency (y, p50 dashed and p99 solid), one line per endpoint."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5), dpi=120)
    colours = {CEILING: "tab:grey", CARD_ORDER: "tab:blue", CARD_ORDER_GROWN: "tab:orange"}
    for target, colour in colours.items():
        results = sorted(report.by(target).values(), key=lambda r: r.connections)
        if not results:
            continue
        xs = [r.throughput for r in results]
        axes.plot(xs, [r.percentile(99) for r in results], "o-", color=colour,
                  label=f"{target} p99")
        axes.plot(xs, [r.percentile(50) for r in results], "s--", color=colour, alpha=0.6,
                  label=f"{target} p50")
        for r in results:
            axes.annotate(f"{r.connections}c", (r.throughput, r.percentile(99)),
                          textcoords="offset points", xytext=(4, 4), fontsize=8)
    axes.axhline(TARGET_P99_MS, color="tab:red", linewidth=0.8, linestyle=":",
                 label=f"p99 target {TARGET_P99_MS:g} ms")
    axes.set_xlabel("throughput (answers per second)")
    axes.set_ylabel("latency (ms)")
    axes.set_yscale("log")
    settings = report.settings
    axes.set_title(f"sogenactif bench: {settings['backend']}, {settings['workers']} worker(s), "
                   f"{report.machine.get('cpus')} CPUs")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)

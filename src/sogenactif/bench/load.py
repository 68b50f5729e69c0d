"""One load level: wrk, one connection per thread, every body sent once; exact percentiles."""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DRIVER = Path(__file__).with_name("driver.lua")
#: Bounds that keep a run on a shared machine short and its files small.
MAX_CONNECTIONS = 256
MAX_SECONDS = 600


class WrkMissing(RuntimeError):
    pass


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise WrkMissing("wrk is not installed: `apt-get install -y wrk` (Debian/Ubuntu)")
    return found


@dataclass
class LevelResult:
    """What one endpoint did at one concurrency."""

    target: str
    connections: int
    sent: int = 0  # bodies prepared for the level
    answered: int = 0
    good: int = 0
    socket_errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    peak_rss_mb: float = 0.0
    server_cpu_seconds: float = 0.0  # CPU the server used during the level

    @property
    def cpu_ms_per_answer(self) -> float:
        return 1000 * self.server_cpu_seconds / self.answered if self.answered else 0.0

    @property
    def errors(self) -> int:
        """Answers not as expected (non-200 or another responseCode) and socket errors."""
        return self.answered - self.good + self.socket_errors

    @property
    def throughput(self) -> float:
        """Good answers per second, from the first request sent to the last answer."""
        return self.good / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, p: float) -> float:
        """Exact percentile (nearest rank) of the answers' latencies, in milliseconds."""
        values = self.latencies_ms
        if not values:
            return math.nan
        rank = max(1, math.ceil(p / 100 * len(values)))
        return values[rank - 1]

    def as_dict(self) -> dict[str, object]:
        return {
            "target": self.target, "connections": self.connections, "sent": self.sent,
            "answered": self.answered, "good": self.good, "errors": self.errors,
            "socket_errors": self.socket_errors, "seconds": round(self.seconds, 3),
            "throughput": round(self.throughput, 1),
            "p50_ms": round(self.percentile(50), 3), "p90_ms": round(self.percentile(90), 3),
            "p99_ms": round(self.percentile(99), 3), "max_ms": round(self.percentile(100), 3),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "server_cpu_ms_per_answer": round(self.cpu_ms_per_answer, 3),
        }


class _Answers:
    """Reads the driver's per-thread files as they grow."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.lines = 0
        self.ended = False

    def poll(self) -> None:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n") + 1
        self.offset += end
        chunk = data[:end]
        self.lines += chunk.count(b"\n") - chunk.count(b"START ") - chunk.count(b"END\n")
        if b"END\n" in chunk:
            self.ended = True


def run_level(base_url: str, path: str, target: str, bodies: list[bytes], connections: int,
              workdir: Path, *, max_seconds: float, expected: str,
              progress: Callable[[int], None] | None = None,
              sample: Callable[[], float] | None = None) -> LevelResult:
    """Send every body once over ``connections`` keep-alive connections; exact results."""
    if not 1 <= connections <= MAX_CONNECTIONS:
        raise ValueError(f"connections must be within 1..{MAX_CONNECTIONS}")
    if len(bodies) < connections:
        raise ValueError("at least one body per connection")
    max_seconds = min(max_seconds, MAX_SECONDS)
    directory = workdir / f"{target}-{connections}"
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    for thread in range(connections):
        (directory / f"bodies-{thread}.jsonl").write_bytes(
            b"\n".join(bodies[thread::connections]) + b"\n")
    files = [_Answers(directory / f"answers-{thread}.txt") for thread in range(connections)]
    command = [wrk_path(), "-t", str(connections), "-c", str(connections),
               "-d", f"{math.ceil(max_seconds)}s", "--timeout", "10s", "-s", str(DRIVER),
               base_url + path, "--", str(directory), path, expected]
    result = LevelResult(target, connections, sent=len(bodies))
    with open(directory / "wrk.out", "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            done = 0
            while process.poll() is None:
                time.sleep(0.1)
                for answers in files:
                    answers.poll()
                now_done = sum(a.lines for a in files)
                if progress is not None and now_done != done:
                    progress(now_done - done)
                done = now_done
                if sample is not None:
                    result.peak_rss_mb = max(result.peak_rss_mb, sample())
                if all(a.ended for a in files):
                    process.send_signal(signal.SIGINT)  # ends wrk's sleep: it reports now
                    break
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    _parse(directory, connections, result)
    return result


def _parse(directory: Path, connections: int, result: LevelResult) -> None:
    starts: list[float] = []
    last = 0.0
    latencies: list[float] = []
    for thread in range(connections):
        path = directory / f"answers-{thread}.txt"
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            parts = line.split()
            if not parts or parts[0] == "END":
                continue
            if parts[0] == "START":
                starts.append(float(parts[1]))
                continue
            if len(parts) != 3:
                continue  # a line cut short when wrk was stopped by its own deadline
            at, micros, ok = float(parts[0]), float(parts[1]), parts[2] == "1"
            last = max(last, at)
            latencies.append(micros / 1000)
            result.answered += 1
            result.good += ok
    latencies.sort()
    result.latencies_ms = latencies
    result.seconds = last - min(starts) if starts and last else 0.0
    summary = (directory / "wrk.out").read_text(errors="replace")
    for line in summary.splitlines():
        if line.startswith("WRK_SUMMARY"):
            values = dict(item.split("=") for item in line.split()[1:])
            result.socket_errors = sum(int(values[k]) for k in ("connect", "read", "write",
                                                                  "timeout"))

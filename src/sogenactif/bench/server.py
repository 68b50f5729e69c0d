"""The server under test: `sogenactif serve` on 127.0.0.1, a free port, its own files."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

#: Set in the server's environment: enables the no-database ceiling route.
CEILING_ENV = "SOGENACTIF_BENCH_CEILING"
HOST = "127.0.0.1"  # the harness only ever loads a server it started on this machine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class BenchServer:
    """Starts, watches (peak memory of all its processes) and stops one server."""

    def __init__(self, database_url: str, workdir: Path, *, workers: int = 1) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.workers = workers
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 120) -> BenchServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "sogenactif", "serve", "--host", HOST,
                   "--port", str(self.port), "--database-url", self.database_url,
                   "--workers", str(self.workers),
                   "--master-key-file", str(self.workdir / "sogenactif.masterkey")]
        env = {**os.environ, CEILING_ENV: "1"}
        env.pop("SOGENACTIF_MASTER_KEY", None)
        with open(self.workdir / "server.log", "ab") as log:
            self.process = subprocess.Popen(command, cwd=self.workdir, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the server exited:\n" + self.log())
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200 \
                        and self._workers_up():
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("the server did not start:\n" + self.log())

    def _workers_up(self) -> bool:
        return self.workers == 1 or len(self._processes()) > self.workers

    def _processes(self) -> list[psutil.Process]:
        if self.process is None:
            return []
        try:
            root = psutil.Process(self.process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def rss_mb(self) -> float:
        """Resident memory of the server and its workers, summed, in MB."""
        total = 0
        for process in self._processes():
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total / 1e6

    def cpu_seconds(self) -> float:
        """CPU time (user and system) used so far by the server and its workers."""
        total = 0.0
        for process in self._processes():
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total

    def log(self) -> str:
        path = self.workdir / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

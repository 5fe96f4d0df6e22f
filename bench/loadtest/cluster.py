"""The processes under test: gunicorn web processes (``motcua run --no-worker``) and task workers
(``motcua worker``), started with one environment, stopped by their own process ids; and the CPU time
each group uses, read from /proc (web tree, worker tree, PostgreSQL backends, this process)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of one process (its own threads; not its children), or None when gone."""
    fields = _stat(pid)
    if fields is None:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15 of /proc/pid/stat)


def descendants(root: int) -> list[int]:
    """``root`` and every process below it."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat(int(stat.parent.name))
        if fields is not None:
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def tree_cpu(root: int) -> dict[int, float]:
    return {pid: cpu for pid in descendants(root) if (cpu := cpu_seconds(pid)) is not None}


@dataclass
class CpuWindow:
    """CPU seconds a group of processes used between ``start()`` and ``stop()``; processes that appear in
    the window count from zero, processes that end in it count up to their last sample."""
    sample: object  # () -> dict[pid, cpu seconds]
    interval: float = 0.5
    first: dict[int, float] = field(default_factory=dict)
    last: dict[int, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self.first = dict(self.sample())  # type: ignore[operator]
        self.last = dict(self.first)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._take()

    def _take(self) -> None:
        for pid, cpu in self.sample().items():  # type: ignore[operator]
            self.first.setdefault(pid, 0.0)
            self.last[pid] = cpu

    def stop(self) -> float:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._take()
        return sum(max(0.0, self.last[pid] - self.first.get(pid, 0.0)) for pid in self.last)


class Cluster:
    """``web`` gunicorn processes and ``workers`` task-worker processes on one database."""

    def __init__(self, env: dict[str, str], logs: Path, *, web: int, workers: int, port: int | None = None,
                 web_args: tuple[str, ...] = (), command: list[str] | None = None, name: str = "web"):
        """``web_args`` are added to ``motcua run``; ``command`` replaces it (another WSGI server that binds
        ``self.port`` and answers ``/healthz``); ``name`` names its log file."""
        self.env = env
        self.web_args, self.command, self.name = tuple(web_args), command, name
        self.logs = logs  # each process's stderr (a pipe nobody reads would fill and block it)
        self.web_n, self.workers_n = web, workers
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None

    def start(self, timeout: float = 120.0) -> None:
        env = {**self.env, "MOTCUA_PUBLIC_URL": self.base}
        # the access log goes to stdout: kept (a deployment keeps it), thrown away here
        self.logs.mkdir(parents=True, exist_ok=True)
        argv = self.command or [sys.executable, "-m", "motcua", "run", "--no-worker", "--port", str(self.port),
                                "--workers", str(self.web_n), *self.web_args]
        with open(self.logs / f"{self.name}.log", "wb") as err:
            self.web = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
        if self.workers_n:
            with open(self.logs / "worker.log", "wb") as err:
                self.worker = subprocess.Popen([sys.executable, "-m", "motcua", "worker", "--concurrency",
                                                str(self.workers_n)], cwd=ROOT, env=env,
                                               stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.web.poll() is not None:
                raise RuntimeError("the web server stopped: " + self.tail(self.name))
            try:
                if requests.get(f"{self.base}/healthz", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"the web server did not answer /healthz within {timeout:.0f} s")
        # every gunicorn worker has loaded the app once it answers; wait until all are forked
        while len(descendants(self.web.pid)) < 1 + self.web_n and time.monotonic() < deadline:
            time.sleep(0.1)

    def check_alive(self) -> None:
        for name, proc in (("web server", self.web), ("worker", self.worker)):
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"the {name} stopped: " + self.tail("worker" if name == "worker" else self.name))

    def tail(self, name: str, size: int = 3000) -> str:
        try:
            return (self.logs / f"{name}.log").read_text(errors="replace")[-size:]
        except OSError:
            return "(no log)"

    def web_processes(self) -> list[int]:
        """The gunicorn worker processes (the master excluded)."""
        return descendants(self.web.pid)[1:] if self.web else []  # type: ignore[union-attr]

    def web_cpu(self) -> dict[int, float]:
        return tree_cpu(self.web.pid) if self.web else {}  # type: ignore[union-attr]

    def worker_cpu(self) -> dict[int, float]:
        return tree_cpu(self.worker.pid) if self.worker else {}  # type: ignore[union-attr]

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM to each started process (the worker finishes the task at hand), SIGKILL after ``timeout``."""
        for proc in (self.web, self.worker):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in (self.web, self.worker):
            if proc is None:
                continue
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                for pid in reversed(descendants(proc.pid)):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                proc.wait()


def own_cpu() -> dict[int, float]:
    t = os.times()
    return {os.getpid(): t.user + t.system}

"""The load generator: client threads (one keep-alive ``requests.Session`` each) that act as the
citizens and the staff of a burst. A thread returns a dossier whose results are signed first, else
takes the next staff action of a dossier in progress, else files a new dossier (create + submit);
``rate`` caps the filings per second (0: as fast as the threads go). Latency is recorded per kind of
request while ``recording`` is set."""
from __future__ import annotations

import collections
import itertools
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import requests

# the staff actions after submit, in order, with the role that takes each (the demo's staff usernames)
STEPS = (("receive", "clerk"), ("assign", "leader"), ("appraise", "specialist"), ("approve", "leader"))
RETURN = ("return_result", "clerk")
KINDS = ("create", "submit", *(a for a, _ in STEPS), RETURN[0])
# every one of them writes an audit event (creating the draft too): a persisted transition
TRANSITION_KINDS = KINDS


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: collections.Counter = field(default_factory=collections.Counter)
    error_samples: list[str] = field(default_factory=list)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest rank (the same as the other benchmarks)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(q * len(ordered) + 0.5)) - 1))]


class Driver:
    def __init__(self, base: str, citizen_tokens: list[str], staff_tokens: dict[str, str], *, procedure: str,
                 form: Callable[[int], dict], clients: int, rate: float = 0.0,
                 returnable: Callable[[list[str]], Iterable[str]] | None = None, poll: float = 0.25):
        self.base = base
        self.citizens = itertools.cycle(citizen_tokens)
        self.staff = staff_tokens
        self.procedure, self.form = procedure, form
        self.clients, self.rate = clients, rate
        self.returnable, self.poll = returnable, poll
        self.lock = threading.Lock()
        self.ready: collections.deque[tuple[str, int]] = collections.deque()
        self.to_return: collections.deque[str] = collections.deque()
        self.awaiting: set[str] = set()  # approved, results not yet signed
        self.filed = 0
        self.returned = 0
        self.started = 0.0
        self.stopping = threading.Event()
        self.recording = False
        self.tally = Tally()
        self.threads: list[threading.Thread] = []

    # ---------------------------------------------------------------------------------- control

    def start(self) -> None:
        self.started = time.monotonic()
        self.threads = [threading.Thread(target=self._client, daemon=True, name=f"client-{i}")
                        for i in range(self.clients)]
        if self.returnable is not None:
            self.threads.append(threading.Thread(target=self._watch, daemon=True, name="watch"))
        for t in self.threads:
            t.start()

    def stop(self) -> None:
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=120)

    # ---------------------------------------------------------------------------------- work

    def _take(self) -> tuple[str, object] | None:
        with self.lock:
            if self.to_return:
                return "return", self.to_return.popleft()
            if self.ready:
                return "step", self.ready.popleft()
            if self.rate and self.filed >= self.rate * (time.monotonic() - self.started):
                return None
            self.filed += 1
            return "file", next(self.citizens)

    def _client(self) -> None:
        http = requests.Session()
        while not self.stopping.is_set():
            job = self._take()
            if job is None:
                time.sleep(0.005)
                continue
            kind, what = job
            if kind == "return":
                if self._post(http, RETURN[0], f"/api/v1/dossiers/{what}/actions/{RETURN[0]}", self.staff[RETURN[1]], {}):
                    with self.lock:
                        self.returned += 1
            elif kind == "step":
                did, i = what  # type: ignore[misc]
                action, role = STEPS[i]
                if self._post(http, action, f"/api/v1/dossiers/{did}/actions/{action}", self.staff[role], {}):
                    with self.lock:
                        if i + 1 < len(STEPS):
                            self.ready.append((did, i + 1))
                        else:
                            self.awaiting.add(did)
            else:
                token = str(what)
                view = self._post(http, "create", "/api/v1/dossiers", token,
                                  {"procedure": self.procedure, "data": self.form(self.filed)})
                if view and self._post(http, "submit", f"/api/v1/dossiers/{view['id']}/actions/submit", token, {}):
                    with self.lock:
                        self.ready.append((view["id"], 0))
        http.close()

    def _post(self, http: requests.Session, kind: str, path: str, token: str, body: dict) -> dict | None:
        t0 = time.perf_counter()
        try:
            r = http.post(self.base + path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=120)
        except requests.RequestException as exc:
            self._error(kind, f"{kind}: {type(exc).__name__}")
            return None
        elapsed = time.perf_counter() - t0
        if r.status_code >= 400:
            self._error(kind, f"{kind}: HTTP {r.status_code} {r.text[:300]}")
            return None
        if self.recording:
            self.tally.latencies[kind].append(elapsed)
        return r.json()

    def _error(self, kind: str, message: str) -> None:
        with self.lock:
            self.tally.errors[kind] += 1
            if len(self.tally.error_samples) < 5:
                self.tally.error_samples.append(message)

    def _watch(self) -> None:
        """Hands the clerks the approved dossiers whose results are signed (what their queue page shows)."""
        while not self.stopping.wait(self.poll):
            with self.lock:
                waiting = list(self.awaiting)
            if not waiting:
                continue
            done = list(self.returnable(waiting))  # type: ignore[misc]
            with self.lock:
                for did in done:
                    if did in self.awaiting:
                        self.awaiting.discard(did)
                        self.to_return.append(did)

    # ---------------------------------------------------------------------------------- baseline

    def hammer(self, path: str, seconds: float) -> tuple[int, list[float], int]:
        """GET ``path`` from every client thread for ``seconds``: (answers, latencies, errors)."""
        lat: list[float] = []
        errors = [0]
        stop = time.monotonic() + seconds
        lock = threading.Lock()

        def client() -> None:
            http = requests.Session()
            mine: list[float] = []
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                try:
                    ok = http.get(self.base + path, timeout=60).status_code == 200
                except requests.RequestException:
                    ok = False
                if ok:
                    mine.append(time.perf_counter() - t0)
                else:
                    with lock:
                        errors[0] += 1
            with lock:
                lat.extend(mine)
            http.close()

        threads = [threading.Thread(target=client, daemon=True) for _ in range(self.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return len(lat), lat, errors[0]

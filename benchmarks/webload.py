"""A load generator for the respondent flow, speaking plain HTTP/1.1 to 127.0.0.1.

Respondents are state machines that walk the questionnaire the way a browser with
`respond.js` does: the landing page, then pages in order; on each page they answer the
visible fields one or two at a time (each pause sends an autosave whose reply says which
fields are now relevant, so follow-up questions appear), then save the page with every
visible value and follow the redirect to the next page; after the last page, the review.

- `open_loop`: requests start at scheduled times (Poisson arrivals at a fixed total rate),
  whatever the server's response times; each arrival goes to the respondent whose think
  time ended first. Latency counts from the scheduled start, so a late start is not hidden.
- `closed_loop`: N clients, no think time, as fast as the server answers (saturation).
Every loop is bounded by a request count and a wall-clock cap. No app code is imported.
"""
from __future__ import annotations

import heapq
import http.client
import json
import math
import random
import threading
import time
import urllib.parse
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser

TIMEOUT = 30  # seconds per request
IDLE_RECONNECT = 1.0  # gunicorn closes keep-alive connections idle for 2 s: reconnect before that


@dataclass
class Request:
    """One HTTP request of a session, and what kind of request it is for the report."""

    kind: str  # "page" (landing, questionnaire page, review), "autosave", "save", "bare"
    method: str
    path: str
    body: bytes | None = None
    content_type: str = ""


@dataclass
class Reply:
    """What the server answered."""

    status: int
    location: str
    body: bytes


class Client:
    """One browser: a keep-alive connection (reopened after an idle pause) and its cookies."""

    def __init__(self, port: int):
        self.port = port
        self.conn: http.client.HTTPConnection | None = None
        self.last_used = 0.0
        self.cookies: dict[str, str] = {}

    def send(self, request: Request) -> Reply:
        """Send a request and read the whole reply (redirects are not followed)."""
        if self.conn is not None and time.monotonic() - self.last_used > IDLE_RECONNECT:
            self.close()
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        headers = {"Accept": "application/json" if request.kind == "autosave" else "text/html"}
        if request.content_type:
            headers["Content-Type"] = request.content_type
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.conn.request(request.method, request.path, body=request.body, headers=headers)
            response = self.conn.getresponse()
            body = response.read()
        except BaseException:
            self.close()
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, value = header.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        self.last_used = time.monotonic()
        return Reply(response.status, response.getheader("Location") or "", body)

    def close(self) -> None:
        """Drop the connection (the next request opens a new one)."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass
class Input:
    """A form control as the browser sees it."""

    name: str
    kind: str  # radio, checkbox, text, number, decimal, url, email, date, textarea, select
    path: str  # data-path of the field wrapper it sits in
    options: list[str] = field(default_factory=list)


class PageForm(HTMLParser):
    """The questionnaire form of a page: its action, controls and which fields are shown."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.action = ""
        self.autosave = ""
        self.inputs: dict[str, Input] = {}
        self.hidden_paths: set[str] = set()
        self._divs: list[tuple[str, bool]] = []  # (data-path, hidden) of open <div>s
        self._in_form = False
        self._select: Input | None = None
        self.feed(html)
        self.close()

    def _path(self) -> str:
        return next((p for p, _ in reversed(self._divs) if p), "")

    def handle_starttag(self, tag, attrs):  # noqa: D102
        a = dict(attrs)
        if tag == "form" and a.get("id") == "questionnaire":
            self._in_form = True
            self.action = a.get("action") or ""
            self.autosave = a.get("data-autosave") or ""
        elif tag == "div":
            path = a.get("data-path") or ""
            self._divs.append((path, "hidden" in a))
            if path and "hidden" in a:
                self.hidden_paths.add(path)
        elif not self._in_form or "disabled" in a:
            return
        elif tag == "input" and a.get("name") and a.get("type") not in ("hidden", "submit", "button", "file"):
            kind = a.get("type") or "text"
            if kind == "text" and a.get("inputmode") in ("numeric", "decimal"):
                kind = "number" if a["inputmode"] == "numeric" else "decimal"
            if kind == "text" and "email" in a["name"]:
                kind = "email"
            control = self.inputs.setdefault(a["name"], Input(a["name"], kind, self._path()))
            if kind in ("radio", "checkbox") and a.get("value"):
                control.options.append(a["value"])
        elif tag == "textarea" and a.get("name"):
            self.inputs.setdefault(a["name"], Input(a["name"], "textarea", self._path()))
        elif tag == "select" and a.get("name"):
            self._select = self.inputs.setdefault(a["name"], Input(a["name"], "select", self._path()))
        elif tag == "option" and self._select is not None and a.get("value"):
            self._select.options.append(a["value"])

    def handle_endtag(self, tag):  # noqa: D102
        if tag == "div" and self._divs:
            self._divs.pop()
        elif tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None


PHRASES = ["Informe anual publicado en el portal", "Acta de la sesión ordinaria", "Oficio de respuesta",
           "Titular de la Unidad de Transparencia", "Dirección de Planeación", "Lista de asistencia"]


class Respondent:
    """One institution's respondent walking the questionnaire behind its secret link."""

    def __init__(self, token: str, rng: random.Random, pages: int):
        self.base = f"/r/{token}"
        self.rng = rng
        self.pages = pages
        self.slug = token[:8].lower().replace("-", "").replace("_", "")
        self.form: PageForm | None = None
        self.index = 0
        self.todo: list[str] = []
        self.values: dict[str, str | list[str]] = {}
        start = rng.randrange(pages)  # people are spread over the questionnaire
        self.next = Request("page", "GET", self.base) if rng.random() < 0.3 else self._page(start)

    def _page(self, n: int) -> Request:
        self.index = n
        return Request("page", "GET", f"{self.base}/p/{n}")

    def request(self) -> Request:
        """The request this respondent sends next."""
        return self.next

    def after(self, request: Request, reply: Reply) -> tuple[float, bool]:
        """Take the reply; (think seconds before the next request, True when the reply was expected)."""
        rng = self.rng
        if request.kind == "page":
            if reply.status in (302, 303) and reply.location:  # a page skip logic left empty sends on
                self.next = Request("page", "GET", _local(reply.location))
                return 0.0, True
            if reply.status != 200:
                self.next = self._page(0)
                return rng.uniform(2, 6), False
            if request.path == self.base or request.path.endswith("/review"):
                self.next = self._page(0)  # from the landing page, or a new visit after the review
                return rng.uniform(3, 10), True
            self._read_page(reply.body.decode("utf-8", "replace"))
            return rng.uniform(2, 6), True
        if request.kind == "autosave":
            ok = reply.status == 200
            if ok:
                try:
                    self._relevance(json.loads(reply.body).get("relevant") or {})
                except ValueError:
                    ok = False
            self.next = self._autosave() if self.todo else self._save()
            return rng.uniform(1.5, 6), ok
        # a page save: a redirect (followed at once, as a browser does) or the page again with messages
        if reply.status in (302, 303) and reply.location:
            self.next = Request("page", "GET", _local(reply.location))
            return 0.0, True
        self.next = self._page(self.index + 1) if self.index + 1 < self.pages else Request(
            "page", "GET", f"{self.base}/review")
        return rng.uniform(2, 6), reply.status in (200, 422)

    def _read_page(self, html: str) -> None:
        self.form = PageForm(html)
        if "/p/" in self.next.path:
            self.index = int(self.next.path.rsplit("/", 1)[1])
        self.values = {}
        self.todo = [name for name, control in self.form.inputs.items()
                     if control.path not in self.form.hidden_paths]
        if not self.form.autosave:  # read-only (already submitted): move on
            self.next = self._page((self.index + 1) % self.pages)
        elif self.todo:
            self.next = self._autosave()
        else:
            self.next = self._save()

    def _relevance(self, relevant: dict) -> None:
        """Apply the server's relevance, as respond.js does: show and hide fields."""
        form = self.form
        for path, shown in relevant.items():
            if shown:
                form.hidden_paths.discard(path)
            else:
                form.hidden_paths.add(path)
        for name, control in form.inputs.items():
            hidden = control.path in form.hidden_paths
            if not hidden and name not in self.values and name not in self.todo:
                self.todo.append(name)
            elif hidden and name in self.todo:
                self.todo.remove(name)

    def _autosave(self) -> Request:
        """Answer the next one or two fields and send them, as the debounced browser does."""
        batch = {}
        for _ in range(min(len(self.todo), self.rng.choice((1, 1, 1, 2)))):
            name = self.todo.pop(0)
            self.values[name] = batch[name] = self._value(self.form.inputs[name])
        body = json.dumps({"answers": batch}).encode()
        return Request("autosave", "POST", self.form.autosave, body, "application/json")

    def _save(self) -> Request:
        """Post the page: every shown field's value, the shown list and the 'next' button."""
        form = self.form
        shown = [c for c in form.inputs.values() if c.path not in form.hidden_paths]
        pairs = [("_shown", " ".join(dict.fromkeys(c.path for c in shown)))]
        for control in shown:
            value = self.values.get(control.name)
            if value is None:
                value = self.values[control.name] = self._value(control)
            pairs += [(control.name, v) for v in value] if isinstance(value, list) else [(control.name, value)]
        pairs.append(("action", "next"))
        body = urllib.parse.urlencode(pairs).encode()
        return Request("save", "POST", form.action, body, "application/x-www-form-urlencoded")

    def _value(self, control: Input) -> str | list[str]:
        """A plausible answer: yes more often than no, counts that add up, evidence URLs."""
        rng, kind, name = self.rng, control.kind, control.name
        if kind == "radio" or kind == "select":
            if "yes" in control.options and rng.random() < 0.6:
                return "yes"
            return rng.choice(control.options) if control.options else ""
        if kind == "checkbox":
            options = [o for o in control.options if o != "none"] or control.options
            return rng.sample(options, rng.randint(1, len(options))) if options else []
        if kind == "number":
            numbers = [int(v) for v in self.values.values() if isinstance(v, str) and v.isdigit()]
            return str(rng.randint(0, min(numbers)) if numbers else rng.randint(20, 400))
        if kind == "decimal":
            return str(rng.randint(0, 100))
        if kind == "url":
            return f"https://transparencia.{self.slug}.gob.mx/{name.replace('_', '-')}"
        if kind == "email":
            return f"transparencia@{self.slug}.gob.mx"
        if kind == "date":
            return f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        return rng.choice(PHRASES)


class Fixed:
    """A session that GETs the same path again and again (the bare baseline, warm-ups)."""

    def __init__(self, path: str = "/", kind: str = "bare"):
        self.path = path
        self.kind = kind

    def request(self) -> Request:
        """Always the same GET."""
        return Request(self.kind, "GET", self.path)

    def after(self, request: Request, reply: Reply) -> tuple[float, bool]:
        """No think time of its own; 200 expected."""
        return 0.0, reply.status == 200


def _local(location: str) -> str:
    parts = urllib.parse.urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class Stats:
    """Latencies by kind of request, errors, and how the run went."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    scheduled: int = 0
    offered_span: float = 0.0  # seconds from the start to the last scheduled arrival
    late: int = 0  # arrivals that found every respondent busy and waited for one
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, kind: str, seconds: float, ok: bool, what: str = "") -> None:
        """Record one finished request."""
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            if not ok:
                self.errors[kind] = self.errors.get(kind, 0) + 1
                if len(self.samples) < 5:
                    self.samples.append(what)

    @property
    def count(self) -> int:
        """Requests finished."""
        return sum(len(v) for v in self.latencies.values())

    @property
    def error_count(self) -> int:
        """Requests with an unexpected status or no reply."""
        return sum(self.errors.values())

    def rate(self) -> float:
        """Finished requests per second of wall clock."""
        return self.count / self.elapsed if self.elapsed else 0.0

    def percentile(self, kind: str, q: float) -> float:
        """The q-quantile (nearest rank) of a kind's latencies, in seconds; NaN when none."""
        values = sorted(self.latencies.get(kind, []))
        if not values:
            return float("nan")
        return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


def _exchange(client: Client, session, stats: Stats, started: float) -> float:
    """One request of a session; records its latency from `started`; returns the think time."""
    request = session.request()
    try:
        reply = client.send(request)
    except Exception as exc:  # refused, reset, timed out, malformed: an error, and the walk goes on
        stats.add(request.kind, time.monotonic() - started, False, f"{request.method} {request.kind}: {exc!r}")
        return 1.0
    latency = time.monotonic() - started  # before the session reads the page (the client's own work)
    try:
        think, ok = session.after(request, reply)
    except Exception as exc:  # a reply the session cannot read: an error, never a silent stop
        stats.add(request.kind, latency, False, f"{request.method} {request.kind}: {exc!r}")
        return 1.0
    stats.add(request.kind, latency, ok, f"{request.method} {request.kind}: HTTP {reply.status}")
    return think


def open_loop(port: int, sessions: list, rate: float, seconds: float, seed: int = 1) -> Stats:
    """Poisson arrivals at `rate` requests/s for `seconds`, each given to the session ready first.

    A session whose reply came back waits its think time; an arrival takes the session with
    the earliest end of think time even if it has not ended yet (the rate is what is fixed),
    and only when every session is waiting for a reply does the arrival queue (counted as late).
    """
    rng = random.Random(seed)
    stats = Stats()
    clients = [Client(port) for _ in sessions]
    start = time.monotonic()
    # (priority, ready at, index): a redirect to follow (priority 0) goes before everything
    ready = [(1, start + rng.uniform(0, 4), i) for i in range(len(sessions))]
    heapq.heapify(ready)
    backlog: deque[float] = deque()
    lock = threading.Lock()

    def run(i: int, scheduled: float) -> None:
        while True:
            think = _exchange(clients[i], sessions[i], stats, scheduled)
            with lock:
                if not backlog:
                    now = time.monotonic()
                    heapq.heappush(ready, (0 if think == 0 else 1, now + think, i))
                    return
                scheduled = backlog.popleft()

    total = int(rate * seconds)
    cap = start + seconds + 30
    with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
        arrival = start
        for _ in range(total):
            arrival += rng.expovariate(rate)
            pause = arrival - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            if time.monotonic() > cap:
                break
            stats.scheduled += 1
            stats.offered_span = arrival - start
            with lock:
                if not ready:
                    stats.late += 1
                    backlog.append(arrival)
                    continue
                _, _, i = heapq.heappop(ready)
            pool.submit(run, i, arrival)
        pool.shutdown(wait=True)
    stats.elapsed = time.monotonic() - start
    for client in clients:
        client.close()
    return stats


def closed_loop(port: int, sessions: list, clients: int, seconds: float, per_client: int = 100_000) -> Stats:
    """`clients` concurrent clients, no think time, each cycling through its share of sessions."""
    stats = Stats()
    barrier = threading.Barrier(clients + 1)
    deadline = [0.0]

    def run(j: int) -> None:
        mine = sessions[j::clients]
        browsers = [Client(port) for _ in mine]
        barrier.wait()
        for n in range(per_client):
            if time.monotonic() > deadline[0]:
                break
            k = n % len(mine)
            _exchange(browsers[k], mine[k], stats, time.monotonic())
        for browser in browsers:
            browser.close()

    threads = [threading.Thread(target=run, args=(j,)) for j in range(clients)]
    for t in threads:
        t.start()
    deadline[0] = time.monotonic() + seconds
    start = time.monotonic()
    barrier.wait()
    for t in threads:
        t.join(timeout=seconds + 2 * TIMEOUT)
    stats.elapsed = time.monotonic() - start
    return stats

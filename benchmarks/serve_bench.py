"""``steward serve`` on a catalog-sized project: ready time, latency under load, memory.

On a generated project of N documented products in 10 domains with a version history
(``serve_project.py``), this starts ``steward serve`` as a user would and measures:

- **ready**: from starting the process to the first answered request; the peer is
  ``steward ls`` on the same project (a command that loads it and reads the metastore);
- **load**: C concurrent clients (keep-alive HTTP, each its own thread) for S seconds,
  each asking in turn for a random product page, a search as a user types it (a prefix
  growing letter by letter) and the API document of a product, while a full-refresh run
  into another environment goes on in a separate process; p50/p95/max per kind, errors;
- **nothing lost**: every response a 200, the run succeeded, and the audit chain and
  the pointers verify afterwards;
- **memory**: the server's resident set size after the load;
- **server CPU per request**: the CPU time the server process used during the load,
  divided by the requests answered: on a machine shared with other work, latency
  includes waiting for a core, this does not; and the load generator's own CPU time
  (its clients share the machine with the server), and the load average.

The peer for a page is the command line answering the same question
(``steward catalog show P --json``, a new process each time, as a user types it).

    python benchmarks/serve_bench.py --products 1000 --clients 20 --seconds 30
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from serve_project import build  # noqa: E402

STEWARD = [os.path.join(os.path.dirname(sys.executable), "steward")]
FLOORS = {"product": 150.0, "search": 50.0}  # p95, milliseconds
RSS_FLOOR_MB = 300
READY_FLOOR_S = 2.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int) -> float:
    """User and system CPU seconds a process has used (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(root: str, port: int) -> tuple[subprocess.Popen[str], float]:
    t0 = time.perf_counter()
    proc = subprocess.Popen([*STEWARD, "serve", "--port", str(port)], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/api/v1/me")
            if c.getresponse().status == 200:
                return proc, time.perf_counter() - t0
        except OSError:
            pass
        if proc.poll() is not None:
            raise SystemExit(proc.communicate())
        if time.perf_counter() - t0 > 60:
            raise SystemExit("steward serve did not answer in 60 s")
        time.sleep(0.02)


def timed(cmd: list[str], root: str) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=root, check=True, capture_output=True)
    return time.perf_counter() - t


class Connection:
    """One keep-alive HTTP/1.1 connection that sends a GET and reads the answer by its
    Content-Length: what a client must do and no more (``http.client`` parses every
    header into a message object, several times the CPU on the machine the server
    shares)."""

    def __init__(self, port: int):
        self.port = port
        self.sock: socket.socket | None = None
        self.buf = b""

    def get(self, path: str) -> int:
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buf = b""
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        while b"\r\n\r\n" not in self.buf:
            self._read()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        status = int(head[9:12])
        fields = dict(line.partition(b":")[::2] for line in head.lower().split(b"\r\n")[1:])
        if b"content-length" not in fields:  # (none of the answers asked for streams)
            raise ValueError(f"HTTP {status} without a Content-Length")
        length = int(fields[b"content-length"])
        while len(self.buf) < length:
            self._read()
        self.buf = self.buf[length:]
        if fields.get(b"connection", b"").strip() == b"close":
            self.close()
        return status

    def _read(self) -> None:
        assert self.sock is not None
        got = self.sock.recv(1 << 16)
        if not got:
            raise ConnectionError("the server closed the connection")
        self.buf += got

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def client(port: int, names: list[str], words: list[str], until: float, seed: int,
           out: dict[str, list[float]], errors: list[str]) -> None:
    rng = random.Random(seed)
    conn = Connection(port)
    while time.perf_counter() < until:
        kind = rng.choice(("product", "search", "api"))
        if kind == "product":
            path = f"/products/{rng.choice(names)}"
        elif kind == "api":
            path = f"/api/v1/products/{rng.choice(names)}/card"
        else:
            word = rng.choice(words)
            path = f"/api/v1/search?q={word[:rng.randint(1, len(word))]}"
        t = time.perf_counter()
        try:
            status = conn.get(path)
        except (OSError, ValueError) as e:
            errors.append(f"{path}: {e}")
            conn.close()
            continue
        out.setdefault(kind, []).append((time.perf_counter() - t) * 1000)
        if status != 200:
            errors.append(f"{path}: HTTP {status}")
    conn.close()


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--work", default=os.path.join(HERE, "_work", "serve"))
    ap.add_argument("--reuse", action="store_true", help="Keep an already built project.")
    args = ap.parse_args()
    root = os.path.join(args.work, f"n{args.products}")
    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    if not (args.reuse and os.path.exists(os.path.join(root, ".steward"))):
        t = build(root, args.products)
        say(f"built {args.products} products twice: {t['first_build_s']:.1f} s, then "
            f"{t['second_build_s']:.1f} s")
    ls_s = min(timed([*STEWARD, "ls", "--json"], root) for _ in range(3))
    show_s = min(timed([*STEWARD, "catalog", "show", "d1.p0991", "--json"], root)
                 for _ in range(3))
    port = free_port()
    proc, ready = start_server(root, port)
    try:
        say(f"ready: {ready:.2f} s (floor {READY_FLOOR_S} s); peer 'steward ls --json' "
            f"{ls_s:.2f} s: ratio {ready / ls_s:.2f}")
        names = [f"d{i % 10}.p{i:04d}" for i in range(1, args.products + 1)]
        words = ["product", "domain", "value", "group", "derived", "seed", "p0", "d3"]
        time.sleep(3)  # the server warms its lineage and search index after it answers
        run_log = open(os.path.join(args.work, "run.log"), "w")  # noqa: SIM115
        run = subprocess.Popen([*STEWARD, "run", "--env", "load", "--full-refresh",
                                "--workers", "1"], cwd=root, stdout=run_log,
                               stderr=subprocess.STDOUT)
        out: dict[str, list[float]] = {}
        errors: list[str] = []
        cpu0 = cpu_s(proc.pid)
        mine0 = os.times()
        until = time.perf_counter() + args.seconds
        threads = [threading.Thread(target=client, args=(port, names, words, until, i, out,
                                                         errors)) for i in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        cpu = cpu_s(proc.pid) - cpu0
        mine1 = os.times()
        clients_cpu = (mine1.user - mine0.user) + (mine1.system - mine0.system)
        still_running = run.poll() is None
        rc = run.wait()
        run_log.close()
        rss = rss_mb(proc.pid)
        total = sum(len(v) for v in out.values())
        say(f"load: {args.clients} clients for {args.seconds:.0f} s, {total:,} requests "
            f"({total / args.seconds:.0f}/s), {len(errors)} errors; a full-refresh run "
            f"{'was still going at the end' if still_running else 'ran during it'}, "
            f"exit {rc}")
        for kind, xs in sorted(out.items()):
            floor = FLOORS.get(kind)
            say(f"  {kind:8s} n={len(xs):6,d} p50 {statistics.median(xs):7.1f} ms  "
                f"p95 {pct(xs, 95):7.1f} ms  max {max(xs):7.1f} ms"
                + (f"  (floor p95 {floor:.0f} ms)" if floor else ""))
        say(f"  peer: 'steward catalog show P --json' as a process: {show_s * 1000:.0f} ms "
            f"(product page p95 / peer = {pct(out.get('product', [0]), 95) / 1000 / show_s:.2f})")
        # what the server spent, whatever the machine's other work let it have
        say(f"  server CPU {cpu:.1f} s for {total:,} requests: {cpu * 1000 / max(total, 1):.2f} "
            f"ms per request ({cpu / args.seconds:.2f} of a core)")
        # the load generator shares the machine: what it spent is not the server's
        say(f"  load generator CPU {clients_cpu:.1f} s: "
            f"{clients_cpu * 1000 / max(total, 1):.2f} ms per request "
            f"({clients_cpu / args.seconds:.2f} of a core)")
        load = os.getloadavg()
        say(f"  load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        say(f"memory: server RSS {rss:.0f} MB after the load (floor {RSS_FLOOR_MB} MB)")
        for e in errors[:5]:
            say(f"  error: {e}")
        verify = subprocess.run([*STEWARD, "verify", "--quick", "--json"], cwd=root,
                                capture_output=True, text=True)
        ok = verify.returncode == 0 and json.loads(verify.stdout)["ok"]
        say(f"nothing lost: run exit {rc}, verify {'ok' if ok else 'FAILED'}")
    finally:
        proc.terminate()
        proc.wait(20)
    os.makedirs(os.path.join(HERE, "_work"), exist_ok=True)
    with open(os.path.join(HERE, "_work", "serve_results.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Interim benchmark for durable writes under group commit (issues 6 and 7), until authority-bench exists.

Starts nothing: point it at a running daemon's socket. It measures, in the same run:
  * one-row durable commits per second on this disk (SQLite WAL, synchronous=FULL, one row per
    transaction), the baseline group commit must beat;
  * durable writes per second: N clients (default 64), each on its own keep-alive connection,
    sending one request after the other, of one kind (--mode):
      uses         POST /v1/links/check on use-limited links with consume=true (default);
      revocations  POST /v1/revocations with a fresh random link id each time;
      issues       POST /v1/links (a 1-hour link, audit entry each time).
    Every counted answer (`ok`, 201) is a write that was on disk before the answer.
The clients are spread over --processes Python processes (default 4), so the GIL is not the limit.
Usage: scripts/bench-uses.py SOCKET [--mode uses|revocations|issues] [--clients 64] [--seconds 10]
                             [--processes 4] [--dir /var/tmp]
"""
import argparse, base64, json, multiprocessing, os, socket, sqlite3, sys, tempfile, threading, time

def fsync_rate(directory, seconds=3.0):
    with tempfile.TemporaryDirectory(dir=directory) as d:
        db = sqlite3.connect(os.path.join(d, "b.sqlite"), isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
        n, start = 0, time.monotonic()
        while time.monotonic() - start < seconds:
            db.execute("BEGIN IMMEDIATE"); db.execute("INSERT INTO t (v) VALUES (?)", (n,)); db.execute("COMMIT")
            n += 1
        return n / (time.monotonic() - start)

class Client:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); self.s.connect(path); self.buf = b""
    def post(self, path, body):
        data = json.dumps(body).encode()
        self.s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (path.encode(), len(data), data))
        while b"\r\n\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk: raise ConnectionError("the daemon closed the connection")
            self.buf += chunk
        head, rest = self.buf.split(b"\r\n\r\n", 1)
        length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
        while len(rest) < length: rest += self.s.recv(65536)
        self.buf = rest[length:]
        return int(head.split(b" ")[1]), json.loads(rest[:length])

def request(mode, link, n):
    """The request one client sends, and whether an answer counts as a durable write."""
    if mode == "uses":
        return "/v1/links/check", {"url": link}, lambda status, body: status == 200 and body["valid"]
    if mode == "revocations":
        link_id = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()
        return "/v1/revocations", {"id": link_id}, lambda status, body: status == 201
    return "/v1/links", {"resource": "/bench/%d" % n, "ttl": 3600}, lambda status, body: status == 201

def run_process(job):
    """One process: a thread per client until `stop` (monotonic, shared by all processes)."""
    path, mode, links, stop = job
    counts, errors = [0] * len(links), [0] * len(links)
    def worker(i):
        c, n = Client(path), 0
        while time.monotonic() < stop:
            target, body, counted = request(mode, links[i], n); n += 1
            status, answer = c.post(target, body)
            if counted(status, answer): counts[i] += 1
            else: errors[i] += 1
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(links))]
    for t in threads: t.start()
    for t in threads: t.join()
    return sum(counts), sum(errors)

def main():
    a = argparse.ArgumentParser(); a.add_argument("socket"); a.add_argument("--clients", type=int, default=64)
    a.add_argument("--mode", choices=["uses", "revocations", "issues"], default="uses")
    a.add_argument("--seconds", type=float, default=10); a.add_argument("--dir", default="/var/tmp")
    a.add_argument("--processes", type=int, default=4)
    o = a.parse_args()
    commits = fsync_rate(o.dir)
    links = [None] * o.clients
    if o.mode == "uses":
        setup = Client(o.socket)
        for i in range(o.clients):
            status, body = setup.post("/v1/links", {"resource": "/bench/%d" % i, "ttl": 3600, "max_uses": 1000000000})
            if status != 201: sys.exit("issue failed: %s" % body)
            links[i] = body["url"]
    processes = max(1, min(o.processes, o.clients))
    start = time.monotonic()
    stop = start + o.seconds
    jobs = [(o.socket, o.mode, links[p::processes], stop) for p in range(processes)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        results = pool.map(run_process, jobs)
    elapsed = time.monotonic() - start
    writes, errors = sum(r[0] for r in results), sum(r[1] for r in results)
    rate = writes / elapsed
    print("one-row durable commits/s (WAL, synchronous=FULL): %.0f" % commits)
    print("durable %s/s with %d clients: %.0f (%.1f x one-row commits); %d answers not counted"
          % (o.mode, o.clients, rate, rate / commits, errors))

main()

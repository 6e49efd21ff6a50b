#!/usr/bin/env python3
"""Interim benchmark for durable uses of use-limited links (issue 6), until authority-bench exists.

Starts nothing: point it at a running daemon's socket. It measures, in the same run:
  * one-row durable commits per second on this disk (SQLite WAL, synchronous=FULL, one row per
    transaction), the baseline group commit must beat;
  * durable uses per second: N clients (default 64), each on its own keep-alive connection,
    POST /v1/links/check on use-limited links with consume=true; every `ok` is a use that is on
    disk before its answer.
Usage: scripts/bench-uses.py SOCKET [--clients 64] [--seconds 10] [--dir /var/tmp]
"""
import argparse, json, os, socket, sqlite3, sys, tempfile, threading, time

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
        while b"\r\n\r\n" not in self.buf: self.buf += self.s.recv(65536)
        head, rest = self.buf.split(b"\r\n\r\n", 1)
        length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
        while len(rest) < length: rest += self.s.recv(65536)
        self.buf = rest[length:]
        return int(head.split(b" ")[1]), json.loads(rest[:length])

def main():
    a = argparse.ArgumentParser(); a.add_argument("socket"); a.add_argument("--clients", type=int, default=64)
    a.add_argument("--seconds", type=float, default=10); a.add_argument("--dir", default="/var/tmp")
    o = a.parse_args()
    commits = fsync_rate(o.dir)
    setup = Client(o.socket)
    links = []
    for i in range(o.clients):
        status, body = setup.post("/v1/links", {"resource": "/bench/%d" % i, "ttl": 3600, "max_uses": 1000000000})
        if status != 201: sys.exit("issue failed: %s" % body)
        links.append(body["url"])
    counts = [0] * o.clients
    stop = time.monotonic() + o.seconds
    def worker(i):
        c = Client(o.socket)
        while time.monotonic() < stop:
            status, body = c.post("/v1/links/check", {"url": links[i]})
            if status == 200 and body["valid"]: counts[i] += 1
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(o.clients)]
    start = time.monotonic()
    for t in threads: t.start()
    for t in threads: t.join()
    elapsed = time.monotonic() - start
    uses = sum(counts) / elapsed
    print("one-row durable commits/s (WAL, synchronous=FULL): %.0f" % commits)
    print("durable uses/s with %d clients: %.0f (%.1f x one-row commits)" % (o.clients, uses, uses / commits))

main()

#!/usr/bin/env python3
"""The daemon's CPU per check, two builds side by side, in short alternating segments (issue #18).

Usage: scripts/check-cost-ab.py BEFORE AFTER [--segments N] [--checks M] [--route check|forward-auth]

Starts the two authorityd binaries at once, each on a state directory and socket of its own,
issues each N x M links (plain, a day long) and then, N times, in turn (BEFORE then AFTER, then
AFTER then BEFORE, ...): M checks of fresh links (`POST /v1/links/check`, or with `--route
forward-auth` what nginx's auth_request sends to `/v1/auth/nginx`; each link checked once:
its first use, so the activity flush writes its `first_used` event and activity), then 1.2 s for
that flush; then M checks of one link repeated (a control: these write nothing, so the two builds
should measure alike, and how far apart they come is the method's noise). A segment's cost is the
daemon's whole CPU (user + system, all threads, /proc/PID/stat) across the checks and the wait.

On a shared machine whose speed drifts, alternating segments of a second or two put both builds
under the same drift; authority-bench's rounds of a minute each do not. Prints CPU per check for
each build, AFTER / BEFORE, and the same for the control. The client is Python (32 requests
pipelined on each of 4 connections, new for each segment); its cost is not counted.

Options:
  --segments N   alternations (default 16)
  --checks M     checks per segment and kind (default 4000)
  --route R      check (POST /v1/links/check, JSON; the default) or forward-auth (GET
                 /v1/auth/nginx with X-Original-URI, as docs/examples/nginx.conf sends it)
  -h, --help     print this and exit

Examples:
  scripts/check-cost-ab.py /tmp/authorityd-0c7f1ca .build/release/authorityd
  scripts/check-cost-ab.py A B --segments 30 --checks 2000
  scripts/check-cost-ab.py A B --route forward-auth
"""
import json, os, shutil, signal, socket, subprocess, sys, tempfile, threading, time

PIPELINE, CONNECTIONS, FLUSH_WAIT = 32, 4, 1.2
# `--route`: the status each answers a valid link with (`check_request` builds the requests).
ROUTES = {"check": 200, "forward-auth": 204}
TICKS = os.sysconf("SC_CLK_TCK")


def usage(status, message=None):
    if message:
        print(f"check-cost-ab: {message}", file=sys.stderr)
    else:
        print(__doc__.strip())
    sys.exit(status)


def arguments(argv):
    binaries, segments, checks, route = [], 16, 4000, "check"
    items = iter(argv)
    for item in items:
        if item in ("-h", "--help"):
            usage(0)
        elif item == "--route":
            route = next(items, None)
            if route not in ROUTES:
                usage(2, "--route takes check or forward-auth")
        elif item in ("--segments", "--checks"):
            value = next(items, None)
            if value is None or not value.isdigit() or not 1 <= int(value) <= 1_000_000:
                usage(2, f"{item} takes a whole number from 1 to 1000000")
            if item == "--segments":
                segments = int(value)
            else:
                checks = int(value)
        elif item.startswith("-"):
            usage(2, f"unknown option {item} (see --help)")
        else:
            binaries.append(item)
    if len(binaries) != 2:
        usage(2, "give the two authorityd binaries, BEFORE and AFTER (see --help)")
    for binary in binaries:
        if not os.access(binary, os.X_OK):
            usage(2, f"{binary} is not an executable file")
    return binaries, segments, checks, route


def request(method, path, body):
    data = json.dumps(body).encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    return head.encode() + data


def check_request(route, url):
    """One check of `url` by `route` (a key of ROUTES)."""
    if route == "check":
        return request("POST", "/v1/links/check", {"url": url})
    # What nginx's auth_request sends (docs/examples/nginx.conf, authority-bench's Requests.forwardAuth).
    return (f"GET /v1/auth/nginx HTTP/1.1\r\nHost: localhost\r\nX-Original-URI: {url}\r\nX-Original-Method: GET\r\n"
            "X-Original-Host: files.example\r\nX-Real-IP: 192.0.2.10\r\nContent-Length: 0\r\n\r\n").encode()


class Connection:
    def __init__(self, path):
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.socket.connect(path)
        self.buffer = b""

    def answers(self, requests):
        """Sends `requests` pipelined and returns (status, body) for each, in order."""
        self.socket.sendall(b"".join(requests))
        out = []
        while len(out) < len(requests):
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                self.read()
                continue
            head = self.buffer[:end].decode("latin-1").split("\r\n")
            length = next((int(line.split(":", 1)[1]) for line in head[1:] if line.lower().startswith("content-length:")), 0)
            while len(self.buffer) < end + 4 + length:
                self.read()
            out.append((int(head[0].split()[1]), self.buffer[end + 4:end + 4 + length]))
            self.buffer = self.buffer[end + 4 + length:]
        return out

    def read(self):
        chunk = self.socket.recv(1 << 16)
        if not chunk:
            raise RuntimeError("the daemon closed the connection")
        self.buffer += chunk


class Daemon:
    def __init__(self, binary, directory):
        self.socket_path = os.path.join(directory, "a.sock")
        self.log = open(os.path.join(directory, "daemon.log"), "wb")
        self.process = subprocess.Popen(
            [binary, "--socket", self.socket_path, "--state-dir", os.path.join(directory, "state"), "--socket-mode", "0600"],
            stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(300):
            if self.process.poll() is not None:
                sys.exit(f"check-cost-ab: {binary} exited with {self.process.returncode} (log: {self.log.name})")
            try:
                Connection(self.socket_path).socket.close()
                return
            except OSError:
                time.sleep(0.1)
        self.process.kill()
        sys.exit(f"check-cost-ab: {binary} did not answer on its socket within 30 s")

    def cpu(self):
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def run(self, requests, expect):
        """Sends the checks `requests` over the connections, PIPELINE at a time each; every answer
        must be `expect` and, for a JSON check (200), say the link is valid."""
        shares = [requests[i::CONNECTIONS] for i in range(CONNECTIONS)]
        failures = []

        def drive(connection, share):
            try:
                for start in range(0, len(share), PIPELINE):
                    for status, body in connection.answers(share[start:start + PIPELINE]):
                        if status != expect or (expect == 200 and b'"valid":true' not in body):
                            failures.append(f"{status} {body[:200]!r}")
                            return
            except Exception as error:  # reported below, with the daemon's log
                failures.append(str(error))

        # Connections of the segment's own: the daemon closes idle ones (the other build's turn).
        connections = [Connection(self.socket_path) for _ in range(CONNECTIONS)]
        threads = [threading.Thread(target=drive, args=pair) for pair in zip(connections, shares)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for connection in connections:
            connection.socket.close()
        if failures:
            sys.exit(f"check-cost-ab: expected {expect} and a valid link, got {failures[0]} (log: {self.log.name})")

    def issue(self, count, prefix):
        urls, connection = [], Connection(self.socket_path)
        for start in range(0, count, PIPELINE * CONNECTIONS):
            batch = [request("POST", "/v1/links", {"resource": f"{prefix}{i}", "ttl": 86400})
                     for i in range(start, min(count, start + PIPELINE * CONNECTIONS))]
            for status, body in connection.answers(batch):
                if status != 201:
                    sys.exit(f"check-cost-ab: issue answered {status} {body[:200]!r} (log: {self.log.name})")
                urls.append(json.loads(body)["url"])
        connection.socket.close()
        return urls

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def segment(daemon, requests, expect):
    before = daemon.cpu()
    daemon.run(requests, expect)
    time.sleep(FLUSH_WAIT)
    return daemon.cpu() - before


def main():
    binaries, segments, checks, route = arguments(sys.argv[1:])
    expect = ROUTES[route]
    directory = tempfile.mkdtemp(prefix="check-cost-ab-")
    daemons = []
    try:
        for index, binary in enumerate(binaries):
            os.mkdir(os.path.join(directory, str(index)))
            daemons.append(Daemon(binary, os.path.join(directory, str(index))))
        unique, repeated = [], []
        for daemon in daemons:
            urls = daemon.issue(segments * checks, "/ab/u/")
            unique.append([[check_request(route, url) for url in urls[s * checks:(s + 1) * checks]]
                           for s in range(segments)])
            one = daemon.issue(1, "/ab/one")[0]
            repeated.append([check_request(route, one)] * checks)
        cost = {"unique": [[], []], "repeated": [[], []]}
        for s in range(segments):
            for side in ((0, 1) if s % 2 == 0 else (1, 0)):
                cost["unique"][side].append(segment(daemons[side], unique[side][s], expect))
            for side in ((0, 1) if s % 2 == 0 else (1, 0)):
                cost["repeated"][side].append(segment(daemons[side], repeated[side], expect))
        print(f"{segments} alternating segments of {checks} checks ({route}) per build and kind; "
              "µs of daemon CPU per check (the flush and 1.2 s of idle included)")
        print("| checks | before | after | after / before | after / before, per segment: min / median / max |")
        print("|---|---:|---:|---:|---:|")
        for kind in ("unique", "repeated"):
            total = [sum(cost[kind][side]) / (segments * checks) * 1e6 for side in (0, 1)]
            ratios = sorted(a / b for a, b in zip(cost[kind][1], cost[kind][0]) if b > 0)
            spread = f"{ratios[0]:.2f} / {ratios[len(ratios) // 2]:.2f} / {ratios[-1]:.2f}" if ratios else "-"
            label = "unique links (first use each)" if kind == "unique" else "one link repeated (control)"
            print(f"| {label} | {total[0]:.1f} | {total[1]:.1f} | **{total[1] / total[0]:.3f}** | {spread} |")
    finally:
        for daemon in daemons:
            daemon.stop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""One prefix revocation that ends many live links (BENCHMARKS.md, issue #18).

Usage: scripts/broad-revocation.py AUTHORITYD COUNT [DAEMON ARGUMENTS...]

Starts AUTHORITYD on a state directory of its own (with DAEMON ARGUMENTS, e.g. --database
postgresql://... --master-key-file F), issues COUNT links under /broad/ over 16 connections,
revokes the prefix, and prints the revocation's wall time, the daemon's CPU for it, and how many
`revoked` events it wrote (one per link).
"""
import http.client, json, os, shutil, socket, subprocess, sys, tempfile, threading, time

class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=600)
        self.path = path
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(600)
        self.sock.connect(self.path)

if len(sys.argv) < 3 or sys.argv[1] in ("-h", "--help"):
    print(__doc__.strip())
    sys.exit(0 if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help") else 2)
daemon, count = sys.argv[1], int(sys.argv[2])
extra = sys.argv[3:]
work = tempfile.mkdtemp(prefix="broad-")
sock = work + "/s.sock"
proc = subprocess.Popen([daemon, "--socket", sock, "--state-dir", work + "/state", *extra],
                        stdout=open(work + "/log", "w"), stderr=subprocess.STDOUT)
for _ in range(300):
    if os.path.exists(sock): break
    time.sleep(0.1)
time.sleep(0.5)
def call(conn, method, path, body=None):
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"Content-Type": "application/json"} if body is not None else {})
    r = conn.getresponse(); data = r.read()
    return r.status, data
def issue(start, stop):
    conn = UnixHTTP(sock)
    for i in range(start, stop):
        status, data = call(conn, "POST", "/v1/links", {"resource": f"/broad/{i}", "ttl": 86400})
        assert status == 201, (status, data)
t0 = time.time()
threads = [threading.Thread(target=issue, args=(k * count // 16, (k + 1) * count // 16)) for k in range(16)]
for t in threads: t.start()
for t in threads: t.join()
issued = time.time() - t0
def cpu(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
conn = UnixHTTP(sock)
c0 = cpu(proc.pid); t0 = time.time()
status, data = call(conn, "POST", "/v1/revocations", {"prefix": "/broad/"})
wall = time.time() - t0; used = cpu(proc.pid) - c0
after, revoked = 0, 0
while True:
    s, d = call(conn, "GET", f"/v1/events?after={after}&limit=1000")
    body = json.loads(d)
    revoked += sum(1 for e in body["events"] if e["kind"] == "revoked")
    if not body["events"]: break
    after = body["next_after"]
print(f"{count} links issued in {issued:.1f} s; revocation answered {status} in {wall:.2f} s wall, {used:.2f} s daemon CPU; {revoked} revoked events")
proc.terminate(); proc.wait(timeout=30)
shutil.rmtree(work)

#!/usr/bin/env python3
"""Revocation propagation between two fleet daemons (docs/fleet.md).

Usage: scripts/fleet-propagation.py SOCKET_A SOCKET_B [COUNT]

Issues a link on A, checks it on B (ok), revokes it on A, then checks it on B until B answers
`revoked`; prints p50/p99/max of that time over COUNT links (default 50). Both daemons must run
with the same --database postgresql://... and master key, and let the caller issue and revoke.
"""
import json, socket, sys, time

if len(sys.argv) < 3 or sys.argv[1] in ("-h", "--help"):
    print(__doc__.strip())
    sys.exit(0 if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help") else 2)
def req(path, method, body, sock):
    s = socket.socket(socket.AF_UNIX); s.connect(sock)
    data = json.dumps(body).encode() if body is not None else b""
    s.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode() + data)
    out = b""
    while True:
        c = s.recv(65536)
        if not c: break
        out += c
    return json.loads(out.split(b"\r\n\r\n", 1)[1])
A, B = sys.argv[1], sys.argv[2]
count = int(sys.argv[3]) if len(sys.argv) > 3 else 50
lat = []
for i in range(count):
    link = req("/v1/links", "POST", {"resource": f"/p/{i}", "ttl": 600}, A)
    assert req("/v1/links/check", "POST", {"url": link["url"]}, B)["reason"] == "ok"
    t0 = time.monotonic()
    req("/v1/revocations", "POST", {"id": link["id"]}, A)
    while req("/v1/links/check", "POST", {"url": link["url"]}, B)["reason"] != "revoked":
        pass
    lat.append((time.monotonic() - t0) * 1000)
lat.sort()
print(f"n={len(lat)} p50={lat[len(lat)//2]:.1f} ms p99={lat[int(len(lat)*0.99)-1]:.1f} ms max={lat[-1]:.1f} ms (from the revocation's request on A to the first 'revoked' on B, incl. A's commit)")

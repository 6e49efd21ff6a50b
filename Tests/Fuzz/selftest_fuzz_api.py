#!/usr/bin/env python3
"""Proves that fuzz_api.py's checker can fail, without the daemon: it feeds the checker a 500, a
non-JSON 4xx, an error body of the wrong shape, an undocumented status, an undocumented code, a
body on forward auth, a dead process, and — through a fake server on a Unix socket — a hang and a
connection closed without an answer, and expects each to be reported; a correct answer must pass."""
import os
import random
import socket
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fuzz_check import Failures, check_exchange, check_pipeline  # noqa: E402
from fuzz_case import Case, Context  # noqa: E402
from fuzz_gen import ALL_RIGHTS, Generator  # noqa: E402
from fuzz_http import Response, exchange  # noqa: E402
from fuzz_spec import Spec  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
JSON = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]
spec = Spec.load(os.path.join(ROOT, "docs/openapi.yaml"))
failed = []


def expect(name, problems, kinds):
    got = sorted({kind for kind, _ in problems})
    if got != sorted(kinds):
        failed.append(f"{name}: expected {sorted(kinds) or 'no failure'}, got {got or 'no failure'} {problems}")


def case(op_id, expect_kind="op", lacks_right=False, method=None, target=None):
    op = spec.by_id[op_id]
    return Case("selftest", op, method or op.method, target or op.path, [], b"{}", expect=expect_kind, lacks_right=lacks_right)


def answer(status, body=b"", headers=JSON, error=None):
    return Response(status, "", list(headers) + [("Content-Length", str(len(body)))], body, error=error)


ERROR = b'{"error":{"code":"request.invalid","message":"ttl must be between 1 and 604800 seconds"}}'
ISSUED = b'{"url":"/a?au_v=1","id":"AAECAwQFBgcICQoLDA0ODw","epoch":1,"expires_at":2,"not_before":null,"methods":["GET"],"path_url":null,"ref":null}'

# Answers that hold: no failure.
expect("documented 422", check_exchange(spec, case("issueLink"), answer(422, ERROR), True), [])
expect("documented 201", check_exchange(spec, case("issueLink"), answer(201, ISSUED), True), [])
expect("forward auth 401", check_exchange(spec, case("forwardAuthNginx"), answer(401, headers=[("X-Authority-Reason", "no_link")]), True), [])
expect("403 for a caller without the right",
       check_exchange(spec, case("revoke", lacks_right=True), answer(403, b'{"error":{"code":"forbidden","message":"no"}}'), True), [])

# Answers that break a property: each must be reported.
expect("a 500", check_exchange(spec, case("issueLink"), answer(500, b'{"error":{"code":"internal","message":"x"}}'), True), ["500"])
expect("a non-JSON 4xx", check_exchange(spec, case("issueLink"), answer(400, b"Bad Request", [("Content-Type", "text/plain"), ("Cache-Control", "no-store")]), True),
       ["error-content-type"])
expect("a 4xx JSON that is not JSON", check_exchange(spec, case("issueLink"), answer(400, b"{oops"), True), ["error-body"])
expect("an extra member", check_exchange(spec, case("issueLink"),
                                         answer(422, b'{"error":{"code":"request.invalid","message":"m","x":1}}'), True), ["error-body"])
expect("an empty message", check_exchange(spec, case("issueLink"),
                                          answer(422, b'{"error":{"code":"request.invalid","message":""}}'), True), ["error-body"])
expect("a duplicate member", check_exchange(spec, case("issueLink"),
                                            answer(422, b'{"error":{"code":"request.invalid","message":"m"},"error":1}'), True),
       ["error-body"])
expect("an undocumented status", check_exchange(spec, case("listKeys"), answer(422, ERROR), True), ["undocumented-status"])
expect("a code of another status", check_exchange(spec, case("issueLink"),
                                                  answer(400, b'{"error":{"code":"forbidden","message":"m"}}'), True), ["error-code"])
expect("a 422 not documented for retire", check_exchange(spec, case("retireKey"), answer(422, ERROR), True), ["error-code"])
expect("201 instead of 403", check_exchange(spec, case("issueLink", lacks_right=True), answer(201, ISSUED), True),
       ["undocumented-status"])
expect("forward auth with a body", check_exchange(spec, case("forwardAuthNginx"),
                                                  answer(403, b"{}", [("X-Authority-Reason", "expired")]), True), ["auth-body"])
expect("forward auth 413", check_exchange(spec, case("forwardAuthNginx"), answer(413, b'{"error":{"code":"body.too_large","message":"m"}}',
                                                                                     JSON + [("Connection", "close")]), True),
       ["undocumented-status"])
expect("405 with a wrong Allow", check_exchange(spec, case("listKeys", "405", method="POST", target="/v1/keys"),
                                                answer(405, b'{"error":{"code":"route.method_not_allowed","message":"m"}}',
                                                       JSON + [("Allow", "GET, POST")]), True), ["allow-header"])
expect("a 2xx missing a member", check_exchange(spec, case("issueLink"), answer(201, b'{"url":"x"}'), True), ["answer-body"])
expect("http.malformed for well-formed HTTP", check_exchange(spec, case("health"),
       answer(400, b'{"error":{"code":"http.malformed","message":"m"}}', JSON + [("Connection", "close")]), True),
       ["malformed-on-valid-http"])
expect("404 for a caller without the right on a non-epoch segment",
       check_exchange(spec, case("retireKey", lacks_right=True), answer(404, b'{"error":{"code":"route.not_found","message":"m"}}'), True),
       [])
unknown = case("issueLink")
unknown.exact = {422: {"request.unknown_field"}}
expect("an unknown member issued", check_exchange(spec, unknown, answer(201, ISSUED), True), ["not-refused"])
expect("an unknown member refused with another code", check_exchange(spec, unknown, answer(422, ERROR), True), ["not-refused"])
expect("403 for root", check_exchange(spec, case("issueLink"), answer(403, b'{"error":{"code":"forbidden","message":"m"}}'), True),
       ["forbidden-with-right"])
expect("no Cache-Control", check_exchange(spec, case("issueLink"), answer(201, ISSUED, [("Content-Type", "application/json")]), True),
       ["cache-control"])
expect("a dead process", check_exchange(spec, case("issueLink"), answer(422, ERROR), False), ["crash"])
half = case("issueLink")
half.half_close = True
expect("no answer after a half-close", check_exchange(spec, half, Response(error="no answer"), True), ["no-answer-after-half-close"])
expect("a timeout", check_exchange(spec, case("issueLink"), Response(error="timeout"), True), ["hang"])


def fake_server(path, behaviour):
    """One connection at a time: 'hang' reads and never answers, 'close' closes at once."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(4)
    held = []

    def serve():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connection.recv(65536)
            if behaviour == "close":
                connection.close()
            else:
                held.append(connection)

    threading.Thread(target=serve, daemon=True).start()
    return listener


with tempfile.TemporaryDirectory() as directory:
    for behaviour, kind in (("hang", "hang"), ("close", "no-answer")):
        path = os.path.join(directory, f"{behaviour}.sock")
        listener = fake_server(path, behaviour)
        got = exchange(path, b"GET /v1/health HTTP/1.1\r\n\r\n", 0.5)
        expect(f"fake server that does {behaviour}", check_exchange(spec, case("health"), got, True), [kind])
        listener.close()

# Pipelined: each answer is checked, and a death is charged to the request left unanswered.
pipeline = case("health")
pipeline.parts = [case("health"), case("issueLink")]
got = check_pipeline(spec, pipeline, [answer(200, b'{"status":"ok","version":"1","active_epoch":1,"revocations":0,'
                                                  b'"uptime_seconds":1,"storage":"sqlite","storage_problem":null,"sync_age_ms":null}'), Response(error="no answer")], False)
if [(kind, detail.split(" ")[1]) for kind, detail, _ in got] != [("pipelined crash", "2")]:
    failed.append(f"pipelined crash charged to the wrong request: {got}")

# Failures are deduplicated by operation + status + kind and keep the smallest request.
failures = Failures()
small, large = case("issueLink"), case("issueLink")
large.raw += b" " * 100
failures.add(large, answer(500), "500", "x", 1, 7, "root")
failures.add(small, answer(500), "500", "x", 1, 3, "root")
if len(failures.groups) != 1 or failures.count != 2 or next(iter(failures.groups.values()))["index"] != 3:
    failed.append(f"dedup: {failures.groups}")

# The generator is a function of (seed, index): a printed seed replays.
context = Context(65536, ["/files/a?au_v=1"], ["AAECAwQFBgcICQoLDA0ODw"], 1790000000)
for index in (0, 17, 123):
    first = Generator(spec, context, random.Random(f"5:r:{index}"), ALL_RIGHTS).case(index).raw
    again = Generator(spec, context, random.Random(f"5:r:{index}"), ALL_RIGHTS).case(index).raw
    if first != again:
        failed.append(f"iteration {index} does not replay")

# The systematic part sends the known trap of issue #12: {"issued_before": 2^63-1} in a body
# whose other members leave it valid (no `id` beside it).
rows = [row for row in Generator.table(spec)
        if row[1].op_id == "revoke" and row[2] == "issued_before" and row[3].data == b"9223372036854775807"]
for seed in (1, 2, 3):
    body = Generator(spec, context, random.Random(seed), ALL_RIGHTS).table_case(rows[0]).body if rows else b""
    if b'"issued_before":9223372036854775807' not in body or b'"id"' in body:
        failed.append(f"the issued_before overflow is not sent as a valid-looking revocation: {body!r}")

# Every operation of the document is generated within the first thousand iterations.
seen = {Generator(spec, context, random.Random(f"5:r:{i}"), ALL_RIGHTS).case(i).key for i in range(1000)}
missing = [op.label for op in spec.operations if op.label not in seen]
if missing:
    failed.append(f"operations never generated: {missing}")

for line in failed:
    print("selftest FAIL:", line)
print(f"selftest_fuzz_api: {'FAILED' if failed else 'ok'} ({len(failed)} problems)")
sys.exit(1 if failed else 0)

"""One generated request (`Case`) and the real links it is built from (`Context`)."""
import json
import time

from fuzz_http import exchange


# Methods llhttp parses (a subset is enough: the ones the fuzzer sends).
PARSED_METHODS = {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "CONNECT", "M-SEARCH",
                  "PROPFIND", "QUERY"}


class Case:
    """One generated request and what the documentation allows for it."""

    def __init__(self, label, op, method, target, headers, body, raw=None, expect="op", lacks_right=False,
                 may_be_malformed=False, exact=None):
        self.label = label
        self.op = op
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.expect = expect  # "op": the operation's statuses; "404"/"405": the path's; "http": raw framing
        self.lacks_right = lacks_right
        # Raw framing, or bytes outside ASCII in the request target: 400 `http.malformed` may be right.
        self.may_be_malformed = may_be_malformed or expect == "http"
        # NIO's parser (llhttp) knows only the registered method names, upper case: `FOO` or `get`
        # is refused before routing, as 400 `http.malformed` (docs/api.md, Conventions).
        self.unparsed_method = method is not None and (method not in PARSED_METHODS)
        if self.unparsed_method:
            self.may_be_malformed = True
        # Where the documents leave one answer only (an unknown member is 422 `request.unknown_field`):
        # status -> codes; other documented statuses then fail as `not-refused`.
        self.exact = exact
        self.parts = None  # the requests of a pipelined case
        self.half_close = False  # shut the write side after the request (the answer is still due)
        self.raw = raw if raw is not None else self.render()

    def render(self, close=True):
        target = self.target.encode("utf-8", "surrogateescape") if isinstance(self.target, str) else self.target
        lines = [self.method.encode() + b" " + target + b" HTTP/1.1", b"Host: localhost"]
        for name, value in self.headers:
            lines.append(name.encode() + b": " + (value.encode("utf-8") if isinstance(value, str) else value))
        if self.body is not None and not any(n.lower() == "transfer-encoding" for n, _ in self.headers):
            lines.append(b"Content-Length: " + str(len(self.body)).encode())
        if close:
            lines.append(b"Connection: close")
        return b"\r\n".join(lines) + b"\r\n\r\n" + (self.body or b"")

    @property
    def key(self):
        if self.expect == "pipeline":
            return "pipelined requests"
        if self.expect == "405":
            return f"{self.method} on a path without it"
        if self.expect == "404":
            return "a path that does not exist"
        return self.op.label


class Context:
    """Real links and ids, issued once at start, so that generated checks and revocations reach
    past the parser."""

    def __init__(self, body_limit, urls, ids, now):
        self.body_limit = body_limit
        self.urls = urls
        self.ids = ids
        self.now = now

    @classmethod
    def prepare(cls, socket_path, body_limit, timeout):
        issues = [
            {"resource": "/files/report%202026.pdf?download=1", "ttl": 3600},
            {"resource": "https://cdn.example.com/files/", "ttl": 3600, "prefix": True, "bind_host": True},
            {"resource": "/files/once.pdf", "ttl": 3600, "max_uses": 3},
            {"resource": "/files/secret.pdf", "ttl": 3600, "password": "pw"},
            {"resource": "/files/ip.pdf", "ttl": 3600, "ip": "203.0.113.0/24", "methods": ["GET", "PUT"]},
        ]
        urls, ids = [], []
        for body in issues:
            data = json.dumps(body).encode()
            raw = (b"POST /v1/links HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
                   b"Content-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data)
            answer = exchange(socket_path, raw, timeout)
            if answer.status != 201:
                raise SystemExit(f"fuzz_api: could not issue a link to fuzz with: {answer.status} {answer.body[:200]!r}")
            issued = json.loads(answer.body)
            urls.append(issued["url"])
            ids.append(issued["id"])
        return cls(body_limit, urls, ids, int(time.time()))

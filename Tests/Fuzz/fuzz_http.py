"""Raw HTTP/1.1 over AF_UNIX: send exact bytes, read one answer (or say why there is none)."""
import socket
import time


class Response:
    """One answer. `error` is None for a complete answer, else `timeout`, `no answer` (closed
    before a byte), `incomplete` (closed mid-answer), `unparseable` or `connect: …`."""

    def __init__(self, status=None, reason="", headers=None, body=b"", error=None, raw=b""):
        self.status = status
        self.reason = reason
        self.headers = headers or []
        self.body = body
        self.error = error
        self.raw = raw

    def header(self, name):
        name = name.lower()
        values = [value for key, value in self.headers if key.lower() == name]
        return values[0] if values else None

    def header_all(self, name):
        name = name.lower()
        return [value for key, value in self.headers if key.lower() == name]


def _parse_head(data):
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit() or len(parts[1]) != 3:
        return None
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon:
            return None
        headers.append((name.decode("latin-1").strip(), value.decode("latin-1").strip()))
    reason = parts[2].decode("latin-1") if len(parts) > 2 else ""
    return int(parts[1]), reason, headers, rest


def _dechunk(data):
    """Returns (body, complete)."""
    body = b""
    while True:
        line, sep, rest = data.partition(b"\r\n")
        if not sep:
            return body, False
        try:
            size = int(line.split(b";")[0], 16)
        except ValueError:
            return body, False
        if size == 0:
            return body, rest.startswith(b"\r\n") or b"\r\n\r\n" in rest
        if len(rest) < size + 2:
            return body, False
        body += rest[:size]
        data = rest[size + 2:]


def exchange(socket_path, raw, timeout, head=False, send_timeout=None):
    """Connects, sends `raw`, half-closes nothing (the request is complete by construction), and
    reads exactly one answer within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        try:
            sock.connect(socket_path)
        except OSError as error:
            return Response(error=f"connect: {error.strerror or error}")
        try:
            sock.settimeout(send_timeout or timeout)
            sock.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # an early answer (413, 400) closes; read it below
        except socket.timeout:
            pass  # the daemon stopped reading (it answered early, or hangs): read below
        data = b""
        parsed = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Response(error="timeout", raw=data)
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                return Response(error="timeout", raw=data)
            except ConnectionResetError:
                chunk = b""
            if chunk:
                data += chunk
            if parsed is None and b"\r\n\r\n" in data:
                parsed = _parse_head(data)
                if parsed is None:
                    return Response(error="unparseable", raw=data)
            if parsed is not None:
                status, reason, headers, rest = parsed
                rest = data.partition(b"\r\n\r\n")[2]
                answer = Response(status, reason, headers, raw=data)
                if head or status in (204, 304) or 100 <= status < 200:
                    return answer
                length = answer.header("Content-Length")
                chunked = "chunked" in (answer.header("Transfer-Encoding") or "").lower()
                if length is not None and length.isdigit():
                    if len(rest) >= int(length):
                        answer.body = rest[: int(length)]
                        return answer
                elif chunked:
                    body, complete = _dechunk(rest)
                    if complete:
                        answer.body = body
                        return answer
                elif not chunk:
                    answer.body = rest
                    return answer
            if not chunk:
                return Response(error="no answer" if not data else "incomplete", raw=data)
    finally:
        sock.close()

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


def _complete(data, head):
    """(Response, bytes after it) when `data` begins with a whole answer, else None; a Response
    with `unparseable` when its head is not HTTP."""
    if b"\r\n\r\n" not in data:
        return None
    parsed = _parse_head(data)
    if parsed is None:
        return Response(error="unparseable", raw=data), b""
    status, reason, headers, rest = parsed
    answer = Response(status, reason, headers, raw=data[: len(data) - len(rest)])
    if head or status in (204, 304) or 100 <= status < 200:
        return answer, rest
    length = answer.header("Content-Length")
    if length is not None and length.isdigit():
        if len(rest) < int(length):
            return None
        answer.body = rest[: int(length)]
        answer.raw += answer.body
        return answer, rest[int(length):]
    if "chunked" in (answer.header("Transfer-Encoding") or "").lower():
        body, complete = _dechunk(rest)
        if not complete:
            return None
        answer.body = body
        return answer, b""
    return None  # close-delimited: complete only at the end


def _read(sock, deadline, count, heads):
    """Up to `count` answers from one connection; a missing one is a Response with its error."""
    answers, data, closed = [], b"", False
    while len(answers) < count:
        done = _complete(data, heads[len(answers)])
        if done is not None:
            answers.append(done[0])
            data = done[1]
            if done[0].error:
                break
            continue
        if closed:
            pending = _parse_head(data) if b"\r\n\r\n" in data else None
            if pending is not None and pending[2] and not any(k.lower() in ("content-length", "transfer-encoding")
                                                               for k, _ in pending[2]):
                answer = Response(pending[0], pending[1], pending[2], pending[3], raw=data)
                answers.append(answer)  # close-delimited body
            else:
                answers.append(Response(error="no answer" if not data else "incomplete", raw=data))
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            answers.append(Response(error="timeout", raw=data))
            break
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            answers.append(Response(error="timeout", raw=data))
            break
        except ConnectionResetError:
            chunk = b""
        closed = not chunk
        data += chunk
    return answers


def exchange_all(socket_path, raw, timeout, heads, send_timeout=None, half_close=False):
    """Connects, sends `raw` (one request or several pipelined, complete by construction) and
    reads one answer per entry of `heads` (True where the request is a HEAD) within `timeout`."""
    deadline = time.monotonic() + timeout
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        try:
            sock.connect(socket_path)
        except OSError as error:
            return [Response(error=f"connect: {error.strerror or error}")]
        try:
            sock.settimeout(send_timeout or timeout)
            sock.sendall(raw)
            if half_close:
                sock.shutdown(socket.SHUT_WR)  # "no more requests", as `nc -N` does; answers still due
        except (BrokenPipeError, ConnectionResetError):
            pass  # an early answer (413, 400) closes; read it below
        except socket.timeout:
            pass  # the daemon stopped reading (it answered early, or hangs): read below
        return _read(sock, deadline, len(heads), heads)
    finally:
        sock.close()


def exchange(socket_path, raw, timeout, head=False, send_timeout=None, half_close=False):
    """One request, one answer."""
    return exchange_all(socket_path, raw, timeout, [head], send_timeout, half_close)[0]

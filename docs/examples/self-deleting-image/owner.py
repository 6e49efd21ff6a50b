#!/usr/bin/env python3
"""The self-deleting image: an owner service for authorityd (docs/events.md).

    owner.py --socket SOCK --root DIR issue /files/images/cat.jpg [--ttl 3600]
        prints a one-time link to the image (POST /v1/links, max_uses 1, ref image:<path>)
    owner.py --socket SOCK --root DIR follow [--state FILE]
        follows GET /v1/events (Server-Sent Events) and deletes DIR/<resource> when its link is
        used up, expires, is revoked or retired; resumes after a restart from the last serial it
        handled (kept in --state), so it misses nothing and handles nothing twice

Python 3 standard library only. The daemon's socket must be reachable (the `issue` right).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time

ENDINGS = {"used_up", "expired", "revoked", "retired"}
REF_PREFIX = "image:"


def request(sock_path: str, method: str, target: str, body: dict | None = None) -> tuple[int, dict]:
    """One HTTP/1.1 request over the Unix socket, `Connection: close`; the JSON answer."""
    data = json.dumps(body).encode() if body is not None else b""
    head = (f"{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n").encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(30)
        conn.connect(sock_path)
        conn.sendall(head + data)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    header, _, payload = answer.partition(b"\r\n\r\n")
    status = int(header.split(b" ", 2)[1])
    return status, json.loads(payload) if payload else {}


def issue(args: argparse.Namespace) -> int:
    path = args.resource
    if not os.path.isfile(os.path.join(args.root, path.lstrip("/"))):
        print(f"owner.py: no file {path} under {args.root}", file=sys.stderr)
        return 1
    status, answer = request(args.socket, "POST", "/v1/links",
                             {"resource": path, "ttl": args.ttl, "max_uses": 1, "ref": REF_PREFIX + path})
    if status != 201:
        print(f"owner.py: issue refused: {answer.get('error', answer)}", file=sys.stderr)
        return 1
    print(answer["url"])
    return 0


class Refused(Exception):
    """An answer reconnecting cannot change: behind the retention or ahead of a restored store (410), no right (403)."""


def frames(conn: socket.socket):
    """The stream's frames (dicts of id, event, data) from its chunked body; ends with the stream."""
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        chunk = conn.recv(65536)
        if not chunk:
            return
        buffer += chunk
    header, _, buffer = buffer.partition(b"\r\n\r\n")
    status = int(header.split(b" ", 2)[1])
    if status == 410 or status in (403, 422):
        raise Refused(f"the event stream was refused ({status}): {buffer[:300]!r}")
    if status != 200:
        raise RuntimeError(f"the event stream is unavailable ({status}): {buffer[:300]!r}")
    body = b""
    while True:
        # One chunk: its size line, its bytes, CRLF.
        while b"\r\n" not in buffer:
            chunk = conn.recv(65536)
            if not chunk:
                return
            buffer += chunk
        size_line, _, buffer = buffer.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return
        while len(buffer) < size + 2:
            chunk = conn.recv(65536)
            if not chunk:
                return
            buffer += chunk
        body += buffer[:size]
        buffer = buffer[size + 2:]
        while b"\n\n" in body:
            text, _, body = body.partition(b"\n\n")
            frame = {}
            for line in text.decode().split("\n"):
                if line.startswith(":") or ":" not in line:
                    continue
                name, _, value = line.partition(":")
                frame[name] = value[1:] if value.startswith(" ") else value
            if "data" in frame:
                yield frame


def load_serial(state: str) -> int | None:
    try:
        with open(state) as file:
            return int(file.read().strip())
    except FileNotFoundError:
        return None


def save_serial(state: str, serial: int) -> None:
    """Durably, after the event is handled: a crash handles it again at worst (deleting is idempotent)."""
    temporary = state + ".tmp"
    with open(temporary, "w") as file:
        file.write(str(serial))
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, state)


def handle(event: dict, root: str) -> None:
    ref = event.get("ref") or ""
    if event["kind"] not in ENDINGS or not ref.startswith(REF_PREFIX):
        return
    # The path comes from our own ref, never from the network alone; stay under the root.
    target = os.path.realpath(os.path.join(root, ref[len(REF_PREFIX):].lstrip("/")))
    if not target.startswith(os.path.realpath(root) + os.sep):
        print(f"owner.py: {ref} is outside {root}: ignored", file=sys.stderr)
        return
    try:
        os.remove(target)
        print(f"owner.py: {event['kind']}: deleted {target}", file=sys.stderr, flush=True)
    except FileNotFoundError:
        pass


def follow(args: argparse.Namespace) -> int:
    while True:
        last = load_serial(args.state)
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.connect(args.socket)
                resume = f"Last-Event-ID: {last}\r\n" if last is not None else ""
                conn.sendall(("GET /v1/events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n"
                              f"{resume}\r\n").encode())
                for frame in frames(conn):
                    if frame.get("event") == "error":
                        print(f"owner.py: fell behind the daemon's event retention: {frame['data']}", file=sys.stderr)
                        return 1
                    event = json.loads(frame["data"])
                    handle(event, args.root)
                    save_serial(args.state, event["serial"])
        except Refused as error:
            # Behind the retention: the events missed are gone; reconcile (GET /v1/links/{id} for
            # each image) before following again from the serial the message names.
            print(f"owner.py: {error}", file=sys.stderr)
            return 1
        except (OSError, RuntimeError) as error:
            print(f"owner.py: event stream: {error}; reconnecting", file=sys.stderr, flush=True)
        time.sleep(1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--socket", required=True, help="authorityd's socket")
    parser.add_argument("--root", required=True, help="the directory the proxy serves")
    commands = parser.add_subparsers(dest="command", required=True)
    issue_parser = commands.add_parser("issue", help="print a one-time link to an image")
    issue_parser.add_argument("resource", help="the image's path as the proxy serves it: /files/images/cat.jpg")
    issue_parser.add_argument("--ttl", type=int, default=3600, help="seconds the link lives (default 3600)")
    follow_parser = commands.add_parser("follow", help="delete images whose links ended")
    follow_parser.add_argument("--state", default="owner.serial", help="where the last handled serial is kept")
    args = parser.parse_args()
    return issue(args) if args.command == "issue" else follow(args)


if __name__ == "__main__":
    sys.exit(main())

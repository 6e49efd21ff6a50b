#!/usr/bin/env python3
"""Property-based fuzzer of the authorityd HTTP API (issue #12 item 2).

Reads docs/openapi.yaml, starts the real daemon on a temporary state directory and socket, and
sends generated requests for every operation over raw AF_UNIX HTTP/1.1: schema-valid bodies and
mutations of them (every JSON type in every member, boundary integers, huge and non-ASCII
strings, deep nesting, unknown and duplicate members, wrong content types, broken framing),
raw query strings and path parameters. After every request it asserts: the daemon is alive, the
answer is complete HTTP within a timeout, the status is one the documentation gives for that
operation, every error answer is exactly {"error":{"code","message"}} as application/json with a
documented code (no body at all on /v1/auth), and there is no 500. A fixed seed makes every
failure replay: `--seed S --replay I` sends iteration I alone.

stdlib + pyyaml only. See Tests/Fuzz/README.md.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fuzz_http import exchange, exchange_all  # noqa: E402
from fuzz_spec import Spec  # noqa: E402
from fuzz_case import Context  # noqa: E402
from fuzz_gen import ALL_RIGHTS, Generator  # noqa: E402
from fuzz_check import Failures, check_exchange, check_pipeline  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_SEED = 20261201
DEFAULT_ITERATIONS = 8000
HEALTH_EVERY = 50


def _die_with_parent():
    """In the daemon's child before exec: SIGKILL when the fuzzer dies, however it dies."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Daemon:
    """The real authorityd on a temporary state directory and a world-connectable socket."""

    def __init__(self, executable, workdir, body_limit, extra=()):
        self.executable = executable
        self.extra = list(extra)
        self.context = None
        self.workdir = workdir
        self.state = os.path.join(workdir, "state")
        self.socket_dir = os.path.join(workdir, "sock")
        os.makedirs(self.socket_dir, exist_ok=True)
        os.chmod(workdir, 0o755)
        os.chmod(self.socket_dir, 0o755)
        self.socket_path = os.path.join(self.socket_dir, "s.sock")
        self.body_limit = body_limit
        self.log_path = os.path.join(workdir, "daemon.log")
        self.process = None
        self.starts = 0

    def start(self):
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        log = open(self.log_path, "ab")
        self.log_offset = log.tell()
        self.process = subprocess.Popen(
            [self.executable, "--state-dir", self.state, "--socket", self.socket_path,
             "--socket-mode", "0666", "--body-limit", str(self.body_limit)] + self.extra,
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, preexec_fn=_die_with_parent)
        log.close()
        self.starts += 1
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"fuzz_api: authorityd exited at start ({self.process.returncode}); see {self.log_path}:\n"
                                 + self.log_tail())
            if os.path.exists(self.socket_path):
                answer = exchange(self.socket_path, b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5)
                if answer.status == 200:
                    return
            time.sleep(0.05)
        raise SystemExit("fuzz_api: authorityd did not answer /v1/health within 30 s")

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def death(self):
        code = self.process.returncode
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            return f"killed by {name}"
        return f"exited with status {code}"

    def crash_summary(self):
        """The runtime's reason and the first frames in this project's Sources, from the log of
        the run that just ended: `*** Swift runtime failure: arithmetic overflow *** at
        Sources/AuthorityServer/Authority+Admin.swift:52:95 (Authority.revocation(_:now:))`."""
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(self.log_offset)
                text = handle.read().decode("utf-8", "replace")
        except OSError:
            return ""
        reasons = [line.strip(" *") for line in text.splitlines() if "runtime failure" in line or "Fatal error" in line]
        crashed = text.partition(" crashed:")[2]
        frames = []
        for line in crashed.splitlines():
            found = re.search(r"0x[0-9a-f]+ (.+?) \+ \d+ in \S+ at \S*?/(Sources/\S+)", line)
            if found and "/.build/" not in line:
                frames.append(f"{found.group(2)} ({found.group(1)})")
            if len(frames) == 2:
                break
        return "; ".join(reasons[:1] + frames)

    def log_tail(self, lines=6):
        try:
            with open(self.log_path, "rb") as handle:
                text = handle.read()[-4000:].decode("utf-8", "replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self):
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("authorityd", nargs="?", default=os.path.join(ROOT, ".build/release/authorityd"))
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--iterations", type=int, default=DEFAULT_ITERATIONS,
                        help="requests as root; the other phases send a share of this (see PHASES)")
    parser.add_argument("--replay", type=int, action="append", default=[],
                        help="send only iteration I of --phase (repeatable), as a failure line says")
    parser.add_argument("--phase", default="root", choices=[phase[0] for phase in PHASES])
    parser.add_argument("--spec", default=os.path.join(ROOT, "docs/openapi.yaml"))
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds for one answer")
    parser.add_argument("--body-limit", type=int, default=65536)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (daemon log)")
    parser.add_argument("--verbose", action="store_true", help="print every request and status")
    return parser.parse_args(argv)


def settled_alive(alive, answer, grace=0.05):
    """Whether the daemon is alive after this answer. A missing answer is often a process that is
    dying: give it `grace` seconds so that the crash is charged to the request that caused it
    (after a timeout, 20 s: Swift's backtracer holds a trapped process for seconds)."""
    if answer.error is None:
        return alive()
    if answer.error == "timeout":
        grace = 20.0
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not alive():
            return False
        time.sleep(0.005)
    return alive()


def run_cases(spec, context, socket_path, alive, seed, indices, phase, rights, timeout, verbose, on_crash=None):
    """Runs generated cases `indices`; returns (passed, failures as plain dicts)."""
    failures = Failures()
    passed = 0
    for count, index in enumerate(indices):
        rng = random.Random(f"{seed}:{phase}:{index}")
        case = Generator(spec, context, rng, rights).case(index)
        if case.parts:
            answers = exchange_all(socket_path, case.raw, timeout, [part.method == "HEAD" for part in case.parts])
            answer = next((a for a in answers if a.error), answers[-1])
            problems = check_pipeline(spec, case, answers, settled_alive(alive, answer))
        else:
            answer = exchange(socket_path, case.raw, timeout, head=case.method == "HEAD", send_timeout=timeout,
                              half_close=case.half_close)
            problems = [(kind, detail, answer) for kind, detail in check_exchange(spec, case, answer, settled_alive(alive, answer))]
        if verbose:
            print(f"  #{index} {case.label}: {answer.status} {answer.error or ''}".rstrip(), flush=True)
        if problems:
            if not alive() and on_crash:
                summary = on_crash()
                problems = [(kind, f"{detail}: {summary}" if kind.endswith("crash") and summary else detail, got)
                            for kind, detail, got in problems]
            for kind, detail, got in problems:
                failures.add(case, got, kind, detail, seed, index, phase)
            if on_crash is None and not alive():
                break  # the unprivileged caller cannot restart the daemon: the parent reports and restarts
        else:
            passed += 1
        if (count + 1) % HEALTH_EVERY == 0:
            health = exchange(socket_path, b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout)
            if health.status != 200 or not health.body.startswith(b"{"):
                failures.add_plain("health", health.status, "health",
                                   f"GET /v1/health answered {health.status} {health.error or ''} after #{index}", seed, index,
                                   phase)
                if not alive() and on_crash:
                    on_crash()
            else:
                passed += 1
    return passed, failures


def process_alive(pid):
    """Alive by /proc (a process we may not signal): present and not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rpartition(b")")[2].split()[0] != b"Z"
    except OSError:
        return False


# (name, daemon, caller's rights, share of --iterations). As root the caller has every right; uid
# 65534 without a policy file has `check` and `issue`; the second daemon runs with a policy that
# grants nobody anything and with the revocation list switched off.
PHASES = [
    ("root", "default", ALL_RIGHTS, 1.0),
    ("user", "default", frozenset(["check", "issue"]), 0.25),
    ("norights", "locked", frozenset(), 0.05),
    ("disabled", "locked", ALL_RIGHTS, 0.05),
]
LOCKED_POLICY = {"default_rights": [], "rules": []}


def as_caller(rights, work):
    """Runs `work()` as root, or in a forked child as uid/gid 65534 (no groups) when `rights` is
    not every right; the child's result comes back through a pipe."""
    if rights == ALL_RIGHTS:
        return work()
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(reader)
        code = 0
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            passed, failures = work()
            payload = {"passed": passed, "failures": failures.export()}
        except BaseException as error:  # the parent reports it
            payload, code = {"error": repr(error)}, 1
        with os.fdopen(writer, "wb") as out:
            out.write(json.dumps(payload).encode())
        os._exit(code)
    os.close(writer)
    with os.fdopen(reader, "rb") as inp:
        data = inp.read()
    os.waitpid(child, 0)
    result = json.loads(data or b'{"error": "no result"}')
    if "error" in result:
        raise SystemExit(f"fuzz_api: the unprivileged caller failed: {result['error']}")
    return result["passed"], Failures.imported(result["failures"])


def run_phase(spec, args, name, daemon, context, rights, indices, restarts):
    def restart():
        restarts.append(daemon.death())
        summary = daemon.crash_summary()
        daemon.start()
        return f"{restarts[-1]}; {summary}" if summary else restarts[-1]

    pid = daemon.process.pid
    root = rights == ALL_RIGHTS
    alive = daemon.alive if root else (lambda: process_alive(pid))
    passed, failures = as_caller(rights, lambda: run_cases(
        spec, context, daemon.socket_path, alive, args.seed, indices, name, rights, args.timeout, args.verbose,
        on_crash=restart if root else None))
    if not daemon.alive():
        summary = restart()
        for entry in failures.groups.values():
            if entry["kind"].endswith("crash") and summary not in entry["detail"]:
                entry["detail"] += f": {summary}"
    return passed, failures


def main(argv):
    args = parse_arguments(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` stops the daemons
    started = time.monotonic()
    spec = Spec.load(args.spec)
    executable = os.path.abspath(args.authorityd)
    if not os.access(executable, os.X_OK):
        raise SystemExit(f"fuzz_api: no executable {executable} (swift build -c release --product authorityd)")
    print(f"fuzz_api: seed {args.seed}, {args.iterations} iterations, {len(spec.operations)} operations, {executable}", flush=True)
    workdir = tempfile.mkdtemp(prefix="authority-fuzz-")
    daemons = {}
    try:
        policy = os.path.join(workdir, "policy.json")
        with open(policy, "w") as handle:
            json.dump(LOCKED_POLICY, handle)
        os.chmod(workdir, 0o755)
        passed, failures, restarts = 0, Failures(), []
        for name, which, rights, share in PHASES:
            if args.replay:
                indices = args.replay if name == args.phase else []
            else:
                indices = range(int(args.iterations * share))
            if not indices:
                continue
            if rights != ALL_RIGHTS and os.geteuid() != 0:
                print(f"fuzz_api: not root: phase {name} (an unprivileged caller, 403 forbidden) is skipped", flush=True)
                continue
            if which not in daemons:
                extra = [] if which == "default" else ["--policy", policy, "--no-revocations"]
                daemons[which] = Daemon(executable, os.path.join(workdir, which), args.body_limit, extra)
                daemons[which].start()
                daemons[which].context = Context.prepare(daemons[which].socket_path, args.body_limit, args.timeout)
            daemon = daemons[which]
            more, found = run_phase(spec, args, name, daemon, daemon.context, rights, indices, restarts)
            passed += more
            failures.merge(found)
        failures.report(sys.stdout)
        if restarts:
            print(f"fuzz_api: the daemon was restarted {len(restarts)} times ({'; '.join(sorted(set(restarts)))})")
        print(f"fuzz_api: {time.monotonic() - started:.1f} s, seed {args.seed}; replay one: "
              f"python3 Tests/Fuzz/fuzz_api.py {args.authorityd} --seed {args.seed} --phase PHASE --replay I")
        print(f"{passed} passed, {failures.count} failed")
        return 1 if failures.count else 0
    finally:
        for daemon in daemons.values():
            daemon.stop()
        if args.keep:
            print(f"fuzz_api: kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

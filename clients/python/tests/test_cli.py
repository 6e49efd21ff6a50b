"""python3 -m authority_edge check: the reason on stdout, exit 0 only for ok, 1 for another
reason, 2 with one line on stderr for input files that are missing, unreadable or refused."""
import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import _support as s

T = 1_790_000_000
K7 = s.Signer(7, 0x07)
EPOCHS = [(7, "active")]


class _Base(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.jwks = self.write("keys.json", json.dumps(s.jwks((K7, "active"))).encode())
        bundle = s.full(K7, 10, T, T + 300, EPOCHS, [("/blocked/", s.STANDING)], [bytes(16)])
        self.bundle = self.write("bundle.bin", bundle)
        self.bundle_json = self.write("bundle.json", json.dumps(s.json_twin(bundle)).encode())
        self.ok_url = s.link(K7, "/files/a.pdf", b"\x01" * 16, T, T + 3600)
        self.revoked_url = s.link(K7, "/blocked/a.pdf", b"\x01" * 16, T, T + 3600)

    def write(self, name, data):
        path = Path(self.dir.name) / name
        path.write_bytes(data)
        return str(path)

    def run_cli(self, *args):
        env = dict(os.environ, PYTHONPATH=str(s.PACKAGE_ROOT))
        return subprocess.run([sys.executable, "-m", "authority_edge", *args], env=env,
                              capture_output=True, text=True, cwd=self.dir.name, timeout=60)

    def check(self, url, *extra, jwks=None, bundle=None):
        return self.run_cli("check", "--jwks", jwks or self.jwks, "--bundle", bundle or self.bundle,
                            *extra, url)

    def assert_error(self, result, *words):
        self.assertEqual(result.returncode, 2, result)
        self.assertEqual(result.stdout, "")
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        for word in words:
            self.assertIn(word, lines[0])


class CLI(_Base):
    def test_reasons(self):
        for bundle in (self.bundle, self.bundle_json):
            with self.subTest(bundle=bundle):
                r = self.check(self.ok_url, "--now", str(T + 10), bundle=bundle)
                self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "ok\n", ""))
                r = self.check(self.revoked_url, "--now", str(T + 10), bundle=bundle)
                self.assertEqual((r.returncode, r.stdout), (1, "revoked\n"))
        r = self.check(self.ok_url, "--now", str(T + 10), "--method", "PUT")
        self.assertEqual((r.returncode, r.stdout), (1, "method_not_allowed\n"))
        r = self.check("/files/a.pdf?" + self.ok_url.split("?", 1)[1], "--host", "cdn.example.com",
                       "--client-ip", "192.0.2.1", "--now", str(T + 10))
        self.assertEqual((r.returncode, r.stdout), (0, "ok\n"))
        r = self.check(self.ok_url + "&au_x=1", "--now", str(T + 10))
        self.assertEqual((r.returncode, r.stdout), (1, "malformed\n"))

    def test_stale_bundle_is_a_reason_not_an_error(self):
        r = self.check(self.ok_url, "--now", str(T + 300))
        self.assertEqual((r.returncode, r.stdout), (1, "stale_bundle\n"))
        self.assertIn("stale", r.stderr)
        far = s.link(K7, "/files/a.pdf", b"\x01" * 16, T, T + 10**9)
        r = self.check(far)                    # the real clock, after the bundle's not_after
        self.assertEqual((r.returncode, r.stdout), (1, "stale_bundle\n"))

    def test_bad_input_files(self):
        now = ("--now", str(T + 10))
        self.assert_error(self.check(self.ok_url, *now, jwks="missing.json"), "missing.json")
        self.assert_error(self.check(self.ok_url, *now, bundle="missing.bin"), "missing.bin")
        self.assert_error(self.check(self.ok_url, *now, jwks=self.write("k", b"{nope")), "JWK")
        self.assert_error(self.check(self.ok_url, *now, jwks=self.write("k2", b'{"keys": 1}')),
                          "JWK")
        truncated = self.write("t.bin", Path(self.bundle).read_bytes()[:-1])
        self.assert_error(self.check(self.ok_url, *now, bundle=truncated), "bad_format")
        flipped = bytearray(Path(self.bundle).read_bytes())
        flipped[100] ^= 1
        self.assert_error(self.check(self.ok_url, *now, bundle=self.write("f.bin", bytes(flipped))),
                          "bad_signature")
        fresh = self.write("fresh.bin", s.freshness(K7, 10, T, T + 300, bytes(32)))
        self.assert_error(self.check(self.ok_url, *now, bundle=fresh), "freshness")
        self.assert_error(self.check(self.ok_url, "--now", "soon"), "--now")
        self.assert_error(self.run_cli("check", self.ok_url), "--jwks")
        self.assert_error(self.check(self.ok_url, *now, bundle=self.dir.name))  # a directory


class Batch(_Base):
    """python3 -m authority_edge batch: the shape Tests/EndToEndTests/EdgeVerificationTests.swift
    feeds every verifier, here with the objects and cases of Tests/Vectors/bundle-v1.json."""

    def test_vectors_through_batch(self):
        vectors = s.load_json(s.BUNDLE_VECTORS)
        objects = {o["name"]: o for o in vectors["objects"]}
        from authority_edge import parse_binary
        for form in ("binary", "json"):
            held = "full-10"
            data = s.unb64(objects[held]["binary"])
            raw = data if form == "binary" else json.dumps(objects[held]["json"]).encode()
            issued = parse_binary(data).statement.issued_at
            cases = [c for c in vectors["checks"] if c["bundle"] == held]
            truncated = s.unb64(objects["full-10-truncated"]["binary"])
            batch = {"jwks": vectors["keys"],
                     "objects": [{"now": issued, "bytes": s.b64(truncated)},
                                 {"now": issued, "bytes": s.b64(raw)},
                                 {"now": issued, "bytes": s.b64(raw)}],
                     "checks": [{k: c[k] for k in ("now", "url", "method", "host", "client_ip")}
                                for c in cases]}
            r = self.run_cli("batch", self.write("batch.json", json.dumps(batch).encode()))
            self.assertEqual(r.returncode, 0, r.stderr)
            output = json.loads(r.stdout)
            self.assertEqual(output["accepted"], ["bad_format", "ok", "ok"])
            self.assertEqual(output["reasons"], [c["reason"] for c in cases])
            self.assertGreater(len(cases), 20)

    def test_bad_batches(self):
        for text in (b"", b"[]", b'{"jwks": null}', b'{"jwks": {"keys": []}, "objects": [{"now": 1, "bytes": "+"}]}',
                     b'{"jwks": {"keys": []}, "checks": [{"now": "1", "url": "/"}]}'):
            with self.subTest(text=text):
                self.assert_error(self.run_cli("batch", self.write("b.json", text)), "b.json")
        self.assert_error(self.run_cli("batch", "missing.json"), "missing.json")


if __name__ == "__main__":
    unittest.main()

// verify-batch.mjs, the JSON-in/JSON-out run that Tests/EndToEndTests/EdgeVerificationTests.swift
// feeds every verifier: the bundle vectors' objects and checks through it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { b64, readVectors, unb64 } from './support.mjs';

const script = fileURLToPath(new URL('../verify-batch.mjs', import.meta.url));
const vectors = readVectors('bundle-v1.json');
const object = (name) => vectors.objects.find((o) => o.name === name);
const issuedAt = (name) => object(name).json.issued_at;

async function run(batch) {
  const dir = await mkdtemp(join(tmpdir(), 'au-edge-js-'));
  try {
    const file = join(dir, 'batch.json');
    await writeFile(file, typeof batch === 'string' ? batch : JSON.stringify(batch));
    return await new Promise((resolve) => {
      execFile(process.execPath, [script, file], (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }));
    });
  } finally {
    await rm(dir, { recursive: true });
  }
}

test('objects in order, then the checks, in both forms', async () => {
  const checks = vectors.checks.filter((c) => c.bundle === 'full-12');
  for (const form of ['binary', 'json']) {
    const bytes = (name) => (form === 'binary' ? object(name).binary : b64(new TextEncoder().encode(JSON.stringify(object(name).json))));
    const { code, stdout, stderr } = await run({
      jwks: vectors.keys,
      objects: [
        { now: issuedAt('full-10'), bytes: bytes('full-10') },
        { now: issuedAt('delta-10-12'), bytes: bytes('delta-10-12') },
        { now: issuedAt('full-10'), bytes: bytes('full-10') },
        { now: issuedAt('full-10'), bytes: b64(unb64(object('full-10').binary).subarray(0, 200)) },
      ],
      checks: checks.map((c) => ({ now: c.now, url: c.url, method: c.method, host: c.host, client_ip: c.client_ip })),
    });
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), { accepted: ['ok', 'ok', 'rolled_back', 'bad_format'], reasons: checks.map((c) => c.reason) });
  }
});

test('a file that is not a batch exits 2 with one line', async () => {
  for (const bad of ['not json', '[]', { jwks: {}, objects: [] }, { jwks: vectors.keys, objects: [{ now: 1, bytes: '%%' }] }, { jwks: vectors.keys, checks: [{ now: '1', url: '/' }] }]) {
    const { code, stderr } = await run(bad);
    assert.equal(code, 2);
    assert.match(stderr, /^verify-batch: error: .+\n$/);
  }
});

// Every case of Tests/Vectors/bundle-v1.json (docs/revocation-bundle.md §9): `accept` cases (§6)
// in the form given, JSON as text, as bytes and as a parsed object; `checks` cases (§7).
import test from 'node:test';
import assert from 'node:assert/strict';
import { EdgeVerifier } from '../authority-edge.mjs';
import { readVectors, unb64 } from './support.mjs';

const vectors = readVectors('bundle-v1.json');
const objects = new Map(vectors.objects.map((o) => [o.name, o]));
const issuedAt = (bytes) => new DataView(bytes.buffer, bytes.byteOffset).getBigInt64(25);

/** A verifier holding `name` (binary form, accepted at its own issued_at), or nothing. */
async function holding(name) {
  const edge = new EdgeVerifier(vectors.keys, { notBeforeLeeway: vectors.not_before_leeway });
  if (name !== null) {
    const bytes = unb64(objects.get(name).binary);
    assert.deepEqual(await edge.accept(bytes, issuedAt(bytes)), { answer: 'ok' }, `held ${name}`);
  }
  return edge;
}

test('the vectors file has every case', () => {
  assert.ok(vectors.accept.length >= 66, `${vectors.accept.length} accept cases`);
  assert.ok(vectors.checks.length >= 32, `${vectors.checks.length} check cases`);
  const answers = new Set(vectors.accept.map((c) => c.answer));
  for (const a of ['ok', 'newer', 'bad_format', 'unknown_key', 'bad_signature', 'inactive_signer', 'rolled_back', 'base_mismatch', 'digest_mismatch', 'stale']) {
    assert.ok(answers.has(a), `no case answers ${a}`);
  }
});

for (const c of vectors.accept) {
  test(`accept: ${c.name}`, async () => {
    const object = objects.get(c.object);
    const inputs = c.form === 'binary'
      ? [unb64(object.binary)]
      : [JSON.stringify(object.json), new TextEncoder().encode(JSON.stringify(object.json, null, 2)), structuredClone(object.json)];
    assert.notEqual(inputs[0], null);
    for (const input of inputs) {
      const edge = await holding(c.held);
      const before = edge.held;
      const result = await edge.accept(input, c.now);
      assert.equal(result.answer, c.answer, `${typeof input}: ${result.message ?? ''}`);
      if (!['ok'].includes(result.answer)) assert.deepEqual(edge.held, before, 'a refusal (or newer) changes nothing');
      if (result.answer !== 'ok' && result.answer !== 'newer') assert.match(result.message, new RegExp(`^${c.answer}: `));
    }
  });
}

for (const c of vectors.checks) {
  test(`check: ${c.name}`, async () => {
    const edge = await holding(c.bundle);
    const { reason } = await edge.check({ url: c.url, host: c.host, method: c.method, clientIp: c.client_ip }, c.now);
    assert.equal(reason, c.reason);
  });
}

test('check cases also pass with the bundle accepted in its JSON form', async () => {
  for (const c of vectors.checks.filter((c) => c.bundle !== null)) {
    const edge = new EdgeVerifier(vectors.keys);
    const json = objects.get(c.bundle).json;
    assert.equal((await edge.accept(JSON.stringify(json), json.issued_at)).answer, 'ok');
    const { reason } = await edge.check({ url: c.url, host: c.host, method: c.method, clientIp: c.client_ip }, c.now);
    assert.equal(reason, c.reason, c.name);
  }
});

test('a delta and the full bundle of the same state check alike', async () => {
  const viaDelta = await holding('full-10');
  const delta = unb64(objects.get('delta-10-12').binary);
  assert.equal((await viaDelta.accept(delta, issuedAt(delta))).answer, 'ok');
  const full = await holding('full-12');
  assert.deepEqual(viaDelta.held, full.held);
  for (const c of vectors.checks.filter((c) => c.bundle === 'full-12')) {
    const request = { url: c.url, host: c.host, method: c.method, clientIp: c.client_ip };
    assert.equal((await viaDelta.check(request, c.now)).reason, c.reason, c.name);
  }
});

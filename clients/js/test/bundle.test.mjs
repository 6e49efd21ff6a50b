// Revocation bundles built here with generated keys (test/support.mjs writes them from
// docs/revocation-bundle.md independently of the module): the reader's rules, the JSON twin's
// strictness, deltas, rollback, freshness, staleness, the in-place id lookup and the link check.
import test from 'node:test';
import assert from 'node:assert/strict';
import { EdgeVerifier } from '../authority-edge.mjs';
import { STANDING, b64, contentBytes, deltaBytes, id, jsonTwin, jwks, newKey, objectBytes, sha256, signLink } from './support.mjs';

const T = 1_800_000_000;
const [k5, k6, k7, k9] = await Promise.all([newKey(5, 'retired'), newKey(6, 'verify_only'), newKey(7), newKey(9)]);
const keys = jwks(k5, k6, k7);
const EPOCHS = { 5: 'retired', 6: 'verify_only', 7: 'active' };
const BASE = {
  epochs: EPOCHS,
  rules: { '/a/': STANDING, '/b': T - 100, '/c/': T - 50, '/videos/abc': STANDING },
  ids: [id(1), id(2), id(3), id(5)],
};

const full = (content = BASE, o = {}) =>
  objectBytes(o.key ?? k7, { kind: 'full', serial: 10, issuedAt: T, notAfter: T + 300, body: contentBytes(content, o), ...o });
const freshness = async (content, o) => objectBytes(o.key ?? k7, { kind: 'freshness', digest: await sha256(contentBytes(content)), ...o });
const delta = async (changes, result, o) =>
  objectBytes(o.key ?? k7, { kind: 'delta', body: deltaBytes({ epochs: EPOCHS, ...changes }), digest: await sha256(contentBytes(result)), ...o });

async function holding(bytes = null, options) {
  const edge = new EdgeVerifier(keys, options);
  if (bytes) assert.deepEqual(await edge.accept(bytes ?? (await full()), T), { answer: 'ok' });
  return edge;
}

/** A link for `path` (exact, or prefix with `prefix`), id n, issued at `iat`, signed by `key`. */
const link = (path, { n = 100, iat = T - 10, key = k7, ...rest } = {}) =>
  signLink(key, { path, id: id(n, 0x77), iat, exp: T + 3600, ...rest });
const reason = async (edge, url, now = T + 1, extra = {}) => (await edge.check({ url, method: 'GET', ...extra }, now)).reason;

test('a full bundle is accepted; ids are found by binary search, neighbours are not', async () => {
  const ids = Array.from({ length: 1000 }, (_, i) => id(2 * i + 1)); // odd numbers only
  const edge = await holding(await full({ ...BASE, ids }));
  assert.equal(edge.held.ids, 1000);
  assert.equal(edge.held.serial, 10n);
  for (const n of [1, 3, 999, 1001, 1997, 1999]) {
    assert.equal(await reason(edge, await signLink(k7, { path: '/f', id: id(n), iat: T - 1, exp: T + 60 })), 'revoked', `id ${n}`);
  }
  for (const n of [0, 2, 1000, 1998, 2000, 2001]) {
    assert.equal(await reason(edge, await signLink(k7, { path: '/f', id: id(n), iat: T - 1, exp: T + 60 })), 'ok', `id ${n}`);
  }
});

test('a large id list is accepted and looked up in place', async () => {
  const ids = Array.from({ length: 200_000 }, (_, i) => id(i * 7, 0x10));
  const bytes = await full({ ...BASE, ids });
  const started = performance.now();
  const edge = await holding(bytes);
  assert.ok(performance.now() - started < 5000);
  assert.equal(await reason(edge, await signLink(k7, { path: '/f', id: id(7 * 123_456, 0x10), iat: T - 1, exp: T + 60 })), 'revoked');
  assert.equal(await reason(edge, await signLink(k7, { path: '/f', id: id(7 * 123_456 + 1, 0x10), iat: T - 1, exp: T + 60 })), 'ok');
});

test('the held state is a copy: reusing the caller\'s buffer changes nothing', async () => {
  const bytes = await full();
  const edge = await holding(bytes);
  bytes.fill(0);
  assert.equal(await reason(edge, await signLink(k7, { path: '/f', id: id(2), iat: T - 1, exp: T + 60 })), 'revoked');
});

test('every truncation and every extra byte is bad_format', async () => {
  const bytes = await full();
  const edge = await holding();
  for (let n = 0; n < bytes.length; n++) {
    const { answer } = await edge.accept(bytes.subarray(0, n), T);
    assert.equal(answer, 'bad_format', `${n} of ${bytes.length} bytes`);
  }
  for (const extra of [[0], [0, 0, 0, 0], [1]]) {
    assert.equal((await edge.accept(new Uint8Array([...bytes, ...extra]), T)).answer, 'bad_format');
  }
  assert.equal(edge.held, null);
});

test('every flipped bit of a full bundle, a delta and a freshness object is refused', async () => {
  const objects = [
    [await full(), null],
    [await freshness(BASE, { serial: 10, issuedAt: T, notAfter: T + 400 }), await full()],
    [await delta({ baseSerial: 10, addedIds: [id(9)] }, { ...BASE, ids: [...BASE.ids, id(9)] }, { serial: 11, issuedAt: T, notAfter: T + 300 }), await full()],
  ];
  for (const [bytes, held] of objects) {
    const edge = await holding(held);
    const before = edge.held;
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const flipped = bytes.slice();
        flipped[i] ^= 1 << bit;
        const { answer } = await edge.accept(flipped, T + 1);
        assert.ok(!['ok', 'newer'].includes(answer), `byte ${i} bit ${bit}: ${answer}`);
      }
    }
    assert.deepEqual(edge.held, before);
    assert.equal((await edge.accept(bytes, T + 1)).answer, 'ok'); // and the original still is accepted
  }
});

test('what a flip breaks decides the refusal', async () => {
  const bytes = await full();
  const at = (i, mask = 1) => { const b = bytes.slice(); b[i] ^= mask; return b; };
  const edge = await holding();
  assert.equal((await edge.accept(at(0), T)).answer, 'bad_format'); // magic
  assert.equal((await edge.accept(at(16, 8), T)).answer, 'unknown_key'); // epoch 7 → 15, not in the JWK set
  assert.equal((await edge.accept(at(16, 1), T)).answer, 'bad_signature'); // epoch 7 → 6: a key, not the signer's
  assert.equal((await edge.accept(at(24), T)).answer, 'bad_signature'); // serial
  assert.equal((await edge.accept(at(50), T)).answer, 'bad_signature'); // digest
  assert.equal((await edge.accept(at(100), T)).answer, 'bad_signature'); // signature
  assert.equal((await edge.accept(at(bytes.length - 1), T)).answer, 'digest_mismatch'); // last id
});

test('order, uniqueness and ranges of the binary form', async () => {
  const edge = await holding();
  const bad = {
    'epochs out of order': { epochs: [[7, 'active'], [5, 'retired']] },
    'an epoch twice': { epochs: [[5, 'retired'], [5, 'retired'], [7, 'active']] },
    'no active epoch': { epochs: { 5: 'retired', 7: 'verify_only' } },
    'two active epochs': { epochs: { 6: 'active', 7: 'active' } },
    'epoch 0': { epochs: { 0: 'retired', 7: 'active' } },
    'epoch state 4': { epochs: { 6: 4, 7: 'active' } },
    'rules out of order': { rules: { '/b': 1, '/a': 1 } },
    'a prefix before its own beginning': { rules: { '/ab': 1, '/a': 1 } },
    'ids out of order': { ids: [id(2), id(1)] },
    'an id twice': { ids: [id(1), id(1)] },
  };
  for (const [name, change] of Object.entries(bad)) {
    const content = { ...BASE, ...change };
    const raw = { raw: true };
    const bytes = await objectBytes(k7, { kind: 'full', serial: 10, issuedAt: T, notAfter: T + 300, body: contentBytes(content, raw) });
    assert.equal((await edge.accept(bytes, T)).answer, 'bad_format', name);
  }
  for (const prefix of ['', 'a/', '/a//b', '/a/../b', '/a/./b', '/a%2fb', '/a%2Fb', '/a b', '/caf\u00e9', '/a%7Eb', '/a\\b', '/' + 'x'.repeat(4096)]) {
    assert.equal((await edge.accept(await full({ ...BASE, rules: { [prefix]: 1 } }), T)).answer, 'bad_format', JSON.stringify(prefix));
  }
  for (const prefix of ['/', '/caf%C3%A9/', '/a~b', '/dir/', '/' + 'x'.repeat(4095)]) {
    const fresh = await holding(); // each is another digest under serial 10
    assert.equal((await fresh.accept(await full({ ...BASE, rules: { [prefix]: -5 } }), T)).answer, 'ok', prefix);
  }
  const header = { 'serial 0': { serial: 0 }, 'epoch 2^63': { epoch: 1n << 63n }, 'negative issued_at': { issuedAt: -1 }, 'negative not_after': { notAfter: -1 } };
  for (const [name, change] of Object.entries(header)) {
    assert.equal((await edge.accept(await full(BASE, change), T)).answer, 'bad_format', name);
  }
  const kind = await full();
  for (const k of [0, 4, 255]) { kind[8] = k; assert.equal((await edge.accept(kind, T)).answer, 'bad_format', `kind ${k}`); }
  const huge = await full({ ...BASE, ids: [] });
  new DataView(huge.buffer).setUint32(huge.length - 4, 0xffffffff);
  assert.equal((await edge.accept(huge, T)).answer, 'bad_format', 'a count longer than the object');
});

test('the JSON twin: the same state as the binary form, read strictly', async () => {
  const bytes = await full();
  const json = jsonTwin(bytes);
  const fromBinary = await holding(bytes);
  const fromJSON = await holding(JSON.stringify(json));
  assert.deepEqual(fromJSON.held, fromBinary.held);
  const edge = await holding();
  const refused = async (text, why) => assert.equal((await edge.accept(text, T)).answer, 'bad_format', why);
  const text = JSON.stringify(json);
  await refused(text.replace('"serial":10', '"serial":10.0'), 'a fraction');
  await refused(text.replace('"serial":10', '"serial":1e1'), 'an exponent');
  await refused(text.replace('"serial":10', '"serial":"10"'), 'a string');
  await refused(text.replace('"serial":10', '"serial":true'), 'a boolean');
  await refused(text.replace(`"not_after":${T + 300}`, '"not_after":9007199254740992'), 'beyond 2^53 - 1');
  await refused(text.replace('"serial":10', '"serial":0'), 'serial 0');
  await refused(text.replace('"serial":10', '"serial":-10'), 'a negative serial');
  await refused(text.replace(`"issued_at":${T}`, '"issued_at":-1'), 'a negative time');
  await refused(text.replace('"format":"authority-bundle-v1"', '"format":"authority-bundle-v2"'), 'format');
  await refused(text.replace('"kind":"full"', '"kind":"Full"'), 'kind');
  await refused(text.replace('"state":"active"', '"state":"Active"'), 'a state');
  await refused(text.replace('{"epoch":7,', '{"epoch":7,"x":1,'), 'an unknown member in an epoch');
  await refused(text.replace('{"prefix":"/a/",', '{"prefix":"/a/","x":1,'), 'an unknown member in a rule');
  await refused(text.replace('"issued_before":null', '"issued_before":"never"'), 'a cutoff that is not an integer or null');
  await refused(text.slice(0, -1) + ',"extra":null}', 'an unknown member');
  await refused(JSON.stringify({ ...json, signature: undefined }), 'a missing member');
  await refused(JSON.stringify({ ...json, ids: [b64(id(1)).slice(0, -1) + 'B', ...json.ids.slice(1)] }), 'a non-canonical id');
  await refused(JSON.stringify({ ...json, ids: [b64(id(1)) + 'A'] }), 'an id of 23 characters');
  await refused(JSON.stringify({ ...json, digest: json.digest + 'A' }), 'a digest of 44 characters');
  await refused(JSON.stringify({ ...json, ids: json.ids.toReversed() }), 'ids out of order');
  await refused(JSON.stringify({ ...json, epochs: {} }), 'epochs not an array');
  await refused(text.slice(0, -1), 'not JSON');
  await refused('[' + text + ']', 'not an object');
  await refused(new TextEncoder().encode(' \n' + text.replace('/a/', '/\u00e9/')), 'a prefix that is not canonical, as bytes');
  assert.equal((await edge.accept(structuredClone(json), T)).answer, 'ok', 'a parsed object');
  // a member written twice keeps its last value (allowed by §2.2): the signature still decides
  assert.equal((await edge.accept(text.replace('"serial":10', '"serial":10,"serial":11'), T)).answer, 'bad_signature');
});

test('a delta: removed and set rules, removed and added ids; its digest is of the result', async () => {
  const changes = {
    baseSerial: 10,
    removedRules: ['/b', '/zzz'], // '/zzz' is not held: nothing to remove
    setRules: { '/c/': T + 1000, '/d': STANDING },
    removedIds: [id(2), id(9)], // id(9) is not held
    addedIds: [id(3), id(7)], // id(3) is held already: not twice
  };
  const result = { epochs: EPOCHS, rules: { '/a/': STANDING, '/c/': T + 1000, '/d': STANDING, '/videos/abc': STANDING }, ids: [id(1), id(3), id(5), id(7)] };
  const bytes = await delta(changes, result, { serial: 12, issuedAt: T + 60, notAfter: T + 360 });
  for (const form of [bytes, JSON.stringify(jsonTwin(bytes))]) {
    const edge = await holding(await full());
    assert.deepEqual(await edge.accept(form, T + 60), { answer: 'ok' });
    assert.equal(edge.held.serial, 12n);
    assert.equal(edge.held.notAfter, BigInt(T + 360));
    assert.equal(edge.held.digest, b64(await sha256(contentBytes(result))));
    assert.equal(await reason(edge, await link('/b/x', { iat: T - 200 }), T + 61), 'ok', 'rule removed');
    assert.equal(await reason(edge, await link('/c/x', { iat: T }), T + 61), 'revoked', 'cutoff raised');
    assert.equal(await reason(edge, await link('/d/e', { iat: T + 50 }), T + 61), 'revoked', 'rule added');
    assert.equal(await reason(edge, await signLink(k7, { path: '/f', id: id(2), iat: T, exp: T + 900 }), T + 61), 'ok', 'id removed');
    assert.equal(await reason(edge, await signLink(k7, { path: '/f', id: id(7), iat: T, exp: T + 900 }), T + 61), 'revoked', 'id added');
  }
});

test('a delta removing and setting the same prefix sets it', async () => {
  const result = { ...BASE, rules: { ...BASE.rules, '/b': T + 5 } };
  const bytes = await delta({ baseSerial: 10, removedRules: ['/b'], setRules: { '/b': T + 5 } }, result, { serial: 11, issuedAt: T, notAfter: T + 300 });
  const edge = await holding(await full());
  assert.equal((await edge.accept(bytes, T)).answer, 'ok');
  assert.equal(await reason(edge, await link('/b', { iat: T })), 'revoked');
});

test('a refused delta leaves the held state as it was', async () => {
  const edge = await holding(await full());
  const before = edge.held;
  const wrong = await delta({ baseSerial: 10, addedIds: [id(8)] }, BASE, { serial: 12, issuedAt: T, notAfter: T + 300 });
  assert.equal((await edge.accept(wrong, T)).answer, 'digest_mismatch');
  const otherBase = await delta({ baseSerial: 11 }, BASE, { serial: 12, issuedAt: T, notAfter: T + 300 });
  assert.equal((await edge.accept(otherBase, T)).answer, 'base_mismatch');
  const backwards = await delta({ baseSerial: 10 }, BASE, { serial: 9, issuedAt: T, notAfter: T + 300 });
  assert.equal((await edge.accept(backwards, T)).answer, 'rolled_back');
  const verifyOnlySigner = await delta({ baseSerial: 10 }, BASE, { serial: 11, issuedAt: T, notAfter: T + 300, key: k6 });
  assert.equal((await edge.accept(verifyOnlySigner, T)).answer, 'inactive_signer');
  const staleDelta = await delta({ baseSerial: 10, addedIds: [id(8)] }, { ...BASE, ids: [...BASE.ids, id(8)] }, { serial: 11, issuedAt: T, notAfter: T + 300 });
  assert.equal((await edge.accept(staleDelta, T + 300)).answer, 'stale');
  assert.deepEqual(edge.held, before);
  assert.equal(await reason(edge, await signLink(k7, { path: '/f', id: id(8), iat: T, exp: T + 900 })), 'ok');
  assert.equal((await (await holding()).accept(staleDelta, T)).answer, 'base_mismatch', 'nothing held');
});

test('an empty delta or a freshness object with the held serial moves not_after forward, never back', async () => {
  const edge = await holding(await full());
  assert.equal(await reason(edge, await link('/ok'), T + 300), 'stale_bundle');
  const same = await delta({ baseSerial: 10 }, BASE, { serial: 10, issuedAt: T + 200, notAfter: T + 500 });
  assert.equal((await edge.accept(same, T + 200)).answer, 'ok');
  assert.equal(edge.held.notAfter, BigInt(T + 500));
  assert.equal(await reason(edge, await link('/ok'), T + 300), 'ok');
  assert.equal((await edge.accept(await freshness(BASE, { serial: 10, issuedAt: T + 250, notAfter: T + 700 }), T + 250)).answer, 'ok');
  assert.equal(edge.held.notAfter, BigInt(T + 700));
  assert.equal((await edge.accept(await freshness(BASE, { serial: 10, issuedAt: T + 100, notAfter: T + 400 }), T + 260)).answer, 'ok');
  assert.equal(edge.held.notAfter, BigInt(T + 700), 'never shortened');
  assert.equal((await edge.accept(await full(BASE, { issuedAt: T + 1, notAfter: T + 301 }), T + 260)).answer, 'ok');
  assert.equal(edge.held.notAfter, BigInt(T + 700), 'not by a full bundle of the held serial either');
  assert.equal(await reason(edge, await link('/ok'), T + 699), 'ok');
  assert.equal(await reason(edge, await link('/ok'), T + 700), 'stale_bundle');
});

test('freshness: newer, rolled_back, stale and the held list\'s signer', async () => {
  const edge = await holding(await full());
  const before = edge.held;
  const answer = async (o, now = T + 10, e = edge) => (await e.accept(await freshness(BASE, { issuedAt: T + 10, notAfter: T + 310, ...o }), now)).answer;
  assert.equal(await answer({ serial: 11 }), 'newer');
  assert.equal(await answer({ serial: 9 }), 'rolled_back');
  assert.equal((await edge.accept(await freshness({ ...BASE, ids: [] }, { serial: 10, issuedAt: T, notAfter: T + 300 }), T)).answer, 'rolled_back', 'another digest');
  assert.equal(await answer({ serial: 11 }, T + 310), 'stale', 'stale, even of a later serial');
  assert.equal(await answer({ serial: 10, key: k6 }), 'inactive_signer', 'epoch 6 is verify_only in the held list');
  assert.equal(await answer({ serial: 11, key: k6 }), 'newer', 'no list to check a later serial against');
  assert.equal(await answer({ serial: 10, key: k9 }), 'unknown_key');
  assert.equal(await answer({ serial: 10, key: k5 }), 'unknown_key', 'a retired JWK');
  assert.deepEqual(edge.held, before);
  const empty = await holding();
  assert.equal(await answer({ serial: 3 }, T + 10, empty), 'newer', 'nothing held');
  assert.equal(await answer({ serial: 3 }, T + 310, empty), 'stale', 'nothing held, stale');
  assert.equal(empty.held, null);
});

test('signers: unknown, retired, verify-only, not active in its own list, another key', async () => {
  const edge = await holding();
  assert.equal((await edge.accept(await full(BASE, { key: k9 }), T)).answer, 'unknown_key');
  assert.equal((await edge.accept(await full(BASE, { key: k5 }), T)).answer, 'unknown_key');
  assert.equal((await edge.accept(await full(BASE, { key: k6 }), T)).answer, 'inactive_signer');
  assert.equal((await edge.accept(await full({ ...BASE, epochs: { 5: 'retired', 6: 'active', 7: 'verify_only' } }), T)).answer, 'inactive_signer');
  assert.equal((await edge.accept(await full(BASE, { signWith: k9 }), T)).answer, 'bad_signature');
  edge.setKeys(jwks(k5, k6, k7, k9));
  assert.equal((await edge.accept(await full({ ...BASE, epochs: { ...EPOCHS, 7: 'verify_only', 9: 'active' } }, { key: k9 }), T)).answer, 'ok');
});

test('rollback: an older full bundle, another digest under the held serial, the kept highest serial', async () => {
  const edge = await holding(await full(BASE, { serial: 12 }));
  assert.equal((await edge.accept(await full(BASE, { serial: 11 }), T)).answer, 'rolled_back');
  assert.equal((await edge.accept(await full({ ...BASE, ids: [] }, { serial: 12 }), T)).answer, 'rolled_back');
  assert.equal((await edge.accept(await full({ ...BASE, ids: [] }, { serial: 13 }), T)).answer, 'ok');
  assert.equal(edge.highestSerial, 13n);
  const restarted = new EdgeVerifier(keys, { minSerial: edge.highestSerial });
  assert.equal((await restarted.accept(await full(BASE, { serial: 12 }), T)).answer, 'rolled_back');
  assert.equal((await restarted.accept(await full(BASE, { serial: 13 }), T)).answer, 'ok');
});

test('accepts run one at a time, in the order called', async () => {
  const edge = await holding();
  const d = await delta({ baseSerial: 10, addedIds: [id(8)] }, { ...BASE, ids: [...BASE.ids, id(8)] }, { serial: 11, issuedAt: T, notAfter: T + 300 });
  const answers = await Promise.all([edge.accept(await full(), T), edge.accept(d, T)]);
  assert.deepEqual(answers.map((a) => a.answer), ['ok', 'ok']);
  assert.equal(edge.held.serial, 11n);
});

test('the link check with a bundle (§7)', async () => {
  const edge = await holding(await full({ ...BASE, epochs: { 5: 'retired', 6: 'retired', 7: 'active' } }));
  assert.equal(await reason(edge, await link('/ok')), 'ok');
  assert.equal(await reason(edge, await link('/ok', { key: k6 })), 'retired_key', 'retired in the bundle, verify_only in the JWK set');
  assert.equal(await reason(edge, await link('/ok', { key: k5 })), 'retired_key');
  const withNine = new EdgeVerifier(jwks(k5, k6, k7, k9));
  assert.equal((await withNine.accept(await full(), T)).answer, 'ok');
  assert.equal(await reason(withNine, await link('/ok', { key: k9 })), 'unknown_key', 'in the JWK set, not in the bundle');
  assert.equal(await reason(edge, await link('/ok', { flags: 'u' })), 'needs_daemon');
  assert.equal(await reason(edge, await link('/ok', { flags: 'up' })), 'needs_daemon');
  assert.equal(await reason(edge, await link('/a/x', { flags: 'p' })), 'revoked');
  assert.equal(await reason(edge, await link('/ok'), T + 4000), 'expired', 'an earlier step keeps its reason');
  // prefix rules: '/videos/abc' covers itself and what is below it, '/a/' what is below it
  assert.equal(await reason(edge, await link('/videos/abc')), 'revoked');
  assert.equal(await reason(edge, await link('/videos/abc/seg1.ts')), 'revoked');
  assert.equal(await reason(edge, await link('/videos/abcd')), 'ok');
  assert.equal(await reason(edge, await link('/a/')), 'revoked');
  assert.equal(await reason(edge, await link('/a')), 'ok');
  assert.equal(await reason(edge, await link('/b/c/d', { iat: T - 101 })), 'revoked');
  assert.equal(await reason(edge, await link('/b/c/d', { iat: T - 100 })), 'ok', 'issued at the cutoff is not before it');
  // a prefix link's request path is what the rules see
  const prefixLink = await link('/', { prefix: '/' });
  assert.equal(await reason(edge, prefixLink.replace('https://cdn.example.com/?', 'https://cdn.example.com/a/deep/file?')), 'revoked');
  assert.equal(await reason(edge, prefixLink.replace('https://cdn.example.com/?', 'https://cdn.example.com/open/file?')), 'ok');
  // the request's canonical path: an encoded spelling of a revoked path is revoked too
  assert.equal(await reason(edge, prefixLink.replace('https://cdn.example.com/?', 'https://cdn.example.com/%61/x?')), 'revoked');
  const empty = new EdgeVerifier(keys);
  assert.equal(await reason(empty, await link('/ok')), 'stale_bundle');
  assert.equal(await reason(empty, await link('/ok', { key: k5 })), 'retired_key');
  assert.equal(await reason(empty, await link('/ok'), T + 4000), 'expired');
  assert.equal(await reason(empty, 'https://cdn.example.com/x'), 'malformed');
});

test('now: a Number (fractions dropped), a BigInt, or the clock', async () => {
  const edge = await holding(await full());
  const url = await link('/ok');
  assert.equal(await reason(edge, url, T + 299.999), 'ok');
  assert.equal(await reason(edge, url, BigInt(T + 300)), 'stale_bundle');
  assert.equal((await edge.check({ url, method: 'GET' })).reason, Date.now() / 1000 < T + 300 ? 'ok' : 'expired');
  await assert.rejects(edge.check({ url, method: 'GET' }, NaN), TypeError);
});

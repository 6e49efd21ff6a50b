// The flag c (grant cookie, docs/link-format.md §1) and path-carried tokens (§11), with links
// signed here (test/support.mjs) by the worked example's key: seed 00 01 … 1f, epoch 7.
import test from 'node:test';
import assert from 'node:assert/strict';
import { EdgeVerifier, MalformedLink, checkLink, parseLink } from '../authority-edge.mjs';
import { STANDING, b64, contentBytes, id, jwks, objectBytes, pathTokenLink, seedKey, signLink, unb64 } from './support.mjs';

const T = 1_790_000_000;
const k7 = await seedKey(7, Uint8Array.from({ length: 32 }, (_, i) => i));
const keys = jwks(k7);
const ORIGIN = 'https://cdn.example.com';
const enc = (text) => new TextEncoder().encode(text);
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A link signed by k7, issued at T for 900 s, with id(n). */
const link = ({ n = 1, ...o }) => signLink(k7, { id: id(n, 0x77), iat: T, exp: T + 900, ...o });
const PREFIX = { path: '/videos/42/', prefix: '/videos/42/', methods: 'GET' };
const check = (url, extra = {}) => checkLink({ url, method: 'GET', ...extra }, { keys, now: T + 1 });
const reason = async (url, extra) => (await check(url, extra)).reason;
/** The token segment of a path-carried target, and the target with another token. */
const tokenOf = (target) => /\/~au\/([^/?]*)/.exec(target)[1];
const withToken = (target, token) => target.replace(`/~au/${tokenOf(target)}`, `/~au/${token}`);
const rawToken = (text) => b64(enc(text));

test('the signer is the worked example\'s key', () => {
  assert.equal(k7.jwk.x, 'A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg');
});

// ---- the flag c -------------------------------------------------------------------------

test('au_f accepts c, uc, pc and upc (and u, p, up) on a prefix link, and signs them', async () => {
  for (const flags of ['c', 'uc', 'pc', 'upc', 'u', 'p', 'up']) {
    const url = await link({ ...PREFIX, path: '/videos/42/seg1.ts', flags });
    const { reason: r, link: parsed } = await check(url);
    assert.equal(r, 'ok', flags);
    assert.equal(parsed.flags, flags);
    assert.match(new TextDecoder().decode(parsed.message), new RegExp(`\nflags=${flags}\npath=/videos/42/\n`));
  }
});

test('au_f out of order, repeated, empty or unknown is malformed', async () => {
  for (const flags of ['cu', 'cc', 'pu', 'cp', 'pcu', 'cpu', 'ucp', 'uu', 'upcc', 'C', 'x', 'uxc', '']) {
    const url = await link({ ...PREFIX, flags });
    const { reason: r, detail } = await check(url);
    assert.equal(r, 'malformed', JSON.stringify(flags));
    assert.match(detail, /au_f/);
  }
});

test('the flag c on an exact link is malformed', async () => {
  for (const flags of ['c', 'uc', 'pc', 'upc']) {
    const url = await link({ path: '/files/a.pdf', flags });
    const { reason: r, detail } = await check(url);
    assert.equal(r, 'malformed', flags);
    assert.match(detail, /needs a prefix link/);
    assert.throws(() => parseLink(url), MalformedLink);
  }
  assert.equal(await reason(await link({ path: '/files/a.pdf', flags: 'up' })), 'ok');
});

// ---- the edge: c needs no daemon, u and p do ---------------------------------------------

async function edgeHolding(rules = {}, ids = []) {
  const edge = new EdgeVerifier(keys);
  const body = contentBytes({ epochs: { 7: 'active' }, rules, ids });
  const bytes = await objectBytes(k7, { kind: 'full', serial: 3, issuedAt: T, notAfter: T + 300, body });
  assert.deepEqual(await edge.accept(bytes, T), { answer: 'ok' });
  return edge;
}
const edgeReason = async (edge, url) => (await edge.check({ url, method: 'GET' }, T + 1)).reason;

test('EdgeVerifier: a c link is ok, a uc, pc or upc link needs the daemon', async () => {
  const edge = await edgeHolding();
  const expected = { c: 'ok', uc: 'needs_daemon', pc: 'needs_daemon', upc: 'needs_daemon', u: 'needs_daemon' };
  for (const [flags, want] of Object.entries(expected)) {
    const url = await link({ ...PREFIX, path: '/videos/42/a.ts', flags });
    assert.equal(await edgeReason(edge, url), want, flags);
    assert.equal(await edgeReason(edge, pathTokenLink(url)), want, `${flags}, path-carried`);
  }
  assert.equal(await edgeReason(edge, await link({ path: '/f', flags: 'c' })), 'malformed');
});

// ---- path-carried tokens ------------------------------------------------------------------

test('a path-carried token on a prefix link is ok, and signs what the query form signs', async () => {
  const query = await link({ ...PREFIX, path: '/videos/42/master.m3u8' });
  const path = pathTokenLink(query);
  assert.match(path, /^https:\/\/cdn\.example\.com\/~au\/[A-Za-z0-9_-]+\/videos\/42\/master\.m3u8$/);
  const a = parseLink(query), b = parseLink(path);
  assert.equal(a.carrier, 'query');
  assert.equal(b.carrier, 'path');
  assert.equal(b.path, '/videos/42/master.m3u8');
  assert.deepEqual(b.message, a.message, 'one message');
  assert.deepEqual(b.signature, a.signature, 'one signature');
  assert.equal(await reason(query), 'ok');
  assert.equal(await reason(path), 'ok');
  // every relative URL under the prefix inherits the token
  const token = tokenOf(path);
  for (const rest of ['/videos/42/seg1.ts', '/videos/42/', '/videos/42/hd/seg%201.ts', '/videos/42/a+b.ts?x=1&y']) {
    assert.equal(await reason(`${ORIGIN}/~au/${token}${rest}`), 'ok', rest);
  }
  // origin form with the forwarded Host, and over http
  assert.equal(await reason(`/~au/${token}/videos/42/seg1.ts`, { host: 'cdn.example.com' }), 'ok');
  assert.equal(await reason(`http://cdn.example.com/~au/${token}/videos/42/seg1.ts`), 'ok');
  // the request path is canonicalised: an equivalent spelling passes, a bad one is malformed
  assert.equal(parseLink(`/~au/${token}/videos/42/%73eg%2b1.ts`).path, '/videos/42/seg%2B1.ts');
  for (const rest of ['/videos/42/../43/x', '/videos/42//x', '/videos/42/a%2Fb', '/videos/42/%zz']) {
    assert.equal(await reason(`/~au/${token}${rest}`), 'malformed', rest);
  }
});

test('host-bound, IP-bound and time checks run on a path-carried token as on the query form', async () => {
  const url = pathTokenLink(await link({ ...PREFIX, path: '/videos/42/a.ts', host: 'cdn.example.com', ip: '192.0.2.0/24' }));
  assert.equal(await reason(url, { clientIp: '192.0.2.9' }), 'ok');
  assert.equal(await reason(url, { clientIp: '198.51.100.1' }), 'ip_mismatch');
  assert.equal(await reason(url.replace('cdn.example.com', 'evil.example.com'), { clientIp: '192.0.2.9' }), 'resource_mismatch');
  assert.equal(await reason(url, { method: 'HEAD', clientIp: '192.0.2.9' }), 'method_not_allowed');
  assert.equal((await checkLink({ url, method: 'GET', clientIp: '192.0.2.9' }, { keys, now: T + 900 })).reason, 'expired');
});

test('a request path outside the prefix is resource_mismatch', async () => {
  const token = tokenOf(pathTokenLink(await link(PREFIX)));
  for (const rest of ['/videos/43/a.ts', '/videos/42', '/videos/421/a.ts', '/']) {
    assert.equal(await reason(`${ORIGIN}/~au/${token}${rest}`), 'resource_mismatch', rest);
  }
  // a request path under /~au/ again (or %7Eau, which a proxy decodes) is refused outright
  for (const rest of ['/~au/x/videos/42/a.ts', '/%7Eau/x/videos/42/a.ts', '/%7eau']) {
    assert.equal(await reason(`${ORIGIN}/~au/${token}${rest}`), 'malformed', rest);
  }
  // au_pfx without a trailing slash covers itself and what lies below it, not a sibling
  const bare = tokenOf(pathTokenLink(await link({ path: '/videos/42', prefix: '/videos/42' })));
  assert.equal(await reason(`${ORIGIN}/~au/${bare}/videos/42`), 'ok');
  assert.equal(await reason(`${ORIGIN}/~au/${bare}/videos/42/a.ts`), 'ok');
  assert.equal(await reason(`${ORIGIN}/~au/${bare}/videos/42x`), 'resource_mismatch');
});

test('a path-carried token of an exact link is malformed', async () => {
  const url = pathTokenLink(await link({ path: '/files/a.pdf' }));
  const { reason: r, detail } = await check(url);
  assert.equal(r, 'malformed');
  assert.match(detail, /prefix link/);
});

test('a token that is not canonical base64url, or too long, is malformed', async () => {
  // a link whose token leaves unused bits (its byte count is not a multiple of 3)
  let url;
  for (const n of [1, 2, 3]) {
    url = pathTokenLink(await link({ ...PREFIX, n }));
    if (tokenOf(url).length % 4 !== 0) break;
  }
  const token = tokenOf(url);
  assert.notEqual(token.length % 4, 0);
  const last = B64.indexOf(token.at(-1));
  const sloppy = token.slice(0, -1) + B64[last | 1]; // a low unused bit set
  assert.deepEqual(unb64(sloppy), unb64(token), 'a lax decoder reads the same bytes');
  assert.equal(await reason(url), 'ok');
  assert.equal(await reason(withToken(url, sloppy)), 'malformed');
  const padded = token + '='.repeat((4 - (token.length % 4)) % 4);
  for (const bad of [padded, token.replace(/[-_]/g, (c) => (c === '-' ? '+' : '.')), token.slice(0, -1), `${token}%41`, `${token}A`]) {
    if (bad === token) continue;
    assert.equal(await reason(withToken(url, bad)), 'malformed', bad);
  }
  // 4096 characters (3072 bytes) are the most: tune the prefix so the token has that length
  const longLink = (length) => link({ path: `/${'a'.repeat(length)}`, prefix: `/${'a'.repeat(length)}` });
  const probe = unb64(tokenOf(pathTokenLink(await longLink(2000)))).length;
  const at = pathTokenLink(await longLink(2000 + 3072 - probe));
  assert.equal(tokenOf(at).length, 4096);
  assert.equal(await reason(at), 'ok');
  const over = pathTokenLink(await longLink(2000 + 3073 - probe));
  assert.equal(tokenOf(over).length, 4098);
  assert.equal(await reason(over), 'malformed');
  assert.equal(await reason(over.replace(/\/~au\/[^/]*/, '') + '?' + new TextDecoder().decode(unb64(tokenOf(over)))), 'ok', 'the same link in its query');
});

test('/~au/T without a slash after it, and an empty token, are malformed', async () => {
  const url = pathTokenLink(await link(PREFIX));
  const token = tokenOf(url);
  for (const target of [`${ORIGIN}/~au/${token}`, `${ORIGIN}/~au/${token}?x=1`, `/~au/${token}`, `${ORIGIN}/~au/`,
    `${ORIGIN}/~au//videos/42/a.ts`, `${ORIGIN}/~au//`, `${ORIGIN}/~au/?${url.split('?')[1] ?? ''}`]) {
    assert.equal(await reason(target, { host: 'cdn.example.com' }), 'malformed', target);
  }
  // only the raw bytes /~au/ start a token: /%7Eau/ is an ordinary path (with no query: malformed)
  assert.equal(await reason(url.replace('/~au/', '/%7Eau/')), 'malformed');
  assert.equal(await reason(url.replace('/~au/', '/~AU/')), 'malformed');
});

test('a token piece that is not a reserved parameter, an empty piece or a repeated name is malformed', async () => {
  const url = pathTokenLink(await link(PREFIX));
  const text = new TextDecoder().decode(unb64(tokenOf(url)));
  assert.equal(await reason(withToken(url, rawToken(text))), 'ok', 'the token rebuilt');
  const sig = text.slice(text.indexOf('&au_sig='));
  const variants = [`x=1&${text}`, `${text}&download=1`, `${text}&`, `&${text}`, text.replace('&', '&&'),
    `${text}&au_zz=1`, `${text}&au_v=1`, text.replace('au_k=', 'au%5Fk='), text.replace('au_k=', 'AU_k='),
    text.replace(sig, `&au_f${sig}`), text.replace(sig, `&au_f=${sig}`), text.replace(/&au_pfx=[^&]*/, ''),
    text.replace('au_k=7', 'au_k=07'), text.replace('au_m=GET', 'au_m=GET '), `${text}\n`];
  for (const variant of variants) {
    assert.equal(await reason(withToken(url, rawToken(variant))), 'malformed', variant);
  }
  // raw bytes that are not UTF-8
  const bytes = [...enc(text), 0x26, 0xff];
  assert.equal(await reason(withToken(url, b64(Uint8Array.from(bytes)))), 'malformed');
});

test('a reserved parameter in the query of a path-carried target is malformed', async () => {
  const query = await link({ ...PREFIX, path: '/videos/42/a.ts' });
  const url = pathTokenLink(query);
  assert.equal(await reason(`${url}?download=1&q=a+b`), 'ok', 'application parameters are fine');
  for (const outer of ['au_v=1', 'x=1&au_v=1', 'au_zz=1', 'au%5Fk=7', 'au_sig=x', query.split('?')[1]]) {
    assert.equal(await reason(`${url}?${outer}`), 'malformed', outer);
  }
  for (const outer of ['x=%zz', 'a=1&&b=2', '&', '', 'x=%00']) {
    assert.equal(await reason(`${url}?${outer}`), 'malformed', `bad application query ${outer}`);
  }
});

test('a bad signature in the token, or a tampered token, is refused', async () => {
  const url = pathTokenLink(await link(PREFIX));
  const text = new TextDecoder().decode(unb64(tokenOf(url)));
  assert.equal(await reason(withToken(url, rawToken(text.replace('au_exp=', 'au_nbf=1&au_exp=')))), 'bad_signature');
  assert.equal(await reason(withToken(url, rawToken(text.replace('au_pfx=/videos/42/', 'au_pfx=/videos/'))), { }), 'bad_signature');
  assert.equal(await reason(withToken(url, rawToken(text.replace('au_k=7', 'au_k=8')))), 'unknown_key');
});

test('EdgeVerifier: revocation rules match the request path after the token', async () => {
  const edge = await edgeHolding({ '/videos/42/hd/': STANDING, '/~au/': STANDING, '/videos/42/old': T + 1 }, [id(9, 0x77)]);
  const url = pathTokenLink(await link(PREFIX));
  const token = tokenOf(url);
  assert.equal(await edgeReason(edge, `${ORIGIN}/~au/${token}/videos/42/a.ts`), 'ok', 'the rule /~au/ covers no request path');
  assert.equal(await edgeReason(edge, `${ORIGIN}/~au/${token}/videos/42/hd/a.ts`), 'revoked');
  assert.equal(await edgeReason(edge, `${ORIGIN}/~au/${token}/videos/42/old`), 'revoked', 'issued before the cutoff');
  assert.equal(await edgeReason(edge, pathTokenLink(await link({ ...PREFIX, n: 9 }))), 'revoked', 'by id');
  assert.equal(await edgeReason(edge, `${ORIGIN}/~au/${token}/videos/43/a.ts`), 'resource_mismatch');
  const result = await edge.check({ url: `${ORIGIN}/~au/${token}/videos/42/b.ts`, method: 'GET' }, T + 300);
  assert.equal(result.reason, 'stale_bundle');
  assert.equal(result.link.path, '/videos/42/b.ts');
});

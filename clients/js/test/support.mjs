// Test support: keys, links and revocation bundles built from the specifications directly
// (docs/link-format.md §4, docs/revocation-bundle.md §1–§5), independently of the module under
// test. Node-only (Buffer, node:fs) on purpose: the module itself must not need either.
// (node --test runs every .mjs under test/, so this file also shows up as one empty test file.)
import { readFileSync } from 'node:fs';

const { subtle } = globalThis.crypto;
const here = new URL('.', import.meta.url);

export const b64 = (bytes) => Buffer.from(bytes).toString('base64url');
export const unb64 = (text) => new Uint8Array(Buffer.from(text, 'base64url'));
export const readVectors = (name) => JSON.parse(readFileSync(new URL(`../../../Tests/Vectors/${name}`, here), 'utf8'));

export async function newKey(epoch, status = 'active') {
  const pair = await subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
  const x = b64(new Uint8Array(await subtle.exportKey('raw', pair.publicKey)));
  return { epoch, privateKey: pair.privateKey, jwk: { kty: 'OKP', crv: 'Ed25519', x, kid: String(epoch), use: 'sig', alg: 'EdDSA', status } };
}

/** The key of a fixed 32-byte seed (PKCS #8 is the seed behind a fixed 16-byte header). */
export async function seedKey(epoch, seed, status = 'active') {
  const header = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
  const privateKey = await subtle.importKey('pkcs8', Uint8Array.from([...header, ...seed]), { name: 'Ed25519' }, true, ['sign']);
  const { x } = await subtle.exportKey('jwk', privateKey);
  return { epoch, privateKey, jwk: { kty: 'OKP', crv: 'Ed25519', x, kid: String(epoch), use: 'sig', alg: 'EdDSA', status } };
}

export const jwks = (...keys) => ({ keys: keys.map((k) => k.jwk) });
export const sign = async (key, bytes) => new Uint8Array(await subtle.sign({ name: 'Ed25519' }, key.privateKey, bytes));
export const sha256 = async (bytes) => new Uint8Array(await subtle.digest('SHA-256', bytes));

/** A signed exact or prefix link (the resource's path and query must already be canonical).
 *  `origins` is the verbatim au_o text: it adds the fourteenth line `origins=` (§4). */
export async function signLink(key, { origin = 'https://cdn.example.com', path, query = '', id, iat, exp, nbf, methods = 'GET,HEAD', prefix, host, ip, flags, origins }) {
  const idText = b64(id);
  const message = ['authority-link-v1', `epoch=${key.epoch}`, `id=${idText}`, `issued_at=${iat}`, `not_before=${nbf ?? ''}`,
    `expires_at=${exp}`, `methods=${methods}`, `scope=${prefix ? 'prefix' : 'exact'}`, `host=${host ?? ''}`, `ip=${ip ?? ''}`,
    `flags=${flags ?? ''}`, `path=${prefix ?? path}`, `query=${prefix ? '' : query}`,
    ...(origins === undefined ? [] : [`origins=${origins}`])].map((l) => l + '\n').join('');
  const sig = b64(await sign(key, new TextEncoder().encode(message)));
  const params = [['au_v', '1'], ['au_k', key.epoch], ['au_id', idText], ['au_iat', iat], ['au_nbf', nbf], ['au_exp', exp],
    ['au_m', methods], ['au_pfx', prefix], ['au_h', host], ['au_ip', ip], ['au_f', flags], ['au_o', origins], ['au_sig', sig]]
    .filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`).join('&');
  return `${origin}${path}?${query ? query + '&' : ''}${params}`;
}

/** The same link as a path-carried token (docs/link-format.md §11): the reserved pieces of its
 *  query, in their order, as base64url before the request path (`path`, else the link's own);
 *  `query` (else the link's application pieces) stays the target's query. */
export function pathTokenLink(link, { path, query } = {}) {
  const [, origin = '', ownPath, ownQuery] = /^(https?:\/\/[^/?]*)?([^?]*)\?(.*)$/.exec(link);
  const pieces = ownQuery.split('&');
  const token = b64(new TextEncoder().encode(pieces.filter((p) => p.startsWith('au_')).join('&')));
  const app = query ?? pieces.filter((p) => !p.startsWith('au_')).join('&');
  return `${origin}/~au/${token}${path ?? ownPath}${app ? `?${app}` : ''}`;
}

// ---- bundles ----------------------------------------------------------------------------

const STATE = { active: 1, verify_only: 2, retired: 3 };
export const STANDING = (1n << 63n) - 1n;
const cmp = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const enc = (s) => new TextEncoder().encode(s);

class Out {
  parts = [];
  raw(bytes) { this.parts.push(Uint8Array.from(bytes)); return this; }
  int(size, value, signed = false) {
    const d = new DataView(new ArrayBuffer(size));
    if (size === 1) d.setUint8(0, Number(value));
    else if (size === 2) d.setUint16(0, Number(value));
    else if (size === 4) d.setUint32(0, Number(value));
    else if (signed) d.setBigInt64(0, BigInt(value)); else d.setBigUint64(0, BigInt(value));
    return this.raw(new Uint8Array(d.buffer));
  }
  bytes() { return new Uint8Array(Buffer.concat(this.parts)); }
}

/** A content: {epochs: {epoch: state} or [[epoch, state]], rules: {prefix: cutoff (BigInt or number)}, ids: [16 bytes]}.
 *  Sorted here unless `raw` (to build misordered ones). */
export function contentBytes({ epochs, rules = {}, ids = [] }, { raw = false } = {}) {
  const out = new Out();
  writeEpochs(out, epochs, raw);
  const entries = Object.entries(rules);
  if (!raw) entries.sort(([a], [b]) => cmp(enc(a), enc(b)));
  out.int(4, entries.length);
  for (const [prefix, cutoff] of entries) out.int(2, enc(prefix).length).raw(enc(prefix)).int(8, cutoff, true);
  writeIds(out, ids, raw);
  return out.bytes();
}

function writeEpochs(out, epochs, raw) {
  // {epoch: state}, or [[epoch, state], …] to keep an order (integer keys iterate ascending)
  const list = (Array.isArray(epochs) ? epochs : Object.entries(epochs)).map(([e, s]) => [BigInt(e), STATE[s] ?? s]);
  if (!raw) list.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  out.int(4, list.length);
  for (const [e, s] of list) out.int(8, e).int(1, s);
}

function writeIds(out, ids, raw) {
  const list = raw ? ids : [...ids].sort(cmp);
  out.int(4, list.length);
  for (const id of list) out.raw(id);
}

export function deltaBytes({ baseSerial, epochs, removedRules = [], setRules = {}, removedIds = [], addedIds = [] }) {
  const out = new Out().int(8, baseSerial);
  writeEpochs(out, epochs, false);
  const removed = [...removedRules].sort((a, b) => cmp(enc(a), enc(b)));
  out.int(4, removed.length);
  for (const p of removed) out.int(2, enc(p).length).raw(enc(p));
  const set = Object.entries(setRules).sort(([a], [b]) => cmp(enc(a), enc(b)));
  out.int(4, set.length);
  for (const [p, c] of set) out.int(2, enc(p).length).raw(enc(p)).int(8, c, true);
  writeIds(out, removedIds, false);
  writeIds(out, addedIds, false);
  return out.bytes();
}

export function statementBytes({ epoch, serial, issuedAt, notAfter, digest }) {
  return enc(`authority-bundle-v1\nepoch=${epoch}\nserial=${serial}\nissued_at=${issuedAt}\nnot_after=${notAfter}\ndigest=${b64(digest)}\n`);
}

/** A signed object in the binary form. `digest` defaults to the body's (full) hash; a delta or
 *  freshness object must be given the digest of the state it describes. */
export async function objectBytes(key, { kind, serial, issuedAt, notAfter, body = new Uint8Array(0), digest, signWith = key, epoch = key.epoch }) {
  digest ??= await sha256(body);
  const signature = await sign(signWith, statementBytes({ epoch, serial, issuedAt, notAfter, digest }));
  return new Out().raw(enc('AUBUNDL1')).int(1, { full: 1, delta: 2, freshness: 3 }[kind]).int(8, epoch).int(8, serial)
    .int(8, issuedAt, true).int(8, notAfter, true).raw(digest).raw(signature).raw(body).bytes();
}

/** The JSON twin of a binary object, read back from its bytes by hand (big-endian fields). */
export function jsonTwin(bytes) {
  const d = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const u = (n) => { const v = n === 1 ? d.getUint8(at) : n === 2 ? d.getUint16(at) : n === 4 ? d.getUint32(at) : d.getBigUint64(at); at += n; return v; };
  const i64 = () => { const v = d.getBigInt64(at); at += 8; return v; };
  const take = (n) => { at += n; return bytes.subarray(at - n, at); };
  const num = (v) => { if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('too big for JSON'); return Number(v); };
  take(8);
  const kind = [null, 'full', 'delta', 'freshness'][u(1)];
  const o = { format: 'authority-bundle-v1', kind, epoch: num(u(8)), serial: num(u(8)), issued_at: num(i64()), not_after: num(i64()), digest: b64(take(32)), signature: b64(take(64)) };
  const epochs = () => Array.from({ length: u(4) }, () => ({ epoch: num(u(8)), state: [null, 'active', 'verify_only', 'retired'][u(1)] }));
  const prefix = () => new TextDecoder().decode(take(u(2)));
  const rules = () => Array.from({ length: u(4) }, () => { const p = prefix(), c = i64(); return { prefix: p, issued_before: c === STANDING ? null : num(c) }; });
  const ids = () => Array.from({ length: u(4) }, () => b64(take(16)));
  if (kind === 'full') Object.assign(o, { epochs: epochs(), rules: rules(), ids: ids() });
  if (kind === 'delta') {
    o.base_serial = num(u(8));
    Object.assign(o, { epochs: epochs(), removed_rules: Array.from({ length: u(4) }, prefix), set_rules: rules(), removed_ids: ids(), added_ids: ids() });
  }
  return o;
}

/** Deterministic 16-byte ids: id(n) has n in its last 4 bytes and a fixed pattern before. */
export function id(n, lead = 0x42) {
  const bytes = new Uint8Array(16).fill(lead);
  new DataView(bytes.buffer).setUint32(12, n);
  return bytes;
}

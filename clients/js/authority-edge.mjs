// authority-edge.mjs: the JavaScript edge verifier of authority's signed links.
//
// Implements docs/link-format.md (steps 1–7 of §6: what needs only the link, the request, the
// clock and the public keys; the link in the query or in a path-carried token, §11; the origins
// of au_o, signed and exposed for CORS, §13) and docs/revocation-bundle.md (accepting the signed
// revocation bundle, §6, and the link check with it, §7). One ES module, no dependencies:
// WebCrypto (Ed25519, SHA-256), TextEncoder/TextDecoder, DataView, typed arrays and BigInt only,
// so it runs unchanged in Node ≥ 20, Deno, Cloudflare Workers and browsers.
//
// 64-bit values (epochs, serials, times, cutoffs) are BigInts; `now` may be a Number (fractions
// are dropped) or a BigInt, and defaults to the clock.

const textEncoder = new TextEncoder();
const strictUTF8 = new TextDecoder('utf-8', { fatal: true });
const subtle = globalThis.crypto.subtle;

// ---- small helpers ------------------------------------------------------------------------

/** `malformed` (docs/link-format.md §1–§4), with a message for people. */
export class MalformedLink extends Error {
  name = 'MalformedLink';
  reason = 'malformed';
}
const malformed = (message) => new MalformedLink(message);

function isUTF8(bytes) {
  try { strictUTF8.decode(bytes); return true; } catch { return false; }
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Unsigned bytewise order of a[ao, ao+al) and b[bo, bo+bl): a prefix sorts first. */
function compareBytes(a, ao, al, b, bo, bl) {
  const n = Math.min(al, bl);
  for (let i = 0; i < n; i++) {
    const d = a[ao + i] - b[bo + i];
    if (d !== 0) return d;
  }
  return al - bl;
}

function toSeconds(now) {
  if (now === undefined) now = Date.now() / 1000;
  if (typeof now === 'bigint') return now;
  if (!Number.isFinite(now)) throw new TypeError('now must be Unix seconds');
  return BigInt(Math.floor(now));
}

// ---- base64url (RFC 4648 §5, no padding) --------------------------------------------------

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_VALUE[B64.charCodeAt(i)] = i;

/** Decodes canonical base64url: no padding, no other alphabet, and the unused low bits of the
 *  last character zero (22 or 86 characters leave 4 such bits, so those texts end in A, Q, g or
 *  w; 43 characters leave 2). Returns null for anything else, or when `size` bytes do not come
 *  out. */
export function base64urlDecode(text, size) {
  if (typeof text !== 'string' || text.length % 4 === 1) return null;
  const out = new Uint8Array((text.length * 3) >> 2);
  let acc = 0, bits = 0, j = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? B64_VALUE[c] : -1;
    if (v < 0) return null;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) { bits -= 8; out[j++] = acc >> bits; }
    acc &= (1 << bits) - 1;
  }
  if (acc !== 0) return null; // non-canonical: a bit set below the last whole byte
  return size === undefined || out.length === size ? out : null;
}

export function base64urlEncode(bytes) {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

// ---- §3 canonical path, §4 query: percent-encoding ---------------------------------------

const UNRESERVED = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') {
  UNRESERVED[c.charCodeAt(0)] = 1;
}
const HEX = '0123456789ABCDEF';

/** ENC: unreserved bytes as themselves, every other byte as %XX with uppercase hex. */
function percentEncode(bytes) {
  let out = '';
  for (const b of bytes) out += UNRESERVED[b] ? String.fromCharCode(b) : '%' + HEX[b >> 4] + HEX[b & 15];
  return out;
}

const HEX_VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) HEX_VALUE[HEX.charCodeAt(i)] = HEX_VALUE[HEX.toLowerCase().charCodeAt(i)] = i;

/** %XX (either case) is a byte, any other `%` is malformed; with form rules `+` is a space.
 *  `escapedSeparator` tells whether an escape stood for `/` or `\` (refused in a path). */
function percentDecode(raw, plusIsSpace) {
  const out = new Uint8Array(raw.length);
  let n = 0, escapedSeparator = false;
  for (let i = 0; i < raw.length; i++) {
    let b = raw[i];
    if (b === 0x25) {
      const hi = HEX_VALUE[raw[i + 1] ?? 0], lo = HEX_VALUE[raw[i + 2] ?? 0];
      if (hi < 0 || lo < 0) throw malformed('a % not followed by two hexadecimal digits');
      b = (hi << 4) | lo;
      if (b === 0x2f || b === 0x5c) escapedSeparator = true;
      i += 2;
    } else if (b === 0x2b && plusIsSpace) {
      b = 0x20;
    }
    out[n++] = b;
  }
  return { bytes: out.subarray(0, n), escapedSeparator };
}

const MAX_SEGMENTS = 128;
const MAX_PATH_BYTES = 4096;

/** docs/link-format.md §3: the canonical form of a raw path (bytes or an ASCII/UTF-8 string),
 *  or MalformedLink. */
export function canonicalPath(raw) {
  if (typeof raw === 'string') raw = textEncoder.encode(raw);
  if (raw[0] !== 0x2f) throw malformed('the path does not start with /');
  if (raw.includes(0x5c)) throw malformed('a backslash in the path');
  const { bytes, escapedSeparator } = percentDecode(raw, false);
  if (escapedSeparator) throw malformed('%2F or %5C in the path');
  for (const b of bytes) if (b < 0x20 || b === 0x7f) throw malformed('a control byte in the path');
  if (!isUTF8(bytes)) throw malformed('the path is not UTF-8');
  const segments = [];
  let start = 1;
  for (let i = 1; i <= bytes.length; i++) {
    if (i < bytes.length && bytes[i] !== 0x2f) continue;
    const seg = bytes.subarray(start, i);
    // `.` and `..` are refused also when written %2E (they are compared after decoding)
    if ((seg.length === 1 && seg[0] === 0x2e) || (seg.length === 2 && seg[0] === 0x2e && seg[1] === 0x2e)) {
      throw malformed('a dot segment in the path');
    }
    if (seg.length === 0 && i !== bytes.length) throw malformed('an empty segment in the path');
    segments.push(percentEncode(seg));
    if (segments.length > MAX_SEGMENTS) throw malformed('more than 128 segments');
    start = i + 1;
  }
  const path = '/' + segments.join('/');
  if (path.length > MAX_PATH_BYTES) throw malformed('a canonical path longer than 4096 bytes');
  return path;
}

// ---- §5 addresses -------------------------------------------------------------------------

const IPV4 = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

/** Four decimal octets 0–255 without leading zeros, as a BigInt; null otherwise. */
function parseIPv4(text) {
  const octets = IPV4.exec(text)?.slice(1).map(Number);
  if (!octets || octets.some((o) => o > 255)) return null;
  return octets.reduce((value, o) => (value << 8n) | BigInt(o), 0n);
}

/** Any valid IPv6 text (hex in either case, `::`, and with `embedded` a trailing dotted IPv4),
 *  as a BigInt; null otherwise (also for a zone id such as `fe80::1%eth0`). */
function parseIPv6(text, embedded) {
  const v4 = embedded && /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text); // ::ffff:192.0.2.1 → ::ffff:c000:201
  if (v4) {
    const value = parseIPv4(v4[2]);
    if (value === null) return null;
    text = v4[1] + (value >> 16n).toString(16) + ':' + (value & 0xffffn).toString(16);
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const [head, tail = []] = halves.map((h) => (h === '' ? [] : h.split(':')));
  // without `::` exactly 8 groups; `::` stands for at least one zero group
  if (halves.length === 1 ? head.length !== 8 : head.length + tail.length > 7) return null;
  const groups = [...head, ...new Array(8 - head.length - tail.length).fill('0'), ...tail];
  if (!groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  return groups.reduce((value, g) => (value << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** RFC 5952 text: lowercase, no leading zeros, the first longest run (≥ 2) of zero groups as
 *  `::`. Never an embedded-IPv4 form. */
function formatIPv6(value) {
  const groups = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(16 * i)) & 0xffffn));
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return hex.slice(0, best).join(':') + '::' + hex.slice(best + bestLen).join(':');
}

/** An address inside ::ffff:0:0/96 (IPv4-mapped). */
const isMapped = (v6) => v6 >> 32n === 0xffffn;

/** The canonical IPv6 text of §5, or null: only lowercase hex and `:`, RFC 5952 spelling, and
 *  never an IPv4-mapped address however written (bind the IPv4 network instead). */
function parseCanonicalIPv6(text) {
  if (!/^[0-9a-f:]+$/.test(text)) return null;
  const value = parseIPv6(text, false);
  if (value === null || isMapped(value) || formatIPv6(value) !== text) return null;
  return value;
}

/** `au_ip`: canonical ADDRESS/LENGTH with the host bits zero. */
function parseCIDR(text) {
  const m = /^([^/]+)\/(0|[1-9]\d{0,2})$/.exec(text);
  if (!m) throw malformed('au_ip is not ADDRESS/LENGTH');
  const length = Number(m[2]);
  let version = 4, value = parseIPv4(m[1]);
  if (value === null) {
    version = 6;
    value = parseCanonicalIPv6(m[1]);
    if (value === null) throw malformed('au_ip is not canonical IPv4 or IPv6 text');
  }
  const bits = version === 4 ? 32 : 128;
  if (length > bits) throw malformed('au_ip length out of range');
  if (value & ((1n << BigInt(bits - length)) - 1n)) throw malformed('au_ip has host bits set');
  return { version, value, length, bits };
}

/** The client address in any valid text form; an IPv4-mapped IPv6 address counts as its IPv4
 *  address. null when missing or unparsable (then it matches no network: fail closed). */
function parseClientAddress(text) {
  if (typeof text !== 'string') return null;
  const v4 = parseIPv4(text);
  if (v4 !== null) return { version: 4, value: v4 };
  const v6 = parseIPv6(text, true);
  if (v6 === null) return null;
  return isMapped(v6) ? { version: 4, value: v6 & 0xffffffffn } : { version: 6, value: v6 };
}

function inNetwork(client, net) {
  if (client === null || client.version !== net.version) return false; // v4 never matches v6
  const shift = BigInt(net.bits - net.length);
  return client.value >> shift === net.value >> shift;
}

// ---- §1 reserved parameters ---------------------------------------------------------------

const RESERVED = new Set(['au_v', 'au_k', 'au_id', 'au_iat', 'au_nbf', 'au_exp', 'au_m', 'au_pfx',
  'au_h', 'au_ip', 'au_f', 'au_o', 'au_sig']);
const REQUIRED = ['au_v', 'au_k', 'au_id', 'au_iat', 'au_exp', 'au_m', 'au_sig'];
const METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'];
const FLAGS = ['u', 'p', 'c', 'up', 'uc', 'pc', 'upc']; // each at most once, in the order u, p, c
const DECIMAL = /^(0|[1-9]\d{0,17})$/;
const HOST = /^(\[[^\]]*\]|[a-z0-9-]+(?:\.[a-z0-9-]+)*)(?::([1-9]\d{0,4}))?$/;

function decimal(text, name) {
  if (!DECIMAL.test(text)) throw malformed(`${name} is not a decimal number`);
  return BigInt(text);
}

function checkMethods(text) {
  let last = -1;
  for (const name of text.split(',')) {
    const index = METHODS.indexOf(name);
    if (index <= last) throw malformed('au_m is not in canonical form');
    last = index;
  }
  return text.split(',');
}

function checkHost(text) {
  const m = HOST.exec(text);
  if (!m) throw malformed('au_h is not a lowercase host[:port]');
  if (m[2] !== undefined && Number(m[2]) > 65535) throw malformed('au_h port out of range');
  const name = m[1];
  if (name.startsWith('[') && parseCanonicalIPv6(name.slice(1, -1)) === null) {
    throw malformed('au_h IPv6 address is not canonical');
  }
  if (/^[0-9.]+$/.test(name) && parseIPv4(name) === null) {
    throw malformed('au_h is all digits and dots but not an IPv4 address');
  }
  return { name, port: m[2] ?? null };
}

const MAX_ORIGINS = 8;

/** `au_o` (§1 "Origins", §13): 1 to 8 origins joined by `,`, each `http://` or `https://` and a
 *  host of the form of `au_h` (lowercase, optional port, no path, no trailing `/`), in strictly
 *  ascending byte order (so none twice). Returns the list. */
function checkOrigins(text) {
  const list = text.split(',');
  if (list.length > MAX_ORIGINS) throw malformed('au_o lists more than 8 origins');
  list.forEach((origin, i) => {
    const scheme = /^https?:\/\//.exec(origin);
    if (!scheme) throw malformed('au_o: an origin does not start with http:// or https://');
    try { checkHost(origin.slice(scheme[0].length)); } catch { throw malformed('au_o: an origin is not a lowercase scheme://host[:port]'); }
    // validated origins are ASCII, so comparing code units is comparing bytes
    if (i > 0 && !(list[i - 1] < origin)) throw malformed('au_o is not in strictly ascending order');
  });
  return list;
}

// ---- §2 the target, §4 the query, the signed message --------------------------------------

// A JavaScript string may hold lone surrogates: they have no UTF-8 form, so the target is malformed.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function splitTarget(target) {
  if (typeof target !== 'string' || LONE_SURROGATE.test(target)) throw malformed('the target is not UTF-8 text');
  if (/[\u0000-\u0020\u007f#]/.test(target)) throw malformed('a fragment, a raw space or a control character');
  let authority = null, rest = target;
  const scheme = /^https?:\/\//i.exec(target); // the scheme is not signed: http and https alike
  if (scheme) {
    rest = target.slice(scheme[0].length);
    const end = rest.search(/[/?]/);
    authority = end < 0 ? rest : rest.slice(0, end);
    rest = end < 0 ? '' : rest.slice(end);
    if (authority === '' || authority.includes('@')) throw malformed('an empty authority or userinfo');
  } else if (!target.startsWith('/')) {
    throw malformed('neither an http(s) URL nor an origin-form target');
  }
  const q = rest.indexOf('?');
  return { authority, path: q < 0 ? rest : rest.slice(0, q), query: q < 0 ? null : rest.slice(q + 1) };
}

/** A reserved piece: the raw name must be listed and written without encoding (au%5Fk is
 *  malformed), and appear once; the value is kept verbatim (no percent- or plus-decoding). */
function setReserved(reserved, rawName, rawValue) {
  if (!RESERVED.has(rawName)) throw malformed(`unknown or encoded reserved name ${rawName}`);
  if (reserved.has(rawName)) throw malformed(`${rawName} appears twice`);
  reserved.set(rawName, rawValue);
}

function parseQuery(query) {
  if (query === null) throw malformed('no query, so no reserved parameters');
  const reserved = new Map(), app = [];
  for (const piece of query.split('&')) {
    if (piece === '') throw malformed('an empty query piece');
    const eq = piece.indexOf('=');
    const rawName = eq < 0 ? piece : piece.slice(0, eq);
    const rawValue = eq < 0 ? '' : piece.slice(eq + 1);
    const name = percentDecode(textEncoder.encode(rawName), true).bytes;
    const value = percentDecode(textEncoder.encode(rawValue), true).bytes;
    if (name.length === 0) throw malformed('a parameter without a name');
    if (!isUTF8(name) || !isUTF8(value) || name.includes(0) || value.includes(0)) {
      throw malformed('a parameter that is not UTF-8 or holds NUL');
    }
    if (name[0] === 0x61 && name[1] === 0x75 && name[2] === 0x5f) { // decoded name starts `au_`
      setReserved(reserved, rawName, rawValue);
    } else {
      app.push(percentEncode(name) + '=' + percentEncode(value));
    }
  }
  return { reserved, appQuery: app.join('&') };
}

const PATH_TOKEN = '/~au/';
const MAX_TOKEN = 4096;

/** §11: `/~au/<token>/rest` → the token's reserved parameters and the raw request path `/rest`.
 *  The token is 1 to 4096 canonical base64url characters of `au_…=…` pieces joined by `&`. */
function parsePathToken(rawPath) {
  const slash = rawPath.indexOf('/', PATH_TOKEN.length);
  if (slash < 0) throw malformed('the path-carried token is not followed by /');
  const token = rawPath.slice(PATH_TOKEN.length, slash);
  const bytes = token.length >= 1 && token.length <= MAX_TOKEN ? base64urlDecode(token) : null;
  if (!bytes) throw malformed('the path-carried token is not 1 to 4096 canonical base64url characters');
  let text;
  try { text = strictUTF8.decode(bytes); } catch { throw malformed('the path-carried token is not UTF-8'); }
  const reserved = new Map();
  for (const piece of text.split('&')) {
    const eq = piece.indexOf('=');
    const rawName = eq < 0 ? piece : piece.slice(0, eq);
    if (!rawName.startsWith('au_')) throw malformed('the path-carried token holds a piece that is not a reserved parameter');
    setReserved(reserved, rawName, eq < 0 ? '' : piece.slice(eq + 1));
  }
  return { reserved, requestPath: rawPath.slice(slash) };
}

/**
 * Step 1 of docs/link-format.md §6: parses a request target (an absolute http(s) URL, or an
 * origin-form `/path?query` with `host` the forwarded Host) into the link it carries, or throws
 * MalformedLink. The result holds the signed message (`message`, 13 lines, 14 with `au_o`) and
 * `signature`; `origins` is the list of `au_o` (§13), or null.
 * A target whose path starts with `/~au/` carries the link in a path token (§11): `carrier` is
 * then `path` (else `query`), and `path` is the canonical request path after the token.
 */
export function parseLink(target, host = null) {
  const { authority, path: rawPath, query } = splitTarget(target);
  const token = rawPath.startsWith(PATH_TOKEN) ? parsePathToken(rawPath) : null;
  const path = canonicalPath(textEncoder.encode(token ? token.requestPath : rawPath));
  // §11: `%7Eau` is `~au` to a proxy, which would strip the segment and serve what follows it
  if (path === '/~au' || path.startsWith(PATH_TOKEN)) throw malformed('the path is under /~au/ (an encoded path-carried token marker)');
  let r, appQuery = '';
  if (token) {
    r = token.reserved;
    if (query !== null) { // the target's own query holds only the application's parameters
      const outer = parseQuery(query);
      if (outer.reserved.size > 0) throw malformed('a reserved parameter in the query of a path-carried token');
      appQuery = outer.appQuery;
    }
  } else {
    ({ reserved: r, appQuery } = parseQuery(query));
  }
  for (const name of REQUIRED) if (!r.has(name)) throw malformed(`${name} is missing`);
  if (r.get('au_v') !== '1') throw malformed('au_v is not 1');
  const epoch = decimal(r.get('au_k'), 'au_k');
  if (epoch === 0n) throw malformed('au_k is 0');
  const id = base64urlDecode(r.get('au_id'), 16); // 16 bytes: exactly 22 characters
  if (!id) throw malformed('au_id is not 22 canonical base64url characters');
  const signature = base64urlDecode(r.get('au_sig'), 64); // 64 bytes: exactly 86 characters
  if (!signature) throw malformed('au_sig is not 86 canonical base64url characters');
  const issuedAt = decimal(r.get('au_iat'), 'au_iat');
  const expiresAt = decimal(r.get('au_exp'), 'au_exp');
  const notBefore = r.has('au_nbf') ? decimal(r.get('au_nbf'), 'au_nbf') : null;
  const methods = checkMethods(r.get('au_m'));
  const prefix = r.get('au_pfx') ?? null;
  if (prefix !== null && canonicalPath(prefix) !== prefix) throw malformed('au_pfx is not a canonical path');
  const boundHost = r.has('au_h') ? r.get('au_h') : null;
  const boundPort = boundHost === null ? null : checkHost(boundHost).port;
  const network = r.has('au_ip') ? parseCIDR(r.get('au_ip')) : null;
  const flags = r.get('au_f') ?? '';
  if (r.has('au_f') && !FLAGS.includes(flags)) throw malformed('au_f is not a canonical flag list (u, p, c in that order)');
  if (flags.includes('c') && prefix === null) throw malformed('the flag c (grant cookie) needs a prefix link (au_pfx)');
  if (token && prefix === null) throw malformed('a path-carried token must hold a prefix link (au_pfx)');
  const origins = r.has('au_o') ? checkOrigins(r.get('au_o')) : null;
  const lines = [
    'authority-link-v1',
    'epoch=' + r.get('au_k'),
    'id=' + r.get('au_id'),
    'issued_at=' + r.get('au_iat'),
    'not_before=' + (r.get('au_nbf') ?? ''),
    'expires_at=' + r.get('au_exp'),
    'methods=' + r.get('au_m'),
    'scope=' + (prefix === null ? 'exact' : 'prefix'),
    'host=' + (boundHost ?? ''),
    'ip=' + (r.get('au_ip') ?? ''),
    'flags=' + flags,
    'path=' + (prefix ?? path), // a prefix link signs its prefix and no query
    'query=' + (prefix === null ? appQuery : ''),
  ];
  if (origins !== null) lines.push('origins=' + r.get('au_o')); // the fourteenth line, only with au_o
  return {
    epoch, kid: r.get('au_k'), id, idText: r.get('au_id'), issuedAt, notBefore, expiresAt, methods,
    prefix, boundHost, boundPort, ip: r.get('au_ip') ?? null, network, flags, origins, path, query: appQuery,
    carrier: token ? 'path' : 'query',
    requestHost: authority ?? host ?? null, // an absolute URL's own authority wins
    message: textEncoder.encode(lines.map((line) => line + '\n').join('')),
    signature,
  };
}

// ---- §6 steps 2–7 -------------------------------------------------------------------------

/** Lowercases ASCII letters only. Never toLowerCase(): Unicode folding maps U+212A KELVIN SIGN
 *  to an ASCII `k`, and `\u212Aiosk.example` must not pass for `au_h=kiosk.example` (a proxy
 *  routes it elsewhere). */
const asciiLower = (text) => text.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));

/** Hosts compare as exact code units: `au_h` is ASCII, so a request host with any non-ASCII
 *  character never matches. `au_h` with a port needs the request's host:port to be the same (no
 *  default port assumed); without one, the request's port (after the last `:`, past the `]` of
 *  a bracketed IPv6 host) is ignored. No host never matches. */
function hostMatches(link) {
  if (typeof link.requestHost !== 'string') return false;
  const host = asciiLower(link.requestHost);
  if (link.boundPort !== null) return host === link.boundHost;
  const colon = host.lastIndexOf(':');
  return (colon > host.lastIndexOf(']') ? host.slice(0, colon) : host) === link.boundHost;
}

/** §13: the origin of `link.origins` that a request's `Origin` header names (ASCII case folded,
 *  then compared as code units: a non-ASCII `Origin` never matches), or null. For the proxy to
 *  put in `Access-Control-Allow-Origin` once the link passed; it never changes the verdict. */
export function allowedOrigin(link, origin) {
  if (!link || link.origins === null || link.origins === undefined || typeof origin !== 'string') return null;
  const folded = asciiLower(origin);
  return link.origins.find((o) => o === folded) ?? null;
}

/** docs/link-format.md §6 "Prefix match": X is under P when X == P, or P ends with `/` and X
 *  starts with P, or X starts with P followed by `/`. `/videos/abc` covers `/videos/abc/x` but
 *  not `/videos/abcd`. Byte (code unit) comparison. */
export function underPrefix(path, prefix) {
  return path === prefix || (prefix.endsWith('/') && path.startsWith(prefix)) || path.startsWith(prefix + '/');
}

/** WeakMap jwk → Promise<CryptoKey>: each key imported once. */
const importedKeys = new WeakMap();

function ed25519Verify(jwk, signature, message) {
  let key = importedKeys.get(jwk);
  if (!key) {
    key = subtle.importKey('raw', base64urlDecode(jwk.x, 32), { name: 'Ed25519' }, false, ['verify']);
    importedKeys.set(jwk, key);
  }
  return key.then((k) => subtle.verify({ name: 'Ed25519' }, k, signature, message)).catch(() => false);
}

/** The usable JWK of `kid` (the epoch as a decimal string) in a JWK set, or null. Entries that
 *  are not Ed25519 OKP keys with a 32-byte `x` count as absent. */
function findKey(jwks, kid) {
  const keys = jwks && Array.isArray(jwks.keys) ? jwks.keys : [];
  for (const k of keys) {
    if (k && k.kid === kid && k.kty === 'OKP' && k.crv === 'Ed25519' && base64urlDecode(k.x, 32)) return k;
  }
  return null;
}

/** Steps 1–7; `resolveKey(link)` gives {jwk, retired} or null. */
async function checkSteps(request, now, leeway, resolveKey) {
  let link;
  try {
    link = parseLink(request.url, request.host ?? null);
  } catch (error) {
    if (error instanceof MalformedLink) return { reason: 'malformed', link: null, detail: error.message };
    throw error;
  }
  const done = (reason) => ({ reason, link });
  const key = resolveKey(link);
  if (!key) return done('unknown_key');
  if (key.retired) return done('retired_key');
  if (!(await ed25519Verify(key.jwk, link.signature, link.message))) return done('bad_signature');
  const t = toSeconds(now);
  if (t >= link.expiresAt) return done('expired'); // exclusive, no grace; tested before nbf
  if (link.notBefore !== null && t < link.notBefore - BigInt(leeway)) return done('not_yet_valid');
  if (!link.methods.includes(request.method)) return done('method_not_allowed'); // exact, uppercase
  if (link.boundHost !== null && !hostMatches(link)) return done('resource_mismatch');
  if (link.prefix !== null && !underPrefix(link.path, link.prefix)) return done('resource_mismatch');
  if (link.network !== null && !inNetwork(parseClientAddress(request.clientIp), link.network)) return done('ip_mismatch');
  return done('ok');
}

/**
 * Steps 1–7 of docs/link-format.md §6, offline. `request` is {url, host, method, clientIp}
 * (`host`: the forwarded Host of an origin-form url; `clientIp` may be null). `keys` is a JWK
 * set ({keys: [{kty, crv, x, kid, status}]}); a JWK with status `retired` gives `retired_key`.
 * Resolves to {reason, link, detail}: reason is `ok`, `malformed`, `unknown_key`, `retired_key`,
 * `bad_signature`, `expired`, `not_yet_valid`, `method_not_allowed`, `resource_mismatch` or
 * `ip_mismatch`; link is the parsed link (null when malformed). `u`/`p` links are `ok` here: the
 * daemon applies steps 9–10 (EdgeVerifier.check answers `needs_daemon`).
 */
export function checkLink(request, { keys, now, notBeforeLeeway = 30 } = {}) {
  return checkSteps(request, now, notBeforeLeeway, (link) => {
    const jwk = findKey(keys, link.kid);
    return jwk && { jwk, retired: jwk.status === 'retired' };
  });
}

// ---- docs/revocation-bundle.md: the binary form (§2.1, §3, §4) ----------------------------

const MAGIC = textEncoder.encode('AUBUNDL1');
const MAX_63 = (1n << 63n) - 1n; // also the cutoff of a standing prefix block
const KINDS = [null, 'full', 'delta', 'freshness'];
const STATES = [null, 'active', 'verify_only', 'retired'];
const ACTIVE = 1, RETIRED = 3;

/** A refusal of §6: `code` is one of bad_format, unknown_key, bad_signature, inactive_signer,
 *  rolled_back, base_mismatch, digest_mismatch, stale. */
export class BundleRefusal extends Error {
  name = 'BundleRefusal';
  constructor(code, message) { super(`${code}: ${message}`); this.code = code; }
}
const badFormat = (message) => new BundleRefusal('bad_format', message);
const fail = (message) => { throw badFormat(message); };

/** Reads big-endian fields, refusing anything short. */
class Reader {
  constructor(bytes) { this.bytes = bytes; this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength); this.at = 0; }
  take(n) {
    if (this.bytes.length - this.at < n) throw badFormat(`truncated at byte ${this.at}`);
    this.at += n;
    return this.at - n;
  }
  u8() { return this.bytes[this.take(1)]; }
  u16() { return this.view.getUint16(this.take(2)); }
  u64() { return this.view.getBigUint64(this.take(8)); }
  i64() { return this.view.getBigInt64(this.take(8)); }
  /** A count of items of at least `size` bytes each that fit in what is left. */
  count(size) {
    const n = this.view.getUint32(this.take(4));
    if (n > (this.bytes.length - this.at) / size) throw badFormat(`a count of ${n} is longer than the object`);
    return n;
  }
}

function readEpochs(r) {
  const n = r.count(9), offset = r.at;
  let last = 0n, active = 0;
  for (let i = 0; i < n; i++) {
    const epoch = r.u64(), state = r.u8();
    if (epoch < 1n || epoch > MAX_63) throw badFormat(`epoch ${epoch} out of range`);
    if (epoch <= last) throw badFormat('epochs out of order or repeated');
    if (!STATES[state]) throw badFormat(`epoch ${epoch} has state ${state}`);
    if (state === ACTIVE) active++;
    last = epoch;
  }
  if (active !== 1) throw badFormat(`${active} active epochs, not exactly one`);
  return { bytes: r.bytes, view: r.view, offset, n };
}

/** Rules (or, without cutoffs, a delta's removed prefixes): sorted by prefix bytes, unique, each
 *  prefix a canonical path. `at[i]` is the offset of rule i (its 2-byte length) in `bytes`. */
function readRules(r, withCutoff) {
  const n = r.count(withCutoff ? 11 : 3), at = new Uint32Array(n), b = r.bytes;
  for (let i = 0; i < n; i++) {
    at[i] = r.at;
    const length = r.u16();
    if (length < 1 || length > MAX_PATH_BYTES) throw badFormat(`a prefix of ${length} bytes`);
    const start = r.take(length);
    if (i > 0 && compareBytes(b, at[i - 1] + 2, b[at[i - 1]] << 8 | b[at[i - 1] + 1], b, start, length) >= 0) { // sorted, unique
      throw badFormat('rules out of order or repeated');
    }
    checkPrefix(b.subarray(start, start + length));
    if (withCutoff) r.i64();
  }
  return { bytes: b, view: r.view, at, n, withCutoff };
}

/** docs/revocation-bundle.md §3: a prefix is a canonical path (canonicalising it changes nothing). */
function checkPrefix(bytes) {
  const text = String.fromCharCode(...bytes); // a canonical path is ASCII: anything else differs
  let canonical = null;
  try { canonical = canonicalPath(bytes); } catch { /* not a path */ }
  if (canonical !== text) throw badFormat(`the prefix ${JSON.stringify(text)} is not a canonical path`);
}

function readIds(r) {
  const n = r.count(16), offset = r.take(16 * n), b = r.bytes;
  for (let i = 1; i < n; i++) {
    const o = offset + 16 * i;
    if (compareBytes(b, o - 16, 16, b, o, 16) >= 0) throw badFormat('ids out of order or repeated');
  }
  return { bytes: b, offset, n };
}

function readContent(r) {
  const start = r.at;
  const epochs = readEpochs(r), rules = readRules(r, true), ids = readIds(r);
  return { bytes: r.bytes.subarray(start, r.at), epochs, rules, ids };
}

/** Reads the binary form, checking every rule of §2–§4 (not the signature). The bytes are
 *  copied once; the content's lists are read in place from the copy. */
function parseBinary(input) {
  const r = new Reader(new Uint8Array(input)); // a copy: the caller may reuse its buffer
  if (!sameBytes(r.bytes.subarray(0, 8), MAGIC)) throw badFormat('not a bundle (magic)');
  r.take(8);
  const kind = KINDS[r.u8()];
  const o = { kind, epoch: r.u64(), serial: r.u64(), issuedAt: r.i64(), notAfter: r.i64() };
  o.digest = r.bytes.subarray(r.take(32), r.at);
  o.signature = r.bytes.subarray(r.take(64), r.at);
  if (!kind) throw badFormat(`kind ${r.bytes[8]}`);
  if (o.epoch < 1n || o.epoch > MAX_63) throw badFormat(`epoch ${o.epoch} out of range`);
  if (o.serial < 1n || o.serial > MAX_63) throw badFormat(`serial ${o.serial} out of range`);
  if (o.issuedAt < 0n || o.notAfter < 0n) throw badFormat('a negative time');
  if (kind === 'full') {
    o.content = readContent(r);
    o.epochs = o.content.epochs;
  } else if (kind === 'delta') {
    o.baseSerial = r.u64();
    if (o.baseSerial > MAX_63) throw badFormat('base_serial out of range');
    Object.assign(o, { epochs: readEpochs(r), removedRules: readRules(r, false), setRules: readRules(r, true),
      removedIds: readIds(r), addedIds: readIds(r) }); // read in this order
  }
  if (r.at !== r.bytes.length) throw badFormat(`${r.bytes.length - r.at} bytes after the body`);
  return o;
}

/** The state of `epoch` (1 active, 2 verify_only, 3 retired) in an epoch list, or 0 when
 *  absent: a binary search over the 9-byte entries in place. */
function epochState(list, epoch) {
  let low = 0, high = list.n;
  while (low < high) {
    const mid = (low + high) >> 1, at = list.offset + 9 * mid, e = list.view.getBigUint64(at);
    if (e === epoch) return list.bytes[at + 8];
    if (e < epoch) low = mid + 1; else high = mid;
  }
  return 0;
}

/** Whether a sorted id list holds the 16 bytes `id`: binary search in place, about log2(N)
 *  comparisons of 16 bytes, no allocation. */
function hasId(list, id) {
  let low = 0, high = list.n;
  while (low < high) {
    const mid = (low + high) >> 1, d = compareBytes(list.bytes, list.offset + 16 * mid, 16, id, 0, 16);
    if (d === 0) return true;
    if (d < 0) low = mid + 1; else high = mid;
  }
  return false;
}

const ruleLength = (rules, i) => rules.bytes[rules.at[i]] << 8 | rules.bytes[rules.at[i] + 1];

/** The cutoff of the rule whose prefix is exactly `key[0, length)`, or null. */
function findRule(rules, key, length) {
  let low = 0, high = rules.n;
  while (low < high) {
    const mid = (low + high) >> 1, at = rules.at[mid], len = ruleLength(rules, mid);
    const d = compareBytes(rules.bytes, at + 2, len, key, 0, length);
    if (d === 0) return rules.view.getBigInt64(at + 2 + len);
    if (d < 0) low = mid + 1; else high = mid;
  }
  return null;
}

/** §7 step 8: a rule revokes a link when its prefix covers the request's canonical path and
 *  au_iat is below its cutoff. The prefixes that can cover a path X are X itself, and for each
 *  `/` in X the part up to and including it (a prefix ending in `/`) and the part before it (a
 *  prefix followed by `/`): at most 2 × 128 + 1 binary searches, whatever the number of rules. */
function ruleRevokes(rules, path, issuedAt) {
  if (rules.n === 0) return false;
  const key = textEncoder.encode(path); // a canonical path is ASCII
  const revokes = (length) => {
    const cutoff = findRule(rules, key, length);
    return cutoff !== null && issuedAt < cutoff;
  };
  if (revokes(key.length)) return true;
  for (let i = 0; i < key.length; i++) {
    if (key[i] !== 0x2f) continue;
    if (revokes(i + 1)) return true;
    if (i > 0 && revokes(i)) return true;
  }
  return false;
}

// ---- writing content: the JSON twin's digest (§2.2) and deltas (§4) -----------------------

class Writer {
  constructor(size = 256) { this.bytes = new Uint8Array(size); this.length = 0; }
  reserve(n) {
    if (this.length + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(2 * this.bytes.length, this.length + n));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
  put(bytes) { this.reserve(bytes.length); this.bytes.set(bytes, this.length); this.length += bytes.length; }
  u8(v) { this.reserve(1); this.bytes[this.length++] = v; }
  fixed(n, set) { this.reserve(n); set(new DataView(this.bytes.buffer), this.length); this.length += n; }
  u16(v) { this.fixed(2, (d, o) => d.setUint16(o, v)); }
  u32(v) { this.fixed(4, (d, o) => d.setUint32(o, v)); }
  u64(v) { this.fixed(8, (d, o) => d.setBigUint64(o, BigInt.asUintN(64, v))); }
  i64(v) { this.fixed(8, (d, o) => d.setBigInt64(o, BigInt.asIntN(64, v))); }
  patchU32(at, v) { new DataView(this.bytes.buffer).setUint32(at, v); }
  done() { return this.bytes.subarray(0, this.length); }
}

/** Writes one sorted list of §4 step 3, count first: the held entries without those in
 *  `removed`, merged with `set` (added, or replacing the held entry with the same key: set comes
 *  after remove, so it wins). Each list is {n, key(i) → [bytes, start, length], entry(i)}. */
function mergeList(w, held, removed, set) {
  const countAt = w.length;
  w.u32(0);
  const cmp = (a, ai, b, bi) => {
    const [x, xo, xl] = a.key(ai), [y, yo, yl] = b.key(bi);
    return compareBytes(x, xo, xl, y, yo, yl);
  };
  let i = 0, j = 0, k = 0, count = 0;
  while (i < held.n || k < set.n) {
    const d = i >= held.n ? 1 : k >= set.n ? -1 : cmp(held, i, set, k);
    if (d >= 0) {
      w.put(set.entry(k++));
      if (d === 0) i++;
      count++;
      continue;
    }
    while (j < removed.n && cmp(removed, j, held, i) < 0) j++;
    const isRemoved = j < removed.n && cmp(removed, j, held, i) === 0;
    if (!isRemoved) { w.put(held.entry(i)); count++; }
    i++;
  }
  w.patchU32(countAt, count);
}

const idView = (list) => ({
  n: list.n,
  key: (i) => [list.bytes, list.offset + 16 * i, 16],
  entry: (i) => list.bytes.subarray(list.offset + 16 * i, list.offset + 16 * i + 16),
});
const ruleView = (list) => ({
  n: list.n,
  key: (i) => [list.bytes, list.at[i] + 2, ruleLength(list, i)],
  entry: (i) => list.bytes.subarray(list.at[i], list.at[i] + 2 + ruleLength(list, i) + (list.withCutoff ? 8 : 0)),
});

/** §4 step 3 on the held content: the new epoch list as it came, the rules and the ids merged;
 *  the result is read back (and so checked) as a content of §3. */
function applyDelta(content, delta) {
  const w = new Writer(content.bytes.length + 64);
  const { epochs, removedIds, addedIds } = delta;
  w.put(epochs.bytes.subarray(epochs.offset - 4, epochs.offset + 9 * epochs.n));
  mergeList(w, ruleView(content.rules), ruleView(delta.removedRules), ruleView(delta.setRules));
  const ids = content.ids;
  if (removedIds.n === 0 && addedIds.n === 0) w.put(ids.bytes.subarray(ids.offset - 4, ids.offset + 16 * ids.n));
  else mergeList(w, idView(ids), idView(removedIds), idView(addedIds));
  return readContent(new Reader(w.done()));
}

// ---- the JSON twin (§2.2) -----------------------------------------------------------------

/** JSON text, refusing what JSON.parse would silently round: a number with a fraction or an
 *  exponent (10.0, 1e1) anywhere (every number of the format is an integer). Integers beyond
 *  ±(2^53 − 1) come out unsafe and are refused where they are read. A member written twice keeps
 *  its last value, which §2.2 allows: the digest and the signature decide. */
function parseJSONText(text) {
  for (const [token] of text.matchAll(/"(?:[^"\\]|\\.)*"|[a-z]+|[-+.\deE]+/g)) {
    if (token[0] !== '"' && /^[-\d]/.test(token) && /[.eE]/.test(token)) {
      throw badFormat(`JSON: the number ${token} is not an integer`);
    }
  }
  try { return JSON.parse(text); } catch (error) { throw badFormat(`not JSON: ${error.message}`); }
}

const BASE_MEMBERS = ['format', 'kind', 'epoch', 'serial', 'issued_at', 'not_after', 'digest', 'signature'];
const KIND_MEMBERS = {
  full: ['epochs', 'rules', 'ids'],
  delta: ['base_serial', 'epochs', 'removed_rules', 'set_rules', 'removed_ids', 'added_ids'],
  freshness: [],
};

function members(value, names, what) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badFormat(`${what} is not an object`);
  for (const name of Object.keys(value)) if (!names.includes(name)) throw badFormat(`${what} has the unknown member ${name}`);
  for (const name of names) if (!Object.hasOwn(value, name)) throw badFormat(`${what} lacks ${name}`);
  return value;
}

// a JavaScript number holds every integer up to 2^53 − 1 exactly, and no more
const integer = (value, what) => (Number.isSafeInteger(value) ? BigInt(value)
  : fail(`${what} is not an integer within ±(2^53 − 1)`));
const array = (value, what) => (Array.isArray(value) ? value : fail(`${what} is not an array`));
const base64Member = (value, size, what) => base64urlDecode(value, size)
  ?? fail(`${what} is not canonical base64url of ${size} bytes`);

function writePrefix(w, prefix, what) {
  if (typeof prefix !== 'string') throw badFormat(`${what} is not a string`);
  const bytes = textEncoder.encode(prefix);
  if (bytes.length < 1 || bytes.length > MAX_PATH_BYTES) throw badFormat(`${what} has ${bytes.length} bytes`);
  w.u16(bytes.length);
  w.put(bytes);
}

/** Writes the binary form of a parsed JSON twin, which parseBinary then reads like any other:
 *  one set of rules for both forms, and the digest is of the binary content (§2.2). */
function jsonToBinary(o) {
  const kind = o !== null && typeof o === 'object' && Object.hasOwn(KIND_MEMBERS, o.kind) ? o.kind : null;
  members(o, [...BASE_MEMBERS, ...(kind ? KIND_MEMBERS[kind] : [])], 'the object');
  if (o.format !== 'authority-bundle-v1') throw badFormat('format is not authority-bundle-v1');
  if (!kind) throw badFormat('kind is not full, delta or freshness');
  const w = new Writer();
  w.put(MAGIC);
  w.u8(KINDS.indexOf(o.kind));
  w.u64(integer(o.epoch, 'epoch'));
  w.u64(integer(o.serial, 'serial'));
  w.i64(integer(o.issued_at, 'issued_at'));
  w.i64(integer(o.not_after, 'not_after'));
  w.put(base64Member(o.digest, 32, 'digest'));
  w.put(base64Member(o.signature, 64, 'signature'));
  const epochs = (list) => {
    w.u32(array(list, 'epochs').length);
    for (const e of list) {
      members(e, ['epoch', 'state'], 'an epoch');
      const state = STATES.indexOf(e.state);
      if (state < 1) throw badFormat(`epoch state ${JSON.stringify(e.state)}`);
      w.u64(integer(e.epoch, 'an epoch'));
      w.u8(state);
    }
  };
  const rules = (list, what) => {
    w.u32(array(list, what).length);
    for (const rule of list) {
      members(rule, ['prefix', 'issued_before'], 'a rule');
      writePrefix(w, rule.prefix, 'a prefix');
      // a standing prefix block (cutoff 2^63 − 1) is written null
      w.i64(rule.issued_before === null ? MAX_63 : integer(rule.issued_before, 'issued_before'));
    }
  };
  const ids = (list, what) => {
    w.u32(array(list, what).length);
    for (const id of list) w.put(base64Member(id, 16, 'an id'));
  };
  if (o.kind === 'full') {
    epochs(o.epochs);
    rules(o.rules, 'rules');
    ids(o.ids, 'ids');
  } else if (o.kind === 'delta') {
    w.u64(integer(o.base_serial, 'base_serial'));
    epochs(o.epochs);
    w.u32(array(o.removed_rules, 'removed_rules').length);
    for (const prefix of o.removed_rules) writePrefix(w, prefix, 'a removed prefix');
    rules(o.set_rules, 'set_rules');
    ids(o.removed_ids, 'removed_ids');
    ids(o.added_ids, 'added_ids');
  }
  return w.done();
}

const isBytes = (x) => ArrayBuffer.isView(x) || Object.prototype.toString.call(x) === '[object ArrayBuffer]';

/** Bytes in the binary form (bytes whose first non-blank byte is `{` are JSON text), a string
 *  of JSON, or the parsed JSON object. */
function parseObject(input) {
  if (isBytes(input)) {
    const bytes = ArrayBuffer.isView(input) ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength) : new Uint8Array(input);
    const first = bytes.find((b) => b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d);
    if (first !== 0x7b) return parseBinary(bytes);
    try { input = strictUTF8.decode(bytes); } catch { throw badFormat('JSON text that is not UTF-8'); }
  }
  if (typeof input === 'string') input = parseJSONText(input);
  return parseBinary(jsonToBinary(input));
}

/** §1: the six signed lines. */
const statement = (o) => textEncoder.encode(`authority-bundle-v1\nepoch=${o.epoch}\nserial=${o.serial}\n`
  + `issued_at=${o.issuedAt}\nnot_after=${o.notAfter}\ndigest=${base64urlEncode(o.digest)}\n`);

const sha256 = async (bytes) => new Uint8Array(await subtle.digest('SHA-256', bytes));

// ---- EdgeVerifier: §6 acceptance, §7 the link check ---------------------------------------

/**
 * Holds a JWK set and at most one revocation state (serial, digest, content, not_after).
 *
 *   const edge = new EdgeVerifier(jwks);               // the parsed JSON of GET /v1/keys
 *   await edge.accept(bytesOrJSON, now)                // → {answer: 'ok' | 'newer'} or {answer: code, message}
 *   await edge.check({url, host, method, clientIp}, now)  // → {reason, link, detail}
 *
 * Options: notBeforeLeeway (30 s); minSerial, the highest serial seen before a restart (keep
 * `edge.highestSerial` in durable storage), below which every object is rolled_back.
 */
export class EdgeVerifier {
  #keys;
  #held = null;
  #floor;
  #queue = Promise.resolve();

  constructor(jwks, { notBeforeLeeway = 30, minSerial = 0 } = {}) {
    this.setKeys(jwks);
    this.notBeforeLeeway = notBeforeLeeway;
    this.#floor = BigInt(minSerial);
  }

  /** Replaces the JWK set (after a rotation: accept answered unknown_key). */
  setKeys(jwks) {
    if (!jwks || !Array.isArray(jwks.keys)) throw new TypeError('a JWK set is {keys: [...]}');
    this.#keys = jwks;
  }

  /** The held state's serial, digest (base64url), issuedAt, notAfter and list sizes, or null. */
  get held() {
    const h = this.#held;
    return h && {
      serial: h.serial, digest: base64urlEncode(h.digest), issuedAt: h.issuedAt, notAfter: h.notAfter,
      epochs: h.content.epochs.n, rules: h.content.rules.n, ids: h.content.ids.n,
    };
  }

  get highestSerial() { return this.#held ? this.#held.serial : this.#floor; }

  /**
   * §6: accepts a full bundle, a delta or a freshness object, in either form. Resolves to
   * {answer: 'ok'} (the held state is the object's now; for freshness, its not_after moved
   * forward), {answer: 'newer'} (a freshness object of a later serial, or any while nothing is
   * held: fetch ?since=<held serial> or a full bundle), or {answer: code, message} with a
   * refusal code of §6; a refusal changes nothing. Calls run one at a time, in order.
   */
  accept(input, now) {
    const run = this.#queue.then(() => this.#accept(input, now));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #accept(input, now) {
    try {
      return { answer: await this.#acceptOrThrow(input, toSeconds(now)) };
    } catch (error) {
      if (error instanceof BundleRefusal) return { answer: error.code, message: error.message };
      throw error;
    }
  }

  async #acceptOrThrow(input, now) {
    const o = parseObject(input); // 1 bad_format
    const refuse = (code, message) => { throw new BundleRefusal(code, message); };
    const jwk = findKey(this.#keys, o.epoch.toString()); // 2
    if (!jwk || jwk.status === 'retired') refuse('unknown_key', `no usable key for epoch ${o.epoch}`);
    if (!(await ed25519Verify(jwk, o.signature, statement(o)))) {
      refuse('bad_signature', 'the signature does not verify over the statement'); // 3
    }
    const held = this.#held;
    // 4: the signer is active in the list the object brings; a freshness object carries none,
    // so with the held serial it is checked against the held list (otherwise passed over)
    const epochs = o.epochs ?? (held && o.serial === held.serial ? held.content.epochs : null);
    if (epochs && epochState(epochs, o.epoch) !== ACTIVE) {
      refuse('inactive_signer', `epoch ${o.epoch} is not the active epoch of the state`);
    }
    if (held ? o.serial < held.serial || (o.serial === held.serial && !sameBytes(o.digest, held.digest))
      : o.serial < this.#floor) {
      refuse('rolled_back', `serial ${o.serial} after ${held ? held.serial : this.#floor}`); // 5
    }
    let content = null;
    if (o.kind === 'delta') {
      if (!held || o.baseSerial !== held.serial) { // 6
        refuse('base_mismatch', `the delta is from serial ${o.baseSerial}, the state held is ${held ? held.serial : 'none'}`);
      }
      content = applyDelta(held.content, o);
    } else if (o.kind === 'full') {
      content = o.content;
    }
    if (content && !sameBytes(await sha256(content.bytes), o.digest)) {
      refuse('digest_mismatch', 'the content does not hash to the signed digest'); // 7
    }
    if (now >= o.notAfter) refuse('stale', `not after ${o.notAfter}`); // 8, for every kind
    // an object with the held serial never shortens the held not_after
    const notAfter = held && held.serial === o.serial && held.notAfter > o.notAfter ? held.notAfter : o.notAfter;
    if (!content) {
      if (!held || o.serial > held.serial) return 'newer';
      this.#held = { ...held, notAfter };
      return 'ok';
    }
    this.#held = { serial: o.serial, digest: o.digest, issuedAt: o.issuedAt, notAfter, content };
    return 'ok';
  }

  /**
   * §7: the reasons of checkLink (the held bundle's epoch list joins the JWK set in step 2),
   * then `stale_bundle` (nothing held, or now >= not_after), `revoked` (by id, or by a rule
   * covering the request's canonical path with au_iat below its cutoff; for a path-carried
   * token, the request path after the token), `needs_daemon` (a u/p link; the flag c needs no
   * daemon state), or `ok`. Resolves to {reason, link, detail}; anything but `ok` refuses.
   */
  async check(request, now) {
    const held = this.#held, t = toSeconds(now);
    const result = await checkSteps(request, t, this.notBeforeLeeway, (link) => {
      const jwk = findKey(this.#keys, link.kid);
      if (!jwk) return null;
      let retired = jwk.status === 'retired';
      if (held) { // with a bundle held (stale or not), the epoch must be in its list
        const state = epochState(held.content.epochs, link.epoch);
        if (state === 0) return null;
        retired ||= state === RETIRED;
      }
      return { jwk, retired };
    });
    if (result.reason !== 'ok') return result;
    const { link } = result, done = (reason) => ({ reason, link });
    // stale means refused: a stale bundle cannot vouch that the link was not revoked since
    if (!held || t >= held.notAfter) return done('stale_bundle');
    if (hasId(held.content.ids, link.id) || ruleRevokes(held.content.rules, link.path, link.issuedAt)) {
      return done('revoked');
    }
    if (link.flags.includes('u') || link.flags.includes('p')) return done('needs_daemon');
    return done('ok');
  }
}

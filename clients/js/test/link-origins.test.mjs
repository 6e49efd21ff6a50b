// The origins of a link (au_o, docs/link-format.md §1 "Origins", §4 the fourteenth line, §13),
// with links signed here (test/support.mjs) by the worked example's key: seed 00 01 … 1f, epoch 7.
import test from 'node:test';
import assert from 'node:assert/strict';
import { EdgeVerifier, MalformedLink, allowedOrigin, checkLink, parseLink } from '../authority-edge.mjs';
import { b64, contentBytes, id, jwks, objectBytes, pathTokenLink, seedKey, signLink, unb64 } from './support.mjs';

const T = 1_790_000_000;
const k7 = await seedKey(7, Uint8Array.from({ length: 32 }, (_, i) => i));
const keys = jwks(k7);
const text = (bytes) => new TextDecoder().decode(bytes);

const link = ({ n = 1, ...o }) => signLink(k7, { id: id(n, 0x0a), iat: T, exp: T + 900, ...o });
const EXACT = { path: '/files/a.pdf', query: 'download=1' };
const PREFIX = { path: '/videos/42/seg1.ts', prefix: '/videos/42/', methods: 'GET' };
const check = (url, extra = {}, now = T + 1) => checkLink({ url, method: 'GET', ...extra }, { keys, now });
const reason = async (url, extra, now) => (await check(url, extra, now)).reason;
const tokenOf = (target) => /\/~au\/([^/?]*)/.exec(target)[1];
const tokenText = (target) => text(unb64(tokenOf(target)));
const withTokenText = (target, t) => target.replace(tokenOf(target), b64(new TextEncoder().encode(t)));

const EIGHT = ['http://127.0.0.1:8080', 'http://[2001:db8::1]:8443', 'http://localhost:3000', 'https://a.example',
  'https://app.example', 'https://app.example:8443', 'https://player.example.com', 'https://xn--caf-dma.example'];

test('a link with one origin verifies over the fourteen-line message', async () => {
  const url = await link({ ...EXACT, origins: 'https://app.example' });
  assert.match(url, /&au_o=https:\/\/app\.example&au_sig=/);
  const { reason: r, link: parsed } = await check(url);
  assert.equal(r, 'ok');
  assert.deepEqual(parsed.origins, ['https://app.example']);
  const lines = text(parsed.message).split('\n');
  assert.equal(lines.length, 15, 'fourteen lines, each ending in LF');
  assert.deepEqual(lines.slice(-3), ['query=download=1', 'origins=https://app.example', '']);
});

test('without au_o the message keeps its thirteen lines and origins is null', async () => {
  const parsed = parseLink(await link(EXACT));
  assert.equal(parsed.origins, null);
  assert.equal(text(parsed.message).split('\n').length, 14);
  assert.doesNotMatch(text(parsed.message), /origins=/);
});

test('several origins (up to 8, with ports, IPv4, IPv6, http and https) verify', async () => {
  for (const list of [EIGHT.slice(3, 5), EIGHT.slice(0, 3), EIGHT]) {
    const origins = list.join(',');
    for (const shape of [EXACT, PREFIX]) {
      const { reason: r, link: parsed } = await check(await link({ ...shape, origins }));
      assert.equal(r, 'ok', origins);
      assert.deepEqual(parsed.origins, list);
      assert.ok(text(parsed.message).endsWith(`\norigins=${origins}\n`));
    }
  }
});

test('au_o in any position of the query, and in a path-carried token', async () => {
  const url = await link({ ...PREFIX, origins: 'https://app.example,https://b.example' });
  const piece = /&(au_o=[^&]*)/.exec(url)[1];
  const moved = url.replace(`&${piece}`, '').replace('?', `?x=1&${piece}&`);
  assert.match(moved, /\?x=1&au_o=https:\/\/app\.example,https:\/\/b\.example&au_v=1&/);
  assert.equal(await reason(moved), 'ok', 'au_o first, after an application parameter');
  const path = pathTokenLink(url);
  assert.match(tokenText(path), /&au_o=https:\/\/app\.example,https:\/\/b\.example&au_sig=/);
  const a = parseLink(url), b = parseLink(path);
  assert.equal(b.carrier, 'path');
  assert.deepEqual(b.origins, ['https://app.example', 'https://b.example']);
  assert.deepEqual(b.message, a.message, 'one message for both forms');
  assert.equal(await reason(path), 'ok');
  assert.equal(await reason(`/~au/${tokenOf(path)}/videos/42/hd/seg2.ts`, { host: 'cdn.example.com' }), 'ok');
  // a reserved au_o in the target's own query of a path-carried token is malformed
  assert.equal(await reason(`${path}?au_o=https://app.example`), 'malformed');
});

const MALFORMED = [
  'https://b.example,https://a.example', // unsorted
  'https://app.example,https://app.example', // repeated
  'https://app.example:8443,https://app.example', // unsorted: a prefix sorts first
  [...EIGHT, 'https://z.example'].join(','), // 9 origins
  'https://app.example/', 'https://app.example/x', 'https://app.example?x', 'https://app.example:443/',
  'https://APP.example', 'HTTPS://app.example', 'Https://app.example', 'ftp://app.example', 'app.example',
  '//app.example', 'https:/app.example', 'https://', 'https://:443', 'https://u@app.example',
  'https://app.example,', ',https://app.example', 'https://a.example,,https://b.example', '',
  'https://app.example:0', 'https://app.example:08443', 'https://app.example:65536', 'https://app.example:',
  'https://app.example:443:443', 'https://café.example', 'https://caf%C3%A9.example', 'https://\u212Aiosk.example',
  'https%3A%2F%2Fapp.example', 'https://app.example%2Chttps://b.example', 'https://app+example', 'https://app example',
  'https://1.2.3', 'https://256.1.1.1', 'https://01.1.1.1', 'https://[2001:DB8::1]', 'https://[2001:db8:0::1]',
  'https://[::ffff:c000:201]', 'https://2001:db8::1', 'https://a..example', 'https://.example', 'https://a_b.example',
];

test('a malformed au_o is malformed, in the query and in a path-carried token', async () => {
  for (const [i, origins] of MALFORMED.entries()) {
    const url = await link({ ...PREFIX, n: i, origins });
    if (origins.includes(' ')) { // a raw space breaks the target already; check it inside a token only
      assert.equal(await reason(url), 'malformed');
    } else {
      const { reason: r, detail } = await check(url);
      assert.equal(r, 'malformed', JSON.stringify(origins));
      assert.match(detail, /au_o|UTF-8|fragment|space/, origins);
    }
    const path = pathTokenLink(url);
    assert.equal(await reason(path), 'malformed', `path-carried ${JSON.stringify(origins)}`);
  }
  assert.throws(() => parseLink(MALFORMED_URL), MalformedLink);
});
const MALFORMED_URL = 'https://cdn.example.com/f?au_o=https://b.example,https://a.example';

test('au_o twice, an encoded name, or an empty au_o is malformed', async () => {
  const url = await link({ ...EXACT, origins: 'https://app.example' });
  for (const bad of [url.replace('&au_sig=', '&au_o=https://app.example&au_sig='),
    url.replace('&au_sig=', '&au_o=https://b.example&au_sig='), url.replace('&au_o=', '&au%5Fo='),
    url.replace('&au_o=https://app.example', '&au_o'),
    url.replace('&au_o=https://app.example', '&au_o=')]) {
    assert.equal(await reason(bad), 'malformed', bad);
  }
});

test('changing, adding or dropping au_o breaks the signature', async () => {
  const plain = await link(EXACT);
  const one = await link({ ...EXACT, origins: 'https://app.example' });
  const two = await link({ ...EXACT, origins: 'https://app.example,https://b.example' });
  const tampered = [
    one.replace('au_o=https://app.example', 'au_o=https://evil.example'),
    one.replace('au_o=https://app.example', 'au_o=http://app.example'),
    one.replace('au_o=https://app.example', 'au_o=https://app.example:8443'),
    one.replace('au_o=https://app.example', 'au_o=https://app.example,https://evil.example'),
    two.replace(',https://b.example', ''), two.replace('https://app.example,', ''),
    one.replace('&au_o=https://app.example', ''), // dropped: the 13-line message
    plain.replace('&au_sig=', '&au_o=https://app.example&au_sig='), // added
  ];
  for (const url of tampered) assert.equal(await reason(url), 'bad_signature', url);
  const token = pathTokenLink(await link({ ...PREFIX, origins: 'https://app.example' }));
  const t = tokenText(token);
  assert.equal(await reason(withTokenText(token, t)), 'ok');
  assert.equal(await reason(withTokenText(token, t.replace('app.example', 'evil.example'))), 'bad_signature');
  assert.equal(await reason(withTokenText(token, t.replace(/&au_o=[^&]*/, ''))), 'bad_signature');
});

test('origins change no verdict of steps 1–7', async () => {
  const origins = 'https://app.example';
  const url = await link({ ...PREFIX, origins, host: 'cdn.example.com', ip: '192.0.2.0/24' });
  const ip = { clientIp: '192.0.2.9' };
  assert.equal(await reason(url, ip), 'ok');
  assert.equal(await reason(url, ip, T + 900), 'expired');
  assert.equal(await reason(url, { ...ip, method: 'OPTIONS' }), 'method_not_allowed');
  assert.equal(await reason(url, { ...ip, method: 'PUT' }), 'method_not_allowed');
  assert.equal(await reason(url.replace('cdn.example.com', 'app.example'), ip), 'resource_mismatch');
  assert.equal(await reason(url.replace('/videos/42/', '/videos/43/'), ip), 'resource_mismatch');
  assert.equal(await reason(url, { clientIp: '198.51.100.1' }), 'ip_mismatch');
});

test('EdgeVerifier.check exposes the origins and keeps its verdicts', async () => {
  const edge = new EdgeVerifier(keys);
  const body = contentBytes({ epochs: { 7: 'active' }, rules: { '/videos/42/hd/': T + 1 }, ids: [] });
  assert.deepEqual(await edge.accept(await objectBytes(k7, { kind: 'full', serial: 1, issuedAt: T, notAfter: T + 300, body }), T),
    { answer: 'ok' });
  const url = await link({ ...PREFIX, origins: 'https://app.example' });
  const result = await edge.check({ url, method: 'GET' }, T + 1);
  assert.equal(result.reason, 'ok');
  assert.deepEqual(result.link.origins, ['https://app.example']);
  assert.equal((await edge.check({ url: url.replace('/seg1.ts', '/hd/seg1.ts'), method: 'GET' }, T + 1)).reason, 'revoked');
  const flagged = await link({ ...PREFIX, flags: 'u', origins: 'https://app.example' });
  assert.equal((await edge.check({ url: flagged, method: 'GET' }, T + 1)).reason, 'needs_daemon');
});

test('allowedOrigin: the listed origin an Origin header names, ASCII case folded', async () => {
  const parsed = parseLink(await link({ ...EXACT, origins: 'http://localhost:3000,https://app.example' }));
  assert.equal(allowedOrigin(parsed, 'https://app.example'), 'https://app.example');
  assert.equal(allowedOrigin(parsed, 'HTTPS://App.Example'), 'https://app.example');
  assert.equal(allowedOrigin(parsed, 'http://localhost:3000'), 'http://localhost:3000');
  for (const origin of ['http://app.example', 'https://app.example:443', 'https://app.example/', 'http://localhost',
    'https://\u212Aapp.example', 'https://app.\u212Aexample', 'null', '', undefined, null]) {
    assert.equal(allowedOrigin(parsed, origin), null, String(origin));
  }
  assert.equal(allowedOrigin(parseLink(await link(EXACT)), 'https://app.example'), null, 'no au_o');
  assert.equal(allowedOrigin(null, 'https://app.example'), null);
});

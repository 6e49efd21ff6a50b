// Every entry of Tests/Vectors/link-v1.json (docs/link-format.md §9): the reason, and whenever
// the link parses, the rebuilt signed message and the signature bytes.
import test from 'node:test';
import assert from 'node:assert/strict';
import { checkLink, MalformedLink, parseLink } from '../authority-edge.mjs';
import { b64, readVectors } from './support.mjs';

const vectors = readVectors('link-v1.json');

test('the vectors file has every entry', () => {
  assert.ok(Array.isArray(vectors));
  assert.ok(vectors.length >= 122, `${vectors.length} entries`);
});

for (const v of vectors) {
  test(`link vector ${v.name}`, async () => {
    const keys = { keys: [{ kty: 'OKP', crv: 'Ed25519', x: v.public_key, kid: String(v.epoch), status: 'active' }] };
    const request = { url: v.url, host: v.host, method: v.method, clientIp: v.client_ip };
    const { reason, link } = await checkLink(request, { keys, now: v.now, notBeforeLeeway: v.not_before_leeway });
    assert.equal(reason, v.reason);
    assert.equal(reason === 'ok', v.valid);
    if (v.signed_message === null) {
      assert.equal(link, null);
      assert.throws(() => parseLink(v.url, v.host), MalformedLink);
      assert.equal(v.signature, null);
    } else {
      assert.equal(b64(link.message), v.signed_message);
      assert.equal(b64(link.signature), v.signature);
      assert.deepEqual(parseLink(v.url, v.host).message, link.message);
    }
  });
}

// worker-example.mjs under Node: a real HTTP server on 127.0.0.1 plays the daemon's route (the
// JWK set, the vectors' bundle bytes, freshness and ?since deltas) and the origin; the handler
// fetches them over loopback, polls, and refuses or forwards the vectors' links.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createEdge } from '../worker-example.mjs';
import { id, pathTokenLink, readVectors, seedKey, signLink, unb64 } from './support.mjs';

const vectors = readVectors('bundle-v1.json');
const binary = (name) => unb64(vectors.objects.find((o) => o.name === name).binary);
const url = (name) => vectors.checks.find((c) => c.name === name).url;

/** The daemon's route and the origin; `feed.freshness` is what /freshness answers now. */
async function startServer() {
  const feed = { log: [], down: false, freshness: null };
  const server = createServer((req, res) => {
    feed.log.push(req.url);
    const send = (status, type, body) => { res.writeHead(status, { 'content-type': type }); res.end(body); };
    if (req.url.startsWith('/v1/') && feed.down) return send(503, 'text/plain', 'down');
    if (req.url === '/v1/keys') return send(200, 'application/json', JSON.stringify(vectors.keys));
    if (req.url === '/v1/revocations/bundle') return send(200, 'application/vnd.authority.bundle', binary('full-10'));
    if (req.url === '/v1/revocations/bundle?since=10') return send(200, 'application/vnd.authority.bundle', binary('delta-10-12'));
    if (req.url === '/v1/revocations/bundle/freshness' && feed.freshness) return send(200, 'application/vnd.authority.bundle', feed.freshness);
    if (req.url.startsWith('/files/')) return send(200, 'text/plain', `origin ${req.url.split('?')[0]}`);
    return send(404, 'text/plain', 'no such route');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  feed.base = `http://127.0.0.1:${server.address().port}`;
  feed.close = () => new Promise((resolve) => server.close(resolve));
  return feed;
}

test('the worker polls over HTTP, refuses with the reason, forwards what passes', async (t) => {
  const warn = t.mock.method(console, 'warn', () => {});
  const feed = await startServer();
  try {
    let now = 1790000110;
    const worker = createEdge({ clock: () => now });
    const env = { JWKS_URL: `${feed.base}/v1/keys`, BUNDLE_URL: `${feed.base}/v1/revocations/bundle`, ORIGIN_URL: feed.base, POLL_SECONDS: '10' };
    const background = [];
    const ctx = { waitUntil: (promise) => background.push(promise) };
    const get = async (name) => {
      const response = await worker.fetch(new Request(url(name)), env, ctx);
      return [response.status, (await response.text()).trim()];
    };

    // the first request waits for the keys and the full bundle
    assert.deepEqual(await get('not revoked'), [200, 'origin /files/a.pdf']);
    assert.deepEqual(feed.log.splice(0), ['/v1/keys', '/v1/revocations/bundle', '/files/a.pdf?' + url('not revoked').split('?')[1]]);
    assert.deepEqual(await get('revoked by id'), [403, 'revoked']);
    assert.deepEqual(await get('bad signature before revoked'), [403, 'bad_signature']);
    assert.deepEqual(await get('id revoked in the first state, lifted in the second'), [403, 'revoked']);
    assert.deepEqual(feed.log.splice(0), [], 'no poll within the interval, nothing refused reaches the origin');

    // serial 12 is published: the next poll (in the background: the held state is fresh) finds
    // `newer` and fetches the delta from 10
    feed.freshness = binary('freshness-12-later');
    now = 1790000170;
    assert.deepEqual(await get('the same id once lifted'), [403, 'revoked'], 'answered from the held state');
    await Promise.all(background.splice(0));
    assert.deepEqual(feed.log.splice(0), ['/v1/revocations/bundle/freshness', '/v1/revocations/bundle?since=10']);
    assert.deepEqual(await get('the same id once lifted'), [200, 'origin /files/b.pdf']);
    assert.deepEqual(await get('id revoked in the second state'), [403, 'revoked']);
    feed.log.splice(0);

    // past the delta's not_after (1790000460): the request waits for the poll, whose freshness
    // object (same serial and digest) extends the held state to 1790000800
    now = 1790000600;
    assert.deepEqual(await get('the same id once lifted'), [200, 'origin /files/b.pdf']);
    assert.deepEqual(feed.log.splice(0, 1), ['/v1/revocations/bundle/freshness']);

    // the origin goes down: the state runs out at its not_after and the edge fails closed
    feed.down = true;
    now = 1790000790;
    assert.deepEqual(await get('the same id once lifted'), [200, 'origin /files/b.pdf'], 'still fresh');
    await Promise.all(background.splice(0));
    now = 1790000800;
    assert.deepEqual(await get('the same id once lifted'), [403, 'stale_bundle']);
    assert.deepEqual(await get('revoked by id'), [403, 'stale_bundle']);
    assert.ok(warn.mock.calls.length >= 1);
    assert.match(warn.mock.calls[0].arguments[0], /^authority edge: .*\/freshness: HTTP 503$/);
  } finally {
    await feed.close();
  }
});

test('without the JWK set the worker answers 503, and retries one interval later', async (t) => {
  const warn = t.mock.method(console, 'warn', () => {});
  const feed = await startServer();
  try {
    let now = 1790000110;
    const worker = createEdge({ clock: () => now });
    const env = { JWKS_URL: `${feed.base}/v1/keys`, BUNDLE_URL: `${feed.base}/v1/revocations/bundle`, ORIGIN_URL: feed.base };
    feed.down = true;
    const first = await worker.fetch(new Request(url('not revoked')), env, {});
    assert.equal(first.status, 503);
    feed.down = false;
    now += 5;
    assert.equal((await worker.fetch(new Request(url('not revoked')), env, {})).status, 503, 'within the interval');
    now += 5;
    assert.equal((await worker.fetch(new Request(url('not revoked')), env, {})).status, 200);
    assert.equal(warn.mock.calls.length, 1);
    assert.match(warn.mock.calls[0].arguments[0], /\/v1\/keys: HTTP 503$/);
  } finally {
    await feed.close();
  }
});

test('a path-carried token is checked and stripped: the origin gets the path after it', async () => {
  const feed = await startServer();
  try {
    const now = 1790000110;
    const worker = createEdge({ clock: () => now });
    const env = { JWKS_URL: `${feed.base}/v1/keys`, BUNDLE_URL: `${feed.base}/v1/revocations/bundle`, ORIGIN_URL: feed.base };
    // the vectors' epoch 7 is the worked example's key (seed 00 01 … 1f)
    const k7 = await seedKey(7, Uint8Array.from({ length: 32 }, (_, i) => i));
    const query = await signLink(k7, { path: '/files/', prefix: '/files/', id: id(1, 0x77), iat: 1790000000, exp: 1790003600 });
    const token = pathTokenLink(query);
    const get = async (target) => {
      const response = await worker.fetch(new Request(target), env, {});
      return [response.status, (await response.text()).trim()];
    };
    assert.deepEqual(await get(token.replace('/files/', '/files/a.pdf?x=1')), [200, 'origin /files/a.pdf']);
    assert.equal(feed.log.at(-1), '/files/a.pdf?x=1');
    assert.deepEqual(await get(token.replace('/files/', '/other/a.pdf')), [403, 'resource_mismatch']);
    assert.deepEqual(await get(token.replace('/files/', '/files/a.pdf?au_v=1')), [403, 'malformed']);
    assert.deepEqual(await get(query.replace('/files/?', '/files/b.pdf?')), [200, 'origin /files/b.pdf'], 'the query form as before');
  } finally {
    await feed.close();
  }
});

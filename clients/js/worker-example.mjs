// worker-example.mjs: a Cloudflare-Workers-style edge that checks authority's links itself and
// forwards only what passes (docs/edge.md). Deploy it with authority-edge.mjs beside it.
//
// env (strings, as Workers give them):
//   JWKS_URL        the JWK set: the daemon's GET /v1/keys, through a route you run (docs/edge.md)
//   BUNDLE_URL      the full bundle: GET /v1/revocations/bundle (deltas: the same URL ?since=SERIAL)
//   FRESHNESS_URL   GET /v1/revocations/bundle/freshness (default: BUNDLE_URL + "/freshness")
//   POLL_SECONDS    how often to poll freshness (default 10; keep it well below bundle-max-age)
//   ORIGIN_URL      optional: where allowed requests go (default: fetch(request), the Workers way)
//   AUTHORITY_AUTHORIZATION  optional Authorization header for the three URLs above
//
// The verifier lives in module scope, so it survives between requests of one isolate. A request
// that finds the held state fresh is answered at once while a due poll runs in the background
// (ctx.waitUntil); one that finds it stale or missing waits for the poll. A stale state refuses
// every otherwise valid link with `stale_bundle`: the edge fails closed when the origin is down.
import { EdgeVerifier } from './authority-edge.mjs';

/** A fetch handler; `clock` (Unix seconds) is there for tests. */
export function createEdge({ clock = () => Date.now() / 1000 } = {}) {
  let edge = null; // the EdgeVerifier, once the JWK set is loaded
  let lastPoll = -Infinity; // when the last poll started
  let polling = null; // the poll in flight, shared by concurrent requests

  async function get(env, url, json = false) {
    const headers = env.AUTHORITY_AUTHORIZATION ? { authorization: env.AUTHORITY_AUTHORIZATION } : {};
    const response = await fetch(url, { headers });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return json ? response.json() : new Uint8Array(await response.arrayBuffer());
  }

  /** Accepts what `url` answers (a full bundle, a delta or a freshness object, by its kind).
   *  unknown_key means a rotation happened since the JWK set was loaded: reload it, retry once. */
  async function acceptFrom(env, url) {
    const bytes = await get(env, url);
    let result = await edge.accept(bytes, clock());
    if (result.answer === 'unknown_key') {
      edge.setKeys(await get(env, env.JWKS_URL, true));
      result = await edge.accept(bytes, clock());
    }
    return result;
  }

  /** docs/edge.md "The polling loop". */
  async function poll(env) {
    edge ??= new EdgeVerifier(await get(env, env.JWKS_URL, true));
    const held = edge.held;
    if (held) {
      const fresh = await acceptFrom(env, env.FRESHNESS_URL ?? `${env.BUNDLE_URL}/freshness`);
      if (fresh.answer === 'ok') return; // nothing changed; not_after moved forward
      if (fresh.answer !== 'newer') throw new Error(`freshness refused: ${fresh.message}`);
      const since = new URL(env.BUNDLE_URL);
      since.searchParams.set('since', String(held.serial));
      const changes = await acceptFrom(env, since.href); // a delta, or a full bundle
      if (changes.answer === 'ok') return;
      if (changes.answer !== 'base_mismatch' && changes.answer !== 'digest_mismatch') {
        throw new Error(`delta refused: ${changes.message}`);
      }
    }
    const full = await acceptFrom(env, env.BUNDLE_URL);
    if (full.answer !== 'ok') throw new Error(`bundle refused: ${full.message}`);
  }

  const refuse = (status, reason) =>
    new Response(`${reason}\n`, { status, headers: { 'content-type': 'text/plain', 'cache-control': 'no-store' } });

  return {
    async fetch(request, env, ctx) {
      const now = clock();
      if (now - lastPoll >= Number(env.POLL_SECONDS ?? 10)) {
        lastPoll = now; // a failed poll is retried one interval later
        polling ??= poll(env)
          .catch((error) => console.warn(`authority edge: ${error.message}`))
          .finally(() => { polling = null; });
      }
      if (polling) {
        const held = edge?.held;
        if (!held || now >= held.notAfter) await polling;
        else ctx?.waitUntil?.(polling);
      }
      if (!edge) return refuse(503, 'keys_unavailable');
      // request.url is the URL as the runtime parsed it (WHATWG: host lowercased and IDNA-mapped,
      // dot segments resolved, `\` read as `/`), not the raw request line: the byte-level
      // refusals of docs/link-format.md (a Kelvin-sign host, %2E%2E, a backslash) apply to that
      // parsed URL, which is also the one forwarded. A link as issued is canonical already, so
      // parsing leaves it unchanged.
      const { reason, link } = await edge.check(
        { url: request.url, method: request.method, clientIp: request.headers.get('cf-connecting-ip') }, now);
      // Anything but ok refuses. needs_daemon (a use-limited or password link) could instead be
      // sent to the daemon's forward-auth endpoint (docs/proxies.md); this example refuses it.
      if (reason !== 'ok') return refuse(403, reason);
      const url = new URL(request.url);
      // a path-carried token (/~au/<token>/…, docs/link-format.md §11) is not the origin's: the
      // origin gets the path after it (the check made sure it is a canonical path under au_pfx)
      const path = link.carrier === 'path' ? url.pathname.slice(url.pathname.indexOf('/', '/~au/'.length)) : url.pathname;
      if (!env.ORIGIN_URL) return fetch(path === url.pathname ? request : new Request(new URL(path + url.search, url), request));
      return fetch(new Request(new URL(path + url.search, env.ORIGIN_URL), request));
    },
  };
}

export default createEdge();

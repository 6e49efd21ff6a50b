// The module must run unchanged in Node ≥ 20, Deno, Cloudflare Workers and browsers: no Node
// imports or globals, WebCrypto through globalThis.crypto only. Checked in the source, and by
// running it in a Node process whose Buffer, process and require are gone.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readVectors } from './support.mjs';

const moduleURL = new URL('../authority-edge.mjs', import.meta.url);
/** The source without comments and string contents (so a comment naming Buffer is fine). */
const code = (url) => readFileSync(url, 'utf8')
  .replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:\\])\/\/.*$/gm, '$1')
  .replace(/'(?:[^'\\\n]|\\.)*'/g, "''").replace(/`(?:[^`\\]|\\.)*`/g, '``');

for (const file of ['../authority-edge.mjs', '../worker-example.mjs']) {
  test(`${file.slice(3)}: no node: import, Buffer, require, process or other module`, () => {
    const source = readFileSync(new URL(file, import.meta.url), 'utf8');
    const imports = [...source.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*['"]([^'"]+)['"]/gm)].map((m) => m[1]);
    assert.deepEqual(imports.filter((i) => i !== './authority-edge.mjs'), []);
    assert.doesNotMatch(source, /\bimport\s*\(/, 'no dynamic import');
    for (const name of ['Buffer', 'require', 'process', '__dirname', 'global', 'setImmediate']) {
      assert.doesNotMatch(code(new URL(file, import.meta.url)), new RegExp(`\\b${name}\\b(?!\\s*:)`), name);
    }
  });
}

test('authority-edge.mjs: WebCrypto through globalThis.crypto, Ed25519 and SHA-256 only', () => {
  const source = code(moduleURL);
  assert.match(source, /globalThis\.crypto\.subtle/);
  const algorithms = new Set([...readFileSync(moduleURL, 'utf8').matchAll(/name: '([^']+)'|digest\('([^']+)'/g)].map((m) => m[1] ?? m[2]));
  assert.deepEqual([...algorithms].sort(), ['Ed25519', 'SHA-256']);
});

test('the verifier runs with Buffer, process and require removed from the global scope', async () => {
  const v = readVectors('link-v1.json')[0];
  const script = `
    const out = globalThis.process.stdout;
    delete globalThis.Buffer; globalThis.process = undefined; delete globalThis.require;
    const { checkLink } = await import(${JSON.stringify(moduleURL.href)});
    const keys = { keys: [{ kty: 'OKP', crv: 'Ed25519', x: ${JSON.stringify(v.public_key)}, kid: '${v.epoch}' }] };
    const r = await checkLink({ url: ${JSON.stringify(v.url)}, method: 'GET' }, { keys, now: ${v.now} });
    out.write(typeof Buffer + ' ' + r.reason + '\\n');`;
  const stdout = await new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], (error, out, err) => (error ? reject(new Error(err)) : resolve(out)));
  });
  assert.equal(stdout, `undefined ${v.reason}\n`);
  assert.equal(v.reason, 'ok');
});

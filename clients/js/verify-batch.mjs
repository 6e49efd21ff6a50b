#!/usr/bin/env node
// node clients/js/verify-batch.mjs FILE
//
// Reads one JSON object {"jwks": JWK set, "objects": [{"now", "bytes": base64url of an object in
// either form}], "checks": [{"now", "url", "method", "host", "client_ip"}]}, accepts the objects in
// order with one EdgeVerifier, then makes the checks, and prints {"accepted": [answer or refusal
// code, ...], "reasons": [...]} (what Tests/EndToEndTests/EdgeVerificationTests.swift reads).
// Exit 0, or 2 with one line on stderr when the file is not of that shape. Node only (the module
// itself needs no Node API).
import { readFile } from 'node:fs/promises';
import { EdgeVerifier, base64urlDecode } from './authority-edge.mjs';

const fail = (message) => {
  process.stderr.write(`verify-batch: error: ${message}\n`);
  process.exit(2);
};

const path = process.argv[2];
if (!path || process.argv.length > 3) fail('usage: node verify-batch.mjs FILE');
let batch;
try {
  batch = JSON.parse(await readFile(path, 'utf8'));
} catch (error) {
  fail(`${path}: ${error.message}`);
}
const integer = (v, what) => (Number.isSafeInteger(v) ? v : fail(`${what} is not an integer`));
const text = (v, what, optional = false) => (typeof v === 'string' || (optional && v == null) ? v ?? null : fail(`${what} is not a string`));
if (batch === null || typeof batch !== 'object' || Array.isArray(batch)) fail(`${path}: not a JSON object`);
const { jwks, objects = [], checks = [] } = batch;
if (!Array.isArray(objects) || !Array.isArray(checks)) fail('objects and checks must be arrays');
let edge;
try {
  edge = new EdgeVerifier(jwks);
} catch (error) {
  fail(`jwks: ${error.message}`);
}
const inputs = objects.map((o, i) => {
  const bytes = base64urlDecode(text(o?.bytes, `object ${i}: bytes`));
  return { now: integer(o.now, `object ${i}: now`), bytes: bytes ?? fail(`object ${i}: bytes is not base64url`) };
});
const requests = checks.map((c, i) => ({
  now: integer(c?.now, `check ${i}: now`),
  request: {
    url: text(c.url, `check ${i}: url`),
    method: text(c.method ?? 'GET', `check ${i}: method`),
    host: text(c.host, `check ${i}: host`, true),
    clientIp: text(c.client_ip, `check ${i}: client_ip`, true),
  },
}));
const accepted = [];
for (const { now, bytes } of inputs) accepted.push((await edge.accept(bytes, now)).answer);
const reasons = [];
for (const { now, request } of requests) reasons.push((await edge.check(request, now)).reason);
process.stdout.write(JSON.stringify({ accepted, reasons }) + '\n');

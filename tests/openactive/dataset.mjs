#!/usr/bin/env node
// Checks an OpenActive dataset site offline: fetches the page as a browser would (Accept:
// text/html), takes its JSON-LD, and runs the official data model validator in its "DatasetSite"
// mode. Prints { ok, errors, warnings } and exits 0 only when there is no error.
//
//   node dataset.mjs URL
//   node dataset.mjs - < dataset.json     # a dataset description (JSON-LD) on standard input
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { validate } = require('@openactive/data-model-validator');

const url = process.argv[2];
if (!url) {
  console.error('usage: node dataset.mjs URL');
  process.exit(2);
}
const errors = [];
const warnings = [];
let jsonLd;
if (url === '-') {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  jsonLd = text;
} else {
  const res = await fetch(url, { headers: { accept: 'text/html' } });
  const html = await res.text();
  if (!res.ok || !(res.headers.get('content-type') ?? '').startsWith('text/html')) {
    errors.push({ message: `the dataset site answered ${res.status} ${res.headers.get('content-type')}` });
  }
  jsonLd = html.match(/<script type="application\/ld\+json">([\s\S]*?)<\/script>/)?.[1];
}
if (!jsonLd) {
  errors.push({ message: 'the page has no JSON-LD' });
} else {
  const data = JSON.parse(jsonLd);
  for (const e of await validate(data, { loadRemoteJson: false, validationMode: 'DatasetSite' })) {
    const item = { rule: e.rule, path: e.path, message: e.message };
    (e.severity === 'failure' ? errors : warnings).push(item);
  }
}
console.log(JSON.stringify({ ok: errors.length === 0, errors, warnings }, null, 2));
process.exit(errors.length === 0 ? 0 : 1);

#!/usr/bin/env node
// Offline OpenActive validation of live RPDE feeds.
//
//   node validate.mjs [--page-limit=N] [--timeout-ms=N] FEED_URL [FEED_URL...]
//
// For every feed URL this
//   1. walks the feed with the official RPDE validator (@openactive/rpde-validator), which also
//      requests a synthetic "far future" last page (?afterTimestamp=<now+1y>&afterId=<first id>);
//   2. walks the feed itself (independent fetch of every page until the last page: no items and
//      `next` equal to the page's own URL) and checks the RPDE rules directly (ordering, integer
//      `modified`, absolute `next`, tombstones, Cache-Control, Content-Type, ...);
//   3. runs the official data model validator (@openactive/data-model-validator) on every page in
//      validation mode "RPDEFeed", which validates each item's envelope and the `data` of every
//      "updated" item, with the OpenActive activity list served from a pre-seeded offline cache.
//
// Prints one JSON report on stdout: { ok, feeds: [{ url, pages, items, errors, warnings }], ... }
// and exits 0 only when no feed has an error (1 when some do, 2 on bad usage or a crash).
// `errors` holds validator messages of severity "failure" plus the harness's own RPDE checks;
// `warnings` aggregates everything of severity "warning", "notice" and "suggestion".

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const { validate: validateModel } = require('@openactive/data-model-validator');
const { RpdeValidator } = require('@openactive/rpde-validator');
const { parse: parseCacheControl } = require('cache-parser');

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ACTIVITY_LIST_URL = 'https://openactive.io/activity-list';
export const ACTIVITY_LIST_FILE = path.resolve(
  HERE, '../../crates/scaffold-domain/data/openactive/activity-list.jsonld',
);
export const CC_BY_4 = 'https://creativecommons.org/licenses/by/4.0/';
const FAILURE = 'failure';
// Allowed RPDE `kind` values (the data model's FeedItem definition).
const FEED_ITEM_KINDS = require('@openactive/data-models/versions/2.x/rpde/FeedItem.json')
  .fields.kind.options;

function pkgVersion(name) {
  return require(`${name}/package.json`).version;
}

// ---------------------------------------------------------------------------------------------
// Offline remote-JSON cache for the data model validator.
//
// data-model-validator/src/helpers/json-loader.js: with `loadRemoteJson: true` and
// `remoteJsonCachePath: DIR`, a URL is first looked up in an in-process memory cache, then in
// DIR/<sha256 hex of the exact URL string>.json, a JSON object
//   { errorCode: "error_none", data, statusCode: 200, url, exception: null, contentType, fetchTime }
// that is used while (now - fetchTime)/1000 < remoteJsonCacheTimeToLive (seconds, default 3600).
// Anything else is fetched with axios (and the result, success or error, written back to DIR).
// We seed the activity list and make axios refuse every request, so a run never touches the
// network and every document the validator wanted but we did not seed is recorded.
// ---------------------------------------------------------------------------------------------

const remoteRequests = new Set();
let offlineInstalled = false;

function installOfflineAxios() {
  if (offlineInstalled) return;
  offlineInstalled = true;
  // The very axios module instance the validator's json-loader uses.
  const dmvDir = path.dirname(require.resolve('@openactive/data-model-validator/package.json'));
  const axios = require(require.resolve('axios', { paths: [dmvDir] }));
  axios.defaults.adapter = (config) => {
    remoteRequests.add(config.url);
    return Promise.reject(new Error(`offline: ${config.url} is not in the seeded cache`));
  };
}

export function cacheFileName(url) {
  return `${crypto.createHash('sha256').update(url).digest('hex')}.json`;
}

/** Seeds DIR (created when null) with the documents we ship; returns the directory. */
export function seedRemoteJsonCache(dir = null) {
  const cacheDir = dir || fs.mkdtempSync(path.join(os.tmpdir(), 'openactive-cache-'));
  const documents = [[ACTIVITY_LIST_URL, ACTIVITY_LIST_FILE, 'application/ld+json']];
  for (const [url, file, contentType] of documents) {
    const data = JSON.parse(fs.readFileSync(file, 'utf8'));
    const entry = {
      errorCode: 'error_none',
      data,
      statusCode: 200,
      url,
      exception: null,
      contentType,
      fetchTime: Date.now(),
    };
    fs.writeFileSync(path.join(cacheDir, cacheFileName(url)), JSON.stringify(entry));
  }
  return cacheDir;
}

let activityConcepts = null;
function activityList() {
  if (!activityConcepts) {
    const list = JSON.parse(fs.readFileSync(ACTIVITY_LIST_FILE, 'utf8'));
    activityConcepts = new Map(list.concept.map((c) => [c.id, c]));
  }
  return activityConcepts;
}

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

const oneLine = (s) => String(s ?? '').replace(/\s+/g, ' ').trim();

function makeIssue({
  source, severity, rule = null, type = null, page = null, itemId = null, path: p = null, message,
}) {
  const where = [
    page ? `page ${page}` : null,
    itemId !== null && itemId !== undefined ? `item ${JSON.stringify(itemId)}` : null,
    p ? `at ${p}` : null,
  ].filter(Boolean).join(' ');
  const tag = [source, [rule, type].filter(Boolean).join('/')].filter(Boolean).join(' ');
  return {
    source,
    severity,
    rule,
    type,
    page,
    itemId: itemId ?? null,
    path: p,
    message: `[${tag}] ${where}${where ? ': ' : ''}${oneLine(message)}`,
    detail: oneLine(message),
  };
}

/** RPDE ordering key comparison, as the RPDE validator does it: /^[1-9][0-9]*$/ strings are numbers. */
function normaliseKey(v) {
  if (typeof v === 'string' && /^[1-9][0-9]*$/.test(v)) return Number(v);
  return v;
}
function cmp(a, b) {
  const x = normaliseKey(a);
  const y = normaliseKey(b);
  if (typeof x === typeof y) return x < y ? -1 : x > y ? 1 : 0;
  return String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0;
}

function isAbsoluteHttpUrl(s) {
  if (typeof s !== 'string') return false;
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && s.startsWith(`${u.protocol}//`);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// 1. the official RPDE validator
// ---------------------------------------------------------------------------------------------

async function runRpdeValidator(url, { pageLimit, timeoutMs }) {
  const logs = [];
  const issues = [];
  let log;
  try {
    log = await RpdeValidator(url, {
      pageLimit,
      timeoutMs,
      requestDelayMs: 0,
      logCallback: (entry) => logs.push(entry.message),
    });
  } catch (e) {
    // One of its rules threw (e.g. on a null item, or an object inside an `@context` array).
    issues.push(makeIssue({
      source: 'harness', severity: FAILURE, rule: 'RpdeValidatorCrash', page: url, message: `the RPDE validator crashed on this feed: ${e.stack || e}`,
    }));
    return { issues, requests: [] };
  }
  for (const page of log.pages) {
    for (const err of page.errors) {
      issues.push(makeIssue({
        source: 'rpde-validator',
        severity: err.severity,
        rule: err.rule,
        type: err.type,
        page: page.url,
        path: '$',
        message: err.message,
      }));
    }
  }
  // The walker swallows network errors and exceptions thrown by its own rules (e.g. a missing
  // Content-Type header) and then just stops, so check that it really reached the last page.
  if (!logs.some((m) => / is the last page$/.test(m))) {
    issues.push(makeIssue({
      source: 'harness',
      severity: FAILURE,
      rule: 'RpdeValidatorWalk',
      page: url,
      message: `the RPDE validator stopped after ${log.pages.length} request(s) without reaching the`
        + ` last page (page limit ${pageLimit}, a failed request, or a response it could not process)`,
    }));
  }
  return { issues, requests: log.pages.map((p) => p.url) };
}

// ---------------------------------------------------------------------------------------------
// 2. our own walk + RPDE checks, 3. the data model validator on every page
// ---------------------------------------------------------------------------------------------

async function fetchPage(url, timeoutMs) {
  const res = await fetch(url, {
    headers: { accept: 'application/json' },
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = await res.text();
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    cacheControl: res.headers.get('cache-control'),
    body,
  };
}

function checkActivityLabels(data, add) {
  const list = activityList();
  const activities = Array.isArray(data?.activity) ? data.activity : [];
  activities.forEach((a, i) => {
    if (!a || typeof a !== 'object' || a.inScheme !== ACTIVITY_LIST_URL) return;
    const id = a['@id'] ?? a.id;
    const concept = list.get(id);
    // An unknown id is already a failure from the data model validator.
    if (concept && a.prefLabel !== concept.prefLabel) {
      add({
        rule: 'ActivityPrefLabel',
        path: `.data.activity[${i}].prefLabel`,
        message: `prefLabel ${JSON.stringify(a.prefLabel)} differs from the activity list's`
          + ` ${JSON.stringify(concept.prefLabel)} for ${id} (the data model validator only warns, and ignores case)`,
      });
    }
  });
}

async function walkFeed(url, ctx) {
  const { pageLimit, timeoutMs, cacheDir } = ctx;
  const errors = [];
  const notes = [];
  const harness = (sev, page, fields) => (sev === FAILURE ? errors : notes).push(
    makeIssue({ source: 'harness', severity: sev, page, ...fields }),
  );
  const seen = new Set();
  const ids = new Map();
  let prevKey = null; // [modified, id] of the previous item in feed order
  let pages = 0;
  let itemCount = 0;
  let deleted = 0;
  let reachedLast = false;
  const updatedData = [];
  const base = url.split('?')[0];
  let current = url;

  while (pages < pageLimit) {
    if (seen.has(current)) {
      harness(FAILURE, current, { rule: 'NextLoop', message: 'page was already visited: the `next` chain loops without reaching a last page' });
      break;
    }
    seen.add(current);
    let res;
    try {
      res = await fetchPage(current, timeoutMs);
    } catch (e) {
      harness(FAILURE, current, { rule: 'Fetch', message: `request failed: ${e.message}${e.cause ? ` (${e.cause.code || e.cause.message})` : ''}` });
      break;
    }
    pages += 1;
    if (res.status !== 200) {
      harness(FAILURE, current, { rule: 'HttpStatus', message: `HTTP status ${res.status}, expected 200` });
      break;
    }
    if (!res.contentType || !/^application\/(json|vnd\.openactive\.rpde\+json)\b/i.test(res.contentType)) {
      harness(FAILURE, current, {
        rule: 'ContentType',
        message: `Content-Type ${JSON.stringify(res.contentType)}; expected application/json or application/vnd.openactive.rpde+json; version=1`,
      });
    }
    let page;
    try {
      page = JSON.parse(res.body);
    } catch (e) {
      harness(FAILURE, current, { rule: 'Json', message: `body is not JSON: ${e.message}` });
      break;
    }
    if (!page || typeof page !== 'object' || Array.isArray(page)) {
      harness(FAILURE, current, { rule: 'Json', message: 'body is not a JSON object' });
      break;
    }
    for (const key of Object.keys(page)) {
      if (!['next', 'items', 'license'].includes(key)) {
        harness('warning', current, { rule: 'PageProperties', path: `$.${key}`, message: `unexpected page property ${JSON.stringify(key)} (RPDE pages have next, items, license)` });
      }
    }
    const items = Array.isArray(page.items) ? page.items : null;
    if (!items) harness(FAILURE, current, { rule: 'Items', path: '$.items', message: '`items` must be an array' });
    if (typeof page.license !== 'string') {
      harness(FAILURE, current, { rule: 'License', path: '$.license', message: '`license` must be a string URL' });
    } else if (page.license !== CC_BY_4) {
      harness('warning', current, { rule: 'License', path: '$.license', message: `license is ${JSON.stringify(page.license)}; OpenActive open data uses ${CC_BY_4}` });
    }
    const next = page.next;
    const nextOk = isAbsoluteHttpUrl(next);
    if (!nextOk) {
      harness(FAILURE, current, { rule: 'NextAbsolute', path: '$.next', message: `\`next\` must be an absolute http(s) URL, got ${JSON.stringify(next)}` });
    } else if (next.split('?')[0] !== base) {
      harness(FAILURE, current, { rule: 'NextBasePath', path: '$.next', message: `\`next\` ${next} does not start with the feed's own base URL ${base}` });
    }
    const isLast = items !== null && items.length === 0 && next === current;

    // Cache-Control (RPDE 1.0 "Cache-Control": pages with items are cacheable for a long time,
    // the last page only briefly; the RPDE validator warns below 3600 s / above 8 s).
    const cc = res.cacheControl ? parseCacheControl(res.cacheControl) : null;
    if (!res.cacheControl) {
      harness(FAILURE, current, { rule: 'CacheControl', message: `no Cache-Control header; expected ${isLast ? '"public, max-age=8"' : '"public, max-age=3600"'}` });
    } else if (isLast && (!cc.public || !(cc.maxAge <= 8))) {
      harness(FAILURE, current, { rule: 'CacheControl', message: `last page Cache-Control ${JSON.stringify(res.cacheControl)}: must be public with max-age <= 8 (e.g. "public, max-age=8")` });
    } else if (!isLast && (!cc.public || !(cc.maxAge >= 3600))) {
      harness(FAILURE, current, { rule: 'CacheControl', message: `Cache-Control ${JSON.stringify(res.cacheControl)} on a page that is not the last page: must be public with max-age >= 3600 (e.g. "public, max-age=3600")` });
    }

    if (items) {
      items.forEach((item, i) => {
        const p = `$.items[${i}]`;
        const add = (fields) => harness(FAILURE, current, { itemId: item?.id ?? null, ...fields, path: fields.path.startsWith('$') ? fields.path : `${p}${fields.path}` });
        if (!item || typeof item !== 'object' || Array.isArray(item)) {
          add({ rule: 'Item', path: p, message: 'item must be an object' });
          return;
        }
        itemCount += 1;
        for (const key of Object.keys(item)) {
          if (!['state', 'kind', 'id', 'modified', 'data'].includes(key)) {
            harness('warning', current, { rule: 'ItemProperties', itemId: item.id ?? null, path: `${p}.${key}`, message: `unexpected item property ${JSON.stringify(key)}` });
          }
        }
        if (item.state !== 'updated' && item.state !== 'deleted') add({ rule: 'ItemState', path: '.state', message: `state must be "updated" or "deleted", got ${JSON.stringify(item.state)}` });
        if (typeof item.kind !== 'string' || !FEED_ITEM_KINDS.includes(item.kind)) add({ rule: 'ItemKind', path: '.kind', message: `kind must be one of ${FEED_ITEM_KINDS.join(', ')}; got ${JSON.stringify(item.kind)}` });
        if (!((typeof item.id === 'string' && item.id !== '') || Number.isSafeInteger(item.id))) add({ rule: 'ItemId', path: '.id', message: `id must be a non-empty string or an integer, got ${JSON.stringify(item.id)}` });
        if (!Number.isSafeInteger(item.modified)) add({ rule: 'ItemModified', path: '.modified', message: `modified must be a JSON integer (not a string or a float), got ${JSON.stringify(item.modified)}` });
        if (item.state === 'deleted' && 'data' in item) add({ rule: 'DeletedItemData', path: '.data', message: 'a "deleted" item must not have `data`' });
        if (item.state === 'updated') {
          if (!item.data || typeof item.data !== 'object' || Array.isArray(item.data)) {
            add({ rule: 'UpdatedItemData', path: '.data', message: 'an "updated" item must have a `data` object' });
          } else {
            checkActivityLabels(item.data, add);
            const dataId = item.data['@id'] ?? item.data.id;
            updatedData.push({ page: current, itemId: item.id, path: `${p}.data`, kind: item.kind, data: item.data, dataId });
          }
        }
        if (item.state === 'deleted') deleted += 1;
        if (ids.has(item.id)) {
          add({ rule: 'DuplicateId', path: '.id', message: `id also appears at ${ids.get(item.id)}` });
        } else {
          ids.set(item.id, `${current} ${p}`);
        }
        const key = [item.modified, item.id];
        if (prevKey && !(cmp(key[0], prevKey[0]) > 0 || (cmp(key[0], prevKey[0]) === 0 && cmp(key[1], prevKey[1]) > 0))) {
          add({
            rule: 'ItemOrder',
            path: p,
            message: `items must be in ascending (modified, id) order: (${JSON.stringify(item.modified)}, ${JSON.stringify(item.id)}) comes after (${JSON.stringify(prevKey[0])}, ${JSON.stringify(prevKey[1])})`,
          });
        }
        prevKey = key;
      });

      if (items.length > 0 && nextOk) {
        if (next === current) {
          harness(FAILURE, current, { rule: 'NextIsSelf', path: '$.next', message: '`next` equals the page URL although the page has items' });
        }
        const q = new URL(next).searchParams;
        const last = items[items.length - 1] || {};
        if (q.has('afterTimestamp')) {
          if (String(q.get('afterTimestamp')) !== String(last.modified) || q.get('afterId') !== String(last.id)) {
            harness(FAILURE, current, { rule: 'NextFromLastItem', path: '$.next', message: `\`next\` must be built from the last item: expected afterTimestamp=${last.modified}&afterId=${last.id}, got ${next}` });
          }
        } else if (q.has('afterChangeNumber')) {
          if (String(q.get('afterChangeNumber')) !== String(last.modified)) {
            harness(FAILURE, current, { rule: 'NextFromLastItem', path: '$.next', message: `\`next\` must be built from the last item: expected afterChangeNumber=${last.modified}, got ${next}` });
          }
        } else {
          harness(FAILURE, current, { rule: 'NextFromLastItem', path: '$.next', message: `\`next\` has neither afterTimestamp+afterId nor afterChangeNumber: ${next}` });
        }
      }
    }

    // 3. the data model validator on the `data` of every "updated" item. (Validating the whole
    //    page instead would also descend into items[].data, but it reports the last page's
    //    required `"items": []` as a failure: "Properties must be omitted when they contain empty
    //    arrays".) Paths are reported relative to the page: $.items[N].data...
    if (items) {
      for (const [i, item] of items.entries()) {
        if (item?.state !== 'updated' || !item.data || typeof item.data !== 'object' || Array.isArray(item.data)) continue;
        const found = await validateModel(structuredClone(item.data), {
          loadRemoteJson: true,
          remoteJsonCachePath: cacheDir,
          remoteJsonCacheTimeToLive: 7 * 24 * 3600,
          validationMode: 'RPDEFeed',
        });
        for (const e of found) {
          const issue = makeIssue({
            source: 'data-model-validator',
            severity: e.severity,
            rule: e.rule,
            type: e.type,
            page: current,
            itemId: item.id,
            path: `$.items[${i}].data${String(e.path || '$').replace(/^\$/, '')}`,
            message: e.message,
          });
          (e.severity === FAILURE ? errors : notes).push(issue);
        }
      }
    }

    if (isLast) {
      reachedLast = true;
      break;
    }
    if (!nextOk || items === null) break;
    current = next;
  }
  if (!reachedLast) {
    harness(FAILURE, current, { rule: 'LastPage', message: `the walk did not reach a last page (no items and \`next\` equal to its own URL) within ${pageLimit} page(s); see the other errors` });
  }
  if (reachedLast && deleted === 0) {
    harness('warning', url, { rule: 'Tombstones', message: 'no "deleted" items in the feed (the RPDE validator warns too)' });
  }
  return { pages, items: itemCount, errors, notes, updatedData };
}

/** Aggregates non-failure issues: same source/severity/rule/type/message and item-independent path. */
function aggregate(notes) {
  const groups = new Map();
  for (const n of notes) {
    const pathPattern = (n.path || '').replace(/^\$\.items\[\d+\]/, '$.items[*]');
    const text = `[${[n.source, [n.rule, n.type].filter(Boolean).join('/')].filter(Boolean).join(' ')}] ${n.detail}`;
    const key = JSON.stringify([n.source, n.severity, n.rule, n.type, pathPattern, text]);
    let g = groups.get(key);
    if (!g) {
      g = {
        source: n.source, severity: n.severity, rule: n.rule, type: n.type, path: pathPattern, count: 0, itemIds: [], pages: [], message: text,
      };
      groups.set(key, g);
    }
    g.count += 1;
    if (n.itemId !== null && g.itemIds.length < 5 && !g.itemIds.includes(n.itemId)) g.itemIds.push(n.itemId);
    if (n.page && g.pages.length < 3 && !g.pages.includes(n.page)) g.pages.push(n.page);
  }
  const order = { warning: 0, notice: 1, suggestion: 2 };
  return [...groups.values()].sort((a, b) => (order[a.severity] ?? 9) - (order[b.severity] ?? 9));
}

/**
 * Validates each feed URL; returns the report object (see the file header).
 * options: { pageLimit = 1000, timeoutMs = 10000, cacheDir (seeded temp dir when absent) }
 */
export async function validateFeeds(urls, options = {}) {
  const pageLimit = options.pageLimit ?? 1000;
  const timeoutMs = options.timeoutMs ?? 10000;
  installOfflineAxios();
  const ownCache = !options.cacheDir;
  const cacheDir = options.cacheDir || seedRemoteJsonCache();
  const feeds = [];
  const allData = [];
  try {
    for (const url of urls) {
      const rpde = await runRpdeValidator(url, { pageLimit, timeoutMs });
      const own = await walkFeed(url, { pageLimit, timeoutMs, cacheDir });
      const errors = [...rpde.issues.filter((i) => i.severity === FAILURE), ...own.errors];
      const notes = [...rpde.issues.filter((i) => i.severity !== FAILURE), ...own.notes];
      feeds.push({
        url, pages: own.pages, items: own.items, errors, notes, rpdeValidatorRequests: rpde.requests,
      });
      allData.push(...own.updatedData);
    }
    // Cross-feed: a ScheduledSession's superEvent reference should name a SessionSeries @id
    // published in one of the feeds validated together (warning only).
    const seriesIds = new Set(allData.filter((d) => d.data['@type'] === 'SessionSeries').map((d) => d.dataId));
    if (seriesIds.size > 0) {
      feeds.forEach((feed) => {
        for (const d of allData.filter((x) => feed.url.split('?')[0] === x.page.split('?')[0])) {
          const sup = d.data.superEvent;
          if (d.data['@type'] === 'ScheduledSession' && typeof sup === 'string' && !seriesIds.has(sup)) {
            feed.notes.push(makeIssue({
              source: 'harness', severity: 'warning', rule: 'SuperEventReference', page: d.page, itemId: d.itemId, path: `${d.path}.superEvent`, message: `superEvent ${sup} is not the @id of any "updated" SessionSeries in the feeds validated in this run`,
            }));
          }
        }
      });
    }
  } finally {
    if (ownCache) fs.rmSync(cacheDir, { recursive: true, force: true });
  }
  // Every URL the data model validator tried to load in this process (none were seeded).
  const unseeded = [...remoteRequests];
  const report = {
    ok: feeds.every((f) => f.errors.length === 0),
    feeds: feeds.map((f) => ({
      url: f.url,
      pages: f.pages,
      items: f.items,
      errors: f.errors,
      warnings: aggregate(f.notes),
      rpdeValidatorRequests: f.rpdeValidatorRequests,
    })),
    unseededRemoteDocuments: unseeded,
    validators: {
      '@openactive/rpde-validator': pkgVersion('@openactive/rpde-validator'),
      '@openactive/data-model-validator': pkgVersion('@openactive/data-model-validator'),
      '@openactive/data-models': pkgVersion('@openactive/data-models'),
    },
  };
  return report;
}

function usage(msg) {
  if (msg) process.stderr.write(`${msg}\n`);
  process.stderr.write('usage: node validate.mjs [--page-limit=N] [--timeout-ms=N] FEED_URL [FEED_URL...]\n');
  process.exit(2);
}

async function main(argv) {
  const urls = [];
  const options = {};
  for (const arg of argv) {
    let m;
    if ((m = /^--page-limit=(\d+)$/.exec(arg))) options.pageLimit = Number(m[1]);
    else if ((m = /^--timeout-ms=(\d+)$/.exec(arg))) options.timeoutMs = Number(m[1]);
    else if (arg === '-h' || arg === '--help') usage();
    else if (arg.startsWith('--')) usage(`unknown option ${arg}`);
    else if (isAbsoluteHttpUrl(arg)) urls.push(arg);
    else usage(`not an absolute http(s) URL: ${arg}`);
  }
  if (urls.length === 0) usage();
  const report = await validateFeeds(urls, options);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.exitCode = report.ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`validate.mjs: ${e.stack || e}\n`);
    process.exit(2);
  });
}

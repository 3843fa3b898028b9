#!/usr/bin/env node
// Self test of the OpenActive harness, and the reference for what a passing feed looks like.
//
//   node selfcheck.mjs                  # prints "selfcheck ok" (exit 0) or what went wrong (exit 1)
//   node selfcheck.mjs --print-samples  # prints the passing sample items (the shapes in README.md)
//   node selfcheck.mjs --serve          # serves the sample feeds (prints their URLs) until killed
//
// Serves, on 127.0.0.1:<random port>, two RPDE feeds in the shape the service must publish
// (SessionSeries: one updated series and one deleted tombstone; ScheduledSession: two scheduled
// sessions, one cancelled, and a tombstone), each paged 2 items at a time and ending with the
// RPDE last page, plus one deliberately broken feed. The good feeds must validate with zero
// errors, the broken one must produce the expected errors, both through validateFeeds() and
// through the `node validate.mjs` command line the Rust tests use.

import http from 'node:http';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateFeeds } from './validate.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PAGE_SIZE = 2;
const ORIGIN = 'https://scaffold.example'; // @id / url values: any absolute URL, need not resolve

const SERIES_ID = '0b0d2b9e-5f7a-4c3e-9d55-2f0c8a1e6a01';
const DELETED_SERIES_ID = '0b0d2b9e-5f7a-4c3e-9d55-2f0c8a1e6a02';
const SESSION_IDS = [
  '7c1e4a52-3b1d-4d0e-8f0a-9a6b5c4d3e01',
  '7c1e4a52-3b1d-4d0e-8f0a-9a6b5c4d3e02',
  '7c1e4a52-3b1d-4d0e-8f0a-9a6b5c4d3e03',
];
const seriesAtId = (id) => `${ORIGIN}/openactive/session-series/${id}`;
const sessionAtId = (id) => `${ORIGIN}/openactive/scheduled-sessions/${id}`;

// ---------------------------------------------------------------------------------------------
// Passing sample `data` objects (documented verbatim in README.md)
// ---------------------------------------------------------------------------------------------

export const SAMPLE_SESSION_SERIES = {
  '@context': 'https://openactive.io/',
  '@type': 'SessionSeries',
  '@id': seriesAtId(SERIES_ID),
  identifier: SERIES_ID,
  name: 'Tuesday evening walk',
  description: 'A friendly 5 km walk round the park.',
  url: `${ORIGIN}/groups/riverside-walkers/events/${SERIES_ID}`,
  organizer: {
    '@type': 'Organization',
    '@id': `${ORIGIN}/groups/riverside-walkers`,
    name: 'Riverside Walkers',
    url: `${ORIGIN}/groups/riverside-walkers`,
  },
  activity: [
    {
      '@type': 'Concept',
      '@id': 'https://openactive.io/activity-list#95092977-5a20-4d6e-b312-8fddabe71544',
      prefLabel: 'Walking',
      inScheme: 'https://openactive.io/activity-list',
    },
  ],
  location: {
    '@type': 'Place',
    name: 'Riverside Park main gate',
    address: {
      '@type': 'PostalAddress',
      streetAddress: '1 River Road',
      addressLocality: 'Exampleton',
      addressRegion: 'Exampleshire',
      postalCode: 'EX1 2AB',
      addressCountry: 'GB',
    },
    geo: {
      '@type': 'GeoCoordinates',
      latitude: 51.5074,
      longitude: -0.1278,
    },
  },
  offers: [
    {
      '@type': 'Offer',
      name: 'Free',
      price: 0,
      priceCurrency: 'GBP',
    },
  ],
  isAccessibleForFree: true,
  eventSchedule: [
    {
      '@type': 'PartialSchedule',
      repeatFrequency: 'P1W',
      byDay: ['https://schema.org/Tuesday'],
      startTime: '18:30',
      endTime: '19:30',
      duration: 'PT1H',
      scheduleTimezone: 'Europe/London',
    },
  ],
};

function scheduledSession(id, startDate, endDate, eventStatus) {
  return {
    '@context': 'https://openactive.io/',
    '@type': 'ScheduledSession',
    '@id': sessionAtId(id),
    identifier: id,
    superEvent: seriesAtId(SERIES_ID),
    url: `${ORIGIN}/groups/riverside-walkers/events/${SERIES_ID}/occurrences/${id}`,
    startDate,
    endDate,
    duration: 'PT1H',
    eventStatus,
  };
}

export const SAMPLE_SCHEDULED_SESSION = scheduledSession(
  SESSION_IDS[0], '2025-06-03T17:30:00Z', '2025-06-03T18:30:00Z', 'https://schema.org/EventScheduled',
);
export const SAMPLE_CANCELLED_SESSION = scheduledSession(
  SESSION_IDS[1], '2025-06-10T17:30:00Z', '2025-06-10T18:30:00Z', 'https://schema.org/EventCancelled',
);

// RPDE items, in (modified, id) order. `modified`: integer (here epoch milliseconds).
const FEEDS = {
  '/openactive/session-series': [
    { state: 'updated', kind: 'SessionSeries', id: SERIES_ID, modified: 1748950000000, data: SAMPLE_SESSION_SERIES },
    { state: 'deleted', kind: 'SessionSeries', id: DELETED_SERIES_ID, modified: 1748950000500 },
  ],
  '/openactive/scheduled-sessions': [
    { state: 'updated', kind: 'ScheduledSession', id: SESSION_IDS[0], modified: 1748950001000, data: SAMPLE_SCHEDULED_SESSION },
    { state: 'deleted', kind: 'ScheduledSession', id: SESSION_IDS[2], modified: 1748950001000 },
    { state: 'updated', kind: 'ScheduledSession', id: SESSION_IDS[1], modified: 1748950002000, data: SAMPLE_CANCELLED_SESSION },
  ],
};

// The broken feed: what each item gets wrong is what the checks below expect to be reported.
const BROKEN_NO_ACTIVITY = 'a0000000-0000-4000-8000-000000000001';
const BROKEN_OUT_OF_ORDER = 'a0000000-0000-4000-8000-000000000002';
const BROKEN_DELETED_WITH_DATA = 'a0000000-0000-4000-8000-000000000003';
const BROKEN_BAD_DATE = 'a0000000-0000-4000-8000-000000000004';
const { activity: _dropped, ...seriesWithoutActivity } = SAMPLE_SESSION_SERIES;
const BROKEN_FEED = [
  { state: 'updated', kind: 'SessionSeries', id: BROKEN_NO_ACTIVITY, modified: 1748950005000, data: { ...seriesWithoutActivity, '@id': seriesAtId(BROKEN_NO_ACTIVITY) } },
  { state: 'updated', kind: 'SessionSeries', id: BROKEN_OUT_OF_ORDER, modified: 1748950004000, data: { ...SAMPLE_SESSION_SERIES, '@id': seriesAtId(BROKEN_OUT_OF_ORDER) } },
  { state: 'deleted', kind: 'SessionSeries', id: BROKEN_DELETED_WITH_DATA, modified: 1748950006000, data: SAMPLE_SESSION_SERIES },
  // fractional seconds are not accepted by the data model validator's DateTime format
  { state: 'updated', kind: 'ScheduledSession', id: BROKEN_BAD_DATE, modified: 1748950007000, data: { ...SAMPLE_SCHEDULED_SESSION, startDate: '2025-06-03T17:30:00.000Z' } },
];

// ---------------------------------------------------------------------------------------------
// A reference RPDE endpoint ("Modified Timestamp and ID" ordering strategy)
// ---------------------------------------------------------------------------------------------

// Ordering of `modified` and `id` values, as the RPDE validator compares them.
const key = (v) => (typeof v === 'string' && /^[1-9][0-9]*$/.test(v) ? Number(v) : v);
function after(item, afterTimestamp, afterId) {
  const m = key(item.modified);
  const t = key(afterTimestamp);
  if (m > t) return true;
  if (m < t) return false;
  return afterId === null || key(item.id) > key(afterId);
}

function serveFeed(req, res, items, { sort = true, cacheControl = true, pageSize = PAGE_SIZE } = {}) {
  // The page's own absolute URL, exactly as requested: the last page's `next` must equal it.
  const self = `http://${req.headers.host}${req.url}`;
  const url = new URL(self);
  const base = `${url.origin}${url.pathname}`;
  const afterTimestamp = url.searchParams.get('afterTimestamp');
  const afterId = url.searchParams.get('afterId');
  let rows = sort ? [...items].sort((a, b) => (key(a.modified) - key(b.modified)) || (key(a.id) < key(b.id) ? -1 : 1)) : items;
  if (afterTimestamp !== null) rows = rows.filter((it) => after(it, afterTimestamp, afterId));
  const page = rows.slice(0, pageSize);
  const last = page[page.length - 1];
  const body = {
    next: last
      ? `${base}?afterTimestamp=${last.modified}&afterId=${encodeURIComponent(last.id)}`
      : self,
    items: page,
    license: 'https://creativecommons.org/licenses/by/4.0/',
  };
  const headers = { 'content-type': 'application/json; charset=utf-8' };
  if (cacheControl) headers['cache-control'] = page.length ? 'public, max-age=3600' : 'public, max-age=8';
  res.writeHead(200, headers);
  res.end(JSON.stringify(body));
}

function startServer() {
  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url, 'http://x');
    if (FEEDS[pathname]) return serveFeed(req, res, FEEDS[pathname]);
    if (pathname === '/broken/session-series') return serveFeed(req, res, BROKEN_FEED, { sort: false, pageSize: 100 });
    res.writeHead(404, { 'content-type': 'text/plain' });
    return res.end('not found');
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

// ---------------------------------------------------------------------------------------------

function runCli(args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(HERE, 'validate.mjs'), ...args], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
  });
}

async function main() {
  if (process.argv.includes('--print-samples')) {
    process.stdout.write(`${JSON.stringify({
      sessionSeriesPage: { next: 'http://127.0.0.1:PORT/openactive/session-series?afterTimestamp=1748950000500&afterId=' + DELETED_SERIES_ID, items: FEEDS['/openactive/session-series'], license: 'https://creativecommons.org/licenses/by/4.0/' },
      scheduledSessionItems: FEEDS['/openactive/scheduled-sessions'],
    }, null, 2)}\n`);
    return;
  }
  const server = await startServer();
  const { port } = server.address();
  const origin = `http://127.0.0.1:${port}`;
  if (process.argv.includes('--serve')) {
    // Manual use: serve the sample feeds until interrupted.
    process.stdout.write(`${[...Object.keys(FEEDS), '/broken/session-series'].map((p) => origin + p).join('\n')}\n`);
    const stop = () => server.close(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    return;
  }
  const good = [`${origin}/openactive/session-series`, `${origin}/openactive/scheduled-sessions`];
  const broken = `${origin}/broken/session-series`;
  const failures = [];
  const expect = (cond, what) => { if (!cond) failures.push(what); };
  try {
    // 1. the good feeds: zero errors
    const okReport = await validateFeeds(good);
    for (const feed of okReport.feeds) {
      expect(feed.errors.length === 0, `${feed.url}: expected no errors, got:\n  ${feed.errors.map((e) => e.message).join('\n  ')}`);
    }
    expect(okReport.ok === true, 'report.ok should be true for the good feeds');
    expect(okReport.feeds[0].pages === 2 && okReport.feeds[0].items === 2, `session-series: expected 2 pages / 2 items, got ${okReport.feeds[0].pages} / ${okReport.feeds[0].items}`);
    expect(okReport.feeds[1].pages === 3 && okReport.feeds[1].items === 3, `scheduled-sessions: expected 3 pages / 3 items, got ${okReport.feeds[1].pages} / ${okReport.feeds[1].items}`);
    expect(okReport.unseededRemoteDocuments.length === 0, `the validator asked for unseeded documents: ${okReport.unseededRemoteDocuments}`);
    for (const feed of okReport.feeds) {
      // The official RPDE validator must really have walked to the last page and done its
      // far-future last-page check (it requests ?afterTimestamp=<now + 1 year>&afterId=...).
      const future = (u) => Number(new URL(u).searchParams.get('afterTimestamp')) > Date.now();
      expect(feed.rpdeValidatorRequests.some(future), `${feed.url}: the RPDE validator did not do its last-page check: ${feed.rpdeValidatorRequests}`);
    }

    // 2. the broken feed: the expected errors, and nothing passes
    const badReport = await validateFeeds([broken]);
    const errs = badReport.feeds[0].errors;
    const has = (pred, what) => expect(errs.some(pred), `broken feed: missing expected error: ${what}`);
    has((e) => e.source === 'data-model-validator' && e.itemId === BROKEN_NO_ACTIVITY && e.type === 'missing_required_field' && e.path === '$.items[0].data.activity', 'missing activity (data model validator)');
    has((e) => e.source === 'harness' && e.rule === 'ItemOrder' && e.itemId === BROKEN_OUT_OF_ORDER, 'out-of-order modified (harness)');
    has((e) => e.source === 'harness' && e.rule === 'DeletedItemData' && e.itemId === BROKEN_DELETED_WITH_DATA, 'deleted item with data (harness)');
    has((e) => e.source === 'rpde-validator' && e.type === 'unnecessary_data_in_deleted_item', 'deleted item with data (RPDE validator)');
    has((e) => e.source === 'data-model-validator' && e.itemId === BROKEN_BAD_DATE && e.path === '$.items[3].data.startDate' && e.type === 'invalid_format', 'fractional-second startDate (data model validator)');
    expect(badReport.ok === false, 'report.ok should be false for the broken feed');

    // 3. the command line the Rust tests run
    const cliOk = await runCli(good);
    expect(cliOk.code === 0, `validate.mjs on the good feeds: exit ${cliOk.code}\n${cliOk.stderr}${cliOk.stdout.slice(0, 4000)}`);
    if (cliOk.code === 0) expect(JSON.parse(cliOk.stdout).ok === true, 'validate.mjs stdout: ok should be true');
    const cliBad = await runCli([broken]);
    expect(cliBad.code === 1, `validate.mjs on the broken feed: expected exit 1, got ${cliBad.code}\n${cliBad.stderr}`);
    if (cliBad.code === 1) expect(JSON.parse(cliBad.stdout).feeds[0].errors.length === errs.length, 'validate.mjs stdout: same errors as validateFeeds()');
    const cliUsage = await runCli([]);
    expect(cliUsage.code === 2, `validate.mjs without arguments: expected exit 2, got ${cliUsage.code}`);
  } finally {
    server.close();
  }
  if (failures.length) {
    process.stderr.write(`selfcheck FAILED:\n- ${failures.join('\n- ')}\n`);
    process.exit(1);
  }
  process.stdout.write('selfcheck ok\n');
}

main().catch((e) => {
  process.stderr.write(`selfcheck crashed: ${e.stack || e}\n`);
  process.exit(1);
});

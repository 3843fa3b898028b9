// The public pages in a real browser (Debian's Chromium, driven by playwright-core): every page
// type is checked by axe-core for WCAG 2.2 A and AA, laid out at 320, 640 (a 1280 px window at
// 200 % zoom) and 1280 px wide without sideways scrolling, reached by keyboard from the skip
// link, and screenshot at 320 and 1280 px into SCAFFOLD_TEST_ARTEFACTS. Posters print on one A4
// page and their QR codes decode (npm jsqr) to the page they advertise.
//
// An organiser signs in through a real OpenID Provider (tests/oidc, npm oidc-provider), a resident
// replies to every date of a series and subscribes to their calendar, and an independent OAuth
// client library (npm openid-client) acts as a community developer's app that the resident lets
// act for them on the consent page, then stops from their account page.
//
// Needs SCAFFOLD_TEST_BIN (the built `scaffold` binary) and tests/oidc's packages (`npm ci`);
// SCAFFOLD_TEST_DATABASE_URL runs it on PostgreSQL instead of a fresh SQLite file;
// SCAFFOLD_TEST_CHROMIUM overrides /usr/bin/chromium. scripts/test runs this file on both stores.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import * as oauth from 'openid-client';

const require = createRequire(import.meta.url);
const axePath = require.resolve('axe-core/axe.min.js');
const bin = process.env.SCAFFOLD_TEST_BIN;
const database = process.env.SCAFFOLD_TEST_DATABASE_URL;
const store = database ? 'postgres' : 'sqlite';
const artefacts = resolve(process.env.SCAFFOLD_TEST_ARTEFACTS ?? '../../target/browser-artefacts');
const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];

let server;
let op;
let base;
let token;
let browser;
let eventId;

async function api(method, path, body, extra = {}) {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...extra },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A local date-time `days` from now at 10:00, as the API takes it (YYYY-MM-DDTHH:MM). */
function localAt(days, hour) {
  const d = new Date(Date.now() + days * 86_400_000);
  const day = d.toLocaleDateString('en-CA', { timeZone: 'Europe/London' });
  return `${day}T${String(hour).padStart(2, '0')}:00`;
}

before(async () => {
  assert.ok(bin, 'set SCAFFOLD_TEST_BIN to the scaffold binary');
  mkdirSync(artefacts, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'scaffold-browser-'));
  // A free port, so that the instance's public address (in canonical links and QR codes) is
  // the one it listens on.
  const probe = createServer();
  await new Promise((r) => probe.listen(0, '127.0.0.1', r));
  const port = probe.address().port;
  await new Promise((r) => probe.close(r));
  // The OpenID Provider the organiser signs in with (every login is its one account).
  const opConfig = join(dir, 'op.json');
  writeFileSync(opConfig, JSON.stringify({
    port: 0,
    clients: [{
      client_id: 'scaffold', client_secret: 'op-secret-for-tests-only', token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: [`http://127.0.0.1:${port}/auth/callback/test`], post_logout_redirect_uris: [`http://127.0.0.1:${port}/`],
    }],
    account: { sub: 'organiser-1' },
  }));
  op = spawn('node', [resolve('../oidc/provider.mjs'), opConfig], { stdio: ['ignore', 'pipe', 'ignore'] });
  let issuer;
  for await (const line of createInterface({ input: op.stdout })) {
    issuer = line.match(/^ready (\S+)/)?.[1];
    if (issuer) break;
  }
  assert.ok(issuer, 'the OpenID Provider started');
  op.stdout.resume();
  const config = join(dir, 'scaffold.toml');
  writeFileSync(config, `[[identity.providers]]
name = "test"
display_name = "the council's sign-in"
issuer = "${issuer}"
client_id = "scaffold"
client_secret = "op-secret-for-tests-only"
`);
  const env = {
    ...process.env,
    SCAFFOLD_RATE_LIMITS__PER_IP_PER_MINUTE: '0',
    SCAFFOLD_IDENTITY__PUBLIC_URL: `http://127.0.0.1:${port}`,
  };
  if (database) env.DATABASE_URL = database;
  server = spawn(bin, ['--config', config, 'serve', '--migrate', '--listen', `127.0.0.1:${port}`],
    { cwd: dir, env, stdio: ['ignore', 'pipe', 'ignore'] });
  for await (const line of createInterface({ input: server.stdout })) {
    const addr = line.match(/listening on (http:\/\/[\d.:]+)/);
    if (addr) base = addr[1];
    const t = line.trim().match(/^(scf_\S+)$/);
    if (t) {
      token = t[1];
      break;
    }
  }
  assert.ok(base && token, 'the server started and printed its operator token');

  const group = await api('POST', '/groups', {
    slug: 'wigan-techmates',
    name: 'Wigan TechMates',
    summary: 'Tea, cake and friendly help with phones and tablets',
    description: 'We meet **every week** at Wigan Library. Bring your phone, tablet or laptop.',
    categories: ['digital-inclusion', 'older-people'],
    area: { outcode: 'WN1' },
    contact_email: 'techmates@example.org',
    links: [{ label: 'Wigan Library', url: 'https://example.org/library' }],
    join_policy: 'approval',
    guidelines: { template: 'welcoming-space' },
  });
  await api('PUT', `/groups/${group.id}/identifiers/GB-CHC`, { value: '1123456' });
  await api('POST', `/groups/${group.id}/identifiers/GB-CHC/verify`);
  const event = await api('POST', '/groups/wigan-techmates/events', {
    title: 'TechMates tea party',
    summary: 'Help with phones and tablets, with tea and cake',
    description: 'No question is too small.',
    start: localAt(1, 10),
    end: localAt(1, 12),
    rrule: 'FREQ=WEEKLY',
    place: { name: 'Wigan Library', address: 'The Wiend', postcode: 'WN1 1NU' },
    accessibility: ['step-free', 'hearing-loop', 'accessible-toilet'],
    categories: ['digital-inclusion'],
    booking: 'drop-in',
  });
  eventId = event.id;
  await api('PUT', `/events/${eventId}/occurrences/${localAt(8, 10)}`, { status: 'cancelled', reason: 'Library closed' });

  browser = await chromium.launch({
    executablePath: process.env.SCAFFOLD_TEST_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  op?.kill('SIGTERM');
});

function pages() {
  return [
    ['home', '/'],
    ['search-results', '/?place=WN1+1NU&accessibility=step-free'],
    ['search-errors', '/?place=ZZ99&date=31%2F03%2F2026'],
    ['group', '/groups/wigan-techmates'],
    ['event', `/events/${eventId}`],
    ['place', '/places/WN1'],
    ['group-poster', '/groups/wigan-techmates/poster'],
    ['event-poster', `/events/${eventId}/poster`],
    ['embed', '/embed/groups/wigan-techmates'],
    ['sign-in', '/sign-in'],
    ['sign-in-link', '/sign-in/not-a-real-token'],
    ['not-found', '/groups/no-such-group'],
  ];
}

/** A page in a fresh context (axe is injected, so the page's own policy is bypassed). */
async function open(path, width) {
  const context = await browser.newContext({ viewport: { width, height: 900 }, bypassCSP: true });
  const page = await context.newPage();
  const res = await page.goto(`${base}${path}`);
  return { context, page, res };
}

async function axe(page) {
  await page.addScriptTag({ path: axePath });
  return page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  }, WCAG);
}

test('axe-core is active: it finds the faults of a page that has them', async () => {
  const { context, page } = await open('/', 320);
  await page.setContent('<html><body><img src="/x.png"><input type="text"><a href="/"></a></body></html>');
  const ids = (await axe(page)).map((v) => v.id).sort();
  assert.deepEqual(ids, ['document-title', 'html-has-lang', 'image-alt', 'label', 'link-name']);
  await context.close();
});

test('every page type passes axe-core for WCAG 2.2 A and AA, at 320 and 1280 px', async () => {
  for (const [name, path] of pages()) {
    for (const width of [320, 1280]) {
      const { context, page, res } = await open(path, width);
      assert.equal(res.status(), name === 'not-found' ? 404 : 200, `${name}: status`);
      await page.screenshot({ path: join(artefacts, `${store}-${name}-${width}.png`), fullPage: true });
      const violations = await axe(page);
      assert.deepEqual(violations, [], `${name} at ${width} px: ${JSON.stringify(violations, null, 2)}`);
      await context.close();
    }
  }
});

test('pages reflow without sideways scrolling at 320 px and at 200 % zoom', async () => {
  for (const [name, path] of pages()) {
    for (const width of [320, 640]) {
      const { context, page } = await open(path, width);
      const scroll = await page.evaluate(() => {
        const widest = [...document.querySelectorAll('body *')].sort((a, b) => b.getBoundingClientRect().right - a.getBoundingClientRect().right)[0];
        return { width: document.documentElement.scrollWidth, widest: widest?.outerHTML.slice(0, 120) };
      });
      assert.ok(scroll.width <= width, `${name} at ${width} px scrolls sideways (${scroll.width} px wide: ${scroll.widest})`);
      await context.close();
    }
  }
});

test('the skip link is the first stop, visibly focused, and leads to the main content', async () => {
  const { context, page } = await open('/groups/wigan-techmates', 1280);
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return { text: el.textContent, outline: style.outlineStyle, left: el.getBoundingClientRect().left };
  });
  assert.equal(focused.text, 'Skip to main content');
  assert.notEqual(focused.outline, 'none', 'focus is visible');
  assert.ok(focused.left >= 0, 'the focused skip link is on screen');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
  await context.close();
});

test('the search form keeps what was typed and links its errors to the fields', async () => {
  const { context, page } = await open('/', 1280);
  await page.fill('#place', 'ZZ99');
  await page.fill('#q', 'tea & cake');
  await page.selectOption('#category', 'older-people');
  await page.click('button[type=submit]');
  await page.waitForSelector('.error-summary');
  assert.equal(await page.inputValue('#place'), 'ZZ99');
  assert.equal(await page.inputValue('#q'), 'tea & cake');
  assert.equal(await page.inputValue('#category'), 'older-people');
  assert.equal(await page.getAttribute('#place', 'aria-invalid'), 'true');
  await page.click('.error-summary a[href="#place"]');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'place');
  await context.close();
});

test('group and event pages carry schema.org JSON-LD the browser can read', async () => {
  const { context, page } = await open('/groups/wigan-techmates', 1280);
  const org = JSON.parse(await page.textContent('script[type="application/ld+json"]'));
  assert.equal(org['@type'], 'Organization');
  assert.equal(org.name, 'Wigan TechMates');
  assert.ok(org.event.length >= 1);
  await page.click(`a[href="/events/${eventId}"] >> nth=0`);
  const ev = JSON.parse(await page.textContent('script[type="application/ld+json"]'));
  assert.equal(ev['@type'], 'Event');
  assert.match(ev.startDate, /^\d{4}-\d\d-\d\dT10:00:00[+-]\d\d:\d\d$/);
  assert.equal(ev.location.address.postalCode, 'WN1 1NU');
  assert.equal(ev.organizer.name, 'Wigan TechMates');
  assert.match(await page.textContent('main'), /Cancelled: Library closed/);
  await context.close();
});

test('posters print on one A4 page with a QR code that leads to the page', async () => {
  for (const [path, target] of [['/groups/wigan-techmates/poster', '/groups/wigan-techmates'], [`/events/${eventId}/poster`, `/events/${eventId}`]]) {
    const { context, page } = await open(path, 1280);
    const shot = await page.locator('svg.qr').screenshot();
    const png = PNG.sync.read(shot);
    const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    assert.ok(code, `${path}: the QR code decodes`);
    assert.equal(code.data, `${base}${target}`);
    await page.emulateMedia({ media: 'print' });
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    const name = path.includes('/events/') ? 'event' : 'group';
    await import('node:fs').then((fs) => fs.writeFileSync(join(artefacts, `${store}-${name}-poster.pdf`), pdf));
    const pages = pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? [];
    assert.equal(pages.length, 1, `${path} prints on one page`);
    await context.close();
  }
});

test('an invited person signs in with their link, once, and sees their account', async () => {
  const { url } = await api('POST', '/sign-in-links', { display_name: 'Ada Organiser' });
  const { context, page } = await open(new URL(url).pathname, 1280);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/me`);
  assert.match(await page.textContent('main'), /Signed in as Ada Organiser/);
  await page.screenshot({ path: join(artefacts, `${store}-me-1280.png`), fullPage: true });
  assert.deepEqual(await axe(page), [], 'the account page passes axe-core');
  // Joining a group from its page (this one asks an organiser to approve).
  await page.goto(`${base}/groups/wigan-techmates`);
  await page.click('text=Join Wigan TechMates');
  assert.deepEqual(await axe(page), [], 'the join page passes axe-core');
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/me`);
  assert.match(await page.textContent('main'), /Wigan TechMates\s*Member \(waiting for approval\)/);
  // Replying to the next date of the series.
  await page.goto(`${base}/events/${eventId}`);
  await page.click('text=Say whether you are coming');
  assert.deepEqual(await axe(page), [], 'the reply page passes axe-core');
  await page.click('.dates li:first-child button[value=going]');
  await page.waitForSelector('.notice-ok');
  assert.match(await page.textContent('.notice-ok'), /You are coming on/);
  // The same link again, in another browser: refused.
  const other = await browser.newContext();
  const again = await other.newPage();
  await again.goto(url);
  const res = await Promise.all([again.waitForNavigation(), again.click('button[type=submit]')]);
  assert.equal(res[0].status(), 410);
  await other.close();
  // Signing out ends the session.
  await page.goto(`${base}/me`);
  await page.click('text=Sign out');
  await page.goto(`${base}/me`);
  assert.equal(new URL(page.url()).pathname, '/sign-in');
  await context.close();
});

test('a new organiser signs in through the OpenID Provider and creates a group and a weekly event on a phone', async () => {
  const { context, page } = await open('/sign-in', 320);
  await page.click("text=Sign in with the council's sign-in");
  await page.waitForURL(`${base}/me`);
  await page.click('text=Create a group');
  await page.fill('#name', 'Ty');
  await page.fill('#summary', 'Knit and natter on Thursdays');
  await page.fill('#outcode', 'WN5');
  await page.check('#categories-arts-culture');
  await page.click('button[type=submit]');
  await page.waitForSelector('.error-summary');
  assert.equal(await page.inputValue('#name'), 'Ty', 'what was typed is kept');
  assert.equal(await page.inputValue('#summary'), 'Knit and natter on Thursdays');
  assert.ok(await page.isChecked('#categories-arts-culture'));
  await page.screenshot({ path: join(artefacts, `${store}-group-form-errors-320.png`), fullPage: true });
  assert.deepEqual(await axe(page), [], 'the form with its errors passes axe-core');
  await page.click('.error-summary a[href="#name"]');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'name');
  await page.fill('#name', 'Pemberton Knitters');
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/groups/pemberton-knitters`);
  assert.match(await page.textContent('h1'), /Pemberton Knitters/);

  await page.goto(`${base}/me`);
  await page.click('text=Members of Pemberton Knitters');
  assert.match(await page.textContent('main'), /Owner/);
  assert.deepEqual(await axe(page), [], 'the members page passes axe-core');
  await page.goto(`${base}/me`);
  await page.click('text=Edit the page of Pemberton Knitters');
  assert.deepEqual(await axe(page), [], 'the edit form passes axe-core');
  await page.goto(`${base}/me`);
  await page.click('text=Add an event to Pemberton Knitters');
  assert.deepEqual(await axe(page), [], 'the event form passes axe-core');
  await page.fill('#title', 'Knit and natter');
  await page.fill('#summary', 'Bring your needles');
  await page.fill('#date', localAt(2, 14).slice(0, 10));
  await page.fill('#start_time', '14:00');
  await page.fill('#end_time', '16:00');
  await page.check('#repeats-weekly');
  await page.fill('#place_name', 'Pemberton Library');
  await page.fill('#postcode', 'WN5 8AA');
  await page.click('button[type=submit]');
  await page.waitForURL(/\/events\//);
  assert.match(await page.textContent('main'), /Every \w+day, 14:00 to 16:00/);
  const eventUrl = page.url();
  // The whole event can be changed, from a form filled with what it has now.
  await page.click('text=change this event');
  assert.equal(await page.inputValue('#title'), 'Knit and natter');
  assert.deepEqual(await axe(page), [], 'the event edit form passes axe-core');
  await page.fill('#title', 'Knit, natter and tea');
  await page.click('button[type=submit]');
  await page.waitForURL(eventUrl);
  assert.match(await page.textContent('h1'), /Knit, natter and tea/);
  // Cancel the second date.
  await page.click('text=cancel, postpone or move a date');
  assert.deepEqual(await axe(page), [], 'the dates page passes axe-core');
  await page.click('.dates li:nth-child(2) a');
  assert.deepEqual(await axe(page), [], 'the date form passes axe-core');
  await page.check('#what-cancelled');
  await page.fill('#reason', 'Hall booked for a wedding');
  await page.click('button[type=submit]');
  await page.waitForURL(/\/dates$/);
  await page.goto(eventUrl);
  assert.match(await page.textContent('main'), /Cancelled: Hall booked for a wedding/);
  await page.goto(`${base}/groups/pemberton-knitters`);
  assert.match(await page.textContent('main'), /Knit, natter and tea/);
  await context.close();
});

/** Signs a new resident in with a sign-in link, in a fresh context at `width`. */
async function resident(name, width, options = {}) {
  const { url } = await api('POST', '/sign-in-links', { display_name: name });
  const context = await browser.newContext({ viewport: { width, height: 900 }, bypassCSP: true, ...options });
  const page = await context.newPage();
  await page.goto(url);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/me`);
  return { context, page };
}

test('a resident comes to every date of a series and finds the dates in their calendar feed', async () => {
  const { context, page } = await resident('Rita Resident', 320);
  await page.goto(`${base}/events/${eventId}`);
  await page.click('text=Say whether you are coming');
  await page.click("text=I'm coming to every date");
  await page.waitForSelector('.notice-ok');
  assert.match(await page.textContent('.notice-ok'), /You are coming to every date: you have a place on \d+ dates/);
  assert.deepEqual(await axe(page), [], 'the reply page with the series choice passes axe-core');
  await page.goto(`${base}/me`);
  assert.match(await page.textContent('main'), /You are coming to every date of:\s*TechMates tea party/);
  await page.click('text=Make my calendar link');
  await page.waitForSelector('#feed-url');
  await page.screenshot({ path: join(artefacts, `${store}-calendar-link-320.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: join(artefacts, `${store}-calendar-link-1280.png`), fullPage: true });
  await page.setViewportSize({ width: 320, height: 900 });
  assert.deepEqual(await axe(page), [], 'the calendar link page passes axe-core');
  const feed = await page.inputValue('#feed-url');
  assert.match(feed, /\/calendars\/scal_[\w-]+\.ics$/);
  assert.match(await page.getAttribute('a[href^="webcal:"]', 'href'), /^webcal:\/\/127\.0\.0\.1:\d+\/calendars\//);
  // The feed as a calendar app fetches it: every date replied to, the cancelled one marked.
  const res = await fetch(feed);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/calendar; charset=utf-8');
  const ics = await res.text();
  assert.ok(ics.startsWith('BEGIN:VCALENDAR\r\n') && ics.endsWith('END:VCALENDAR\r\n'));
  assert.ok(ics.split('BEGIN:VEVENT').length - 1 >= 10, 'the weeks ahead are in the feed');
  assert.match(ics, /SUMMARY:TechMates tea party/);
  // Turning it off stops the link.
  await page.goto(`${base}/me`);
  await page.click('text=Turn my calendar link off');
  await page.waitForURL(`${base}/me`);
  assert.equal((await fetch(feed)).status, 404);
  await context.close();
});

test('a developer\'s app (openid-client) acts for a resident who agrees, until they stop it', async () => {
  const redirect = 'http://127.0.0.1:9/callback';
  const registered = await api('POST', '/apps', {
    name: 'Casserole matchmaker', homepage: 'https://matchmaker.example', redirect_uris: [redirect],
    scopes: ['profile', 'rsvp:write', 'attestations:hold'],
  });
  const { client_id: clientId } = registered.app;
  const config = await oauth.discovery(new URL(base), clientId, registered.client_secret, undefined,
    { execute: [oauth.allowInsecureRequests], algorithm: 'oauth2' });
  const verifier = oauth.randomPKCECodeVerifier();
  const state = oauth.randomState();
  const authorize = oauth.buildAuthorizationUrl(config, {
    redirect_uri: redirect, scope: 'profile rsvp:write', state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });

  // The consent page, checked by axe-core (in a context that may inject it).
  const checked = await resident('Cara Checker', 1280);
  await checked.page.goto(authorize.href);
  assert.match(await checked.page.textContent('h1'), /Let Casserole matchmaker act for you\?/);
  assert.deepEqual(await axe(checked.page), [], 'the consent page passes axe-core');
  await checked.page.screenshot({ path: join(artefacts, `${store}-consent-1280.png`), fullPage: true });
  await checked.page.setViewportSize({ width: 320, height: 900 });
  assert.equal(await checked.page.evaluate(() => document.documentElement.scrollWidth), 320, 'no sideways scrolling');
  await checked.page.screenshot({ path: join(artefacts, `${store}-consent-320.png`), fullPage: true });
  await checked.context.close();

  // The resident agrees in a browser that enforces the page's policy; the app's callback is caught.
  const { context, page } = await resident('Sam Resident', 320, { bypassCSP: false });
  let callback;
  await page.route(`${redirect}**`, (route) => {
    callback = route.request().url();
    return route.fulfill({ status: 200, contentType: 'text/plain', body: 'back at the app' });
  });
  await page.goto(authorize.href);
  assert.match(await page.textContent('main'), /Say whether you are coming to events/);
  await page.click('button[value=allow]');
  await page.waitForURL(`${redirect}**`);
  assert.ok(callback, 'the browser came back to the app');
  const tokens = await oauth.authorizationCodeGrant(config, new URL(callback), { pkceCodeVerifier: verifier, expectedState: state });
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  assert.ok(tokens.refresh_token);
  const me = await oauth.fetchProtectedResource(config, tokens.access_token, new URL(`${base}/api/v1/me`), 'GET');
  assert.equal((await me.json()).display_name, 'Sam Resident', 'the app acts for the resident, not its owner');
  const refreshed = await oauth.refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'refresh tokens rotate');

  // The resident stops it from their account page: its tokens stop at once.
  await page.goto(`${base}/me`);
  assert.match(await page.textContent('main'), /Casserole matchmaker \(since .+\) can:/);
  await page.click('text=Stop Casserole matchmaker acting for me');
  await page.waitForURL(`${base}/me`);
  assert.match(await page.textContent('main'), /You have not let any app act for you/);
  const after = await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${refreshed.access_token}` } });
  assert.equal(after.status, 401);
  await assert.rejects(oauth.refreshTokenGrant(config, refreshed.refresh_token), (e) => e.error === 'invalid_grant');
  await context.close();
});

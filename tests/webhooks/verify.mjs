// Verifies recorded webhook deliveries with the reference Standard Webhooks library (npm
// `standardwebhooks`, pinned in package-lock.json).
//
//   node verify.mjs <deliveries.json> <secret>
//
// deliveries.json: [{ "headers": { "webhook-id": …, … }, "body": "<raw body>" }, …]. Each delivery
// is checked as of its own `webhook-timestamp` (recorded traffic is replayed later, and the tests'
// service runs on a fixed clock): the library's five-minute window is kept, around that instant.
// Prints one JSON line per delivery: { "id", "ok", "error"?, "payload"? }.
import { readFileSync } from "node:fs";
import { Webhook } from "standardwebhooks";

const [file, secret] = process.argv.slice(2);
const deliveries = JSON.parse(readFileSync(file, "utf8"));
const realNow = Date.now;
for (const d of deliveries) {
  const at = Number(d.headers["webhook-timestamp"]) * 1000;
  Date.now = Number.isFinite(at) ? () => at : realNow;
  try {
    const payload = new Webhook(secret).verify(d.body, d.headers);
    console.log(JSON.stringify({ id: d.headers["webhook-id"], ok: true, payload }));
  } catch (e) {
    console.log(JSON.stringify({ id: d.headers["webhook-id"], ok: false, error: String(e.message || e) }));
  } finally {
    Date.now = realNow;
  }
}

// The Kombo webhook receiver a vendor would otherwise write by hand, for the
// comparison in docs/benchmarks.md: read the body, verify X-Kombo-Signature
// (HMAC-SHA256 of the raw bytes, base64url without padding), decode it, and
// store the event and the order in one SQLite transaction per webhook that
// is on disk before the 200 (WAL, synchronous=FULL), deduplicated by event
// id and by order id.
//
//   KOMBO_WEBHOOK_SECRET=… PORT=8090 DB=receiver.db node server.js
'use strict';

const crypto = require('node:crypto');
const http = require('node:http');
const Database = require('better-sqlite3');

const secret = process.env.KOMBO_WEBHOOK_SECRET;
if (!secret) {
  console.error('KOMBO_WEBHOOK_SECRET is not set');
  process.exit(1);
}
const port = Number(process.env.PORT || 8090);
const host = process.env.HOST || '127.0.0.1';
const maxBody = 1 << 20;

const db = new Database(process.env.DB || 'receiver.db');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL'); // a commit survives power loss
db.pragma('busy_timeout = 5000');
db.exec(`
  CREATE TABLE IF NOT EXISTS webhook_events (
    id TEXT PRIMARY KEY, type TEXT NOT NULL, order_id TEXT,
    received_at INTEGER NOT NULL, body BLOB NOT NULL);
  CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY, integration_id TEXT NOT NULL, package_id TEXT NOT NULL,
    status TEXT NOT NULL, email TEXT NOT NULL, data TEXT NOT NULL,
    created_at INTEGER NOT NULL);
  CREATE INDEX IF NOT EXISTS orders_email ON orders (email);
  CREATE INDEX IF NOT EXISTS orders_integration_id ON orders (integration_id, created_at);
`);

const insertEvent = db.prepare(`INSERT INTO webhook_events (id, type, order_id, received_at, body)
  VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`);
const insertOrder = db.prepare(`INSERT INTO orders (id, integration_id, package_id, status, email, data, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`);

// One transaction per webhook: better-sqlite3 commits (and fsyncs) when
// the function returns.
const store = db.transaction((hook, body) => {
  const now = Date.now();
  const o = hook.data;
  const isOrder = hook.type === 'assessment:order-received' || hook.type === 'inline-assessment:order-received';
  const ev = insertEvent.run(hook.id, hook.type, isOrder ? o.id : null, now, body);
  if (!isOrder) return ev.changes === 0;
  const ord = insertOrder.run(o.id, o.integration_id, o.package_id, o.status,
    String(o.candidate.email).trim().toLowerCase(), JSON.stringify(o), now);
  return ord.changes === 0;
});

function verify(body, header) {
  if (!header) return false;
  let got;
  try {
    got = Buffer.from(header.trim().replace(/=+$/, ''), 'base64url');
  } catch {
    return false;
  }
  const want = crypto.createHmac('sha256', secret).update(body).digest();
  return got.length === want.length && crypto.timingSafeEqual(got, want);
}

function answer(res, status, obj) {
  const b = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(b) });
  res.end(b);
}

function invalid(hook) {
  if (!hook || typeof hook !== 'object') return 'not a JSON object';
  if (typeof hook.id !== 'string' || !hook.id) return 'id is required';
  if (typeof hook.type !== 'string' || !hook.type) return 'type is required';
  if (!hook.data || typeof hook.data !== 'object') return 'data is required';
  if (hook.type.endsWith('order-received')) {
    const o = hook.data;
    for (const f of ['id', 'integration_id', 'package_id', 'status']) {
      if (typeof o[f] !== 'string' || !o[f]) return `data.${f} is required`;
    }
    if (!o.candidate || typeof o.candidate.email !== 'string' || !o.candidate.email.includes('@')) {
      return 'data.candidate.email is required';
    }
  }
  return null;
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') return answer(res, 200, { status: 'ok' });
  if (req.method !== 'POST' || req.url !== '/webhooks/kombo') return answer(res, 404, { error: 'not found' });
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size > maxBody) {
      answer(res, 413, { error: 'body too large' });
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.on('end', () => {
    if (size > maxBody) return;
    const body = Buffer.concat(chunks);
    if (!verify(body, req.headers['x-kombo-signature'])) return answer(res, 401, { error: 'bad signature' });
    let hook;
    try {
      hook = JSON.parse(body);
    } catch {
      return answer(res, 400, { error: 'not valid JSON' });
    }
    const problem = invalid(hook);
    if (problem) return answer(res, 400, { error: problem });
    let duplicate;
    try {
      duplicate = store(hook, body);
    } catch (err) {
      console.error('store webhook', hook.id, err.message);
      return answer(res, 503, { error: 'could not store the webhook' });
    }
    answer(res, 200, { status: 'ok', duplicate });
  });
});
server.keepAliveTimeout = 120000;
server.listen(port, host, () => {
  console.log(`listening on http://${host}:${server.address().port}`);
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => server.close(() => { db.close(); process.exit(0); }));
}

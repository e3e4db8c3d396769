#!/usr/bin/env node
// Records throughput: Galley against a hand-written Fastify baseline (bench/baseline-server.js) on
// the same database and data, measured in the same run. 10,000 seeded records; three endpoints:
// view by id, list (perPage 30, `published = true && views > 500`, sort -created), create.
// Usage: npm run bench:records [-- --seconds 5 --connections 10]; PostgreSQL too when
// GALLEY_TEST_PG_URL (or GALLEY_BENCH_PG_URL) is set. Loopback only; every run is bounded in time.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { BIN, createPgDatabase, PG_URL, run, serve } from './galley-process.js'

const BASELINE = fileURLToPath(new URL('./baseline-server.js', import.meta.url))
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}
const SECONDS = arg('seconds', 5)
const CONNECTIONS = arg('connections', 10)
const RECORDS = 10_000
const EMAIL = 'bench@example.com'
const PASSWORD = 'bench password 1'

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'
const newId = () => [...randomBytes(15)].map((b) => ID_ALPHABET[b % 36]).join('')

function seedRows() {
  const base = Date.parse('2025-01-01T00:00:00Z')
  return Array.from({ length: RECORDS }, (_, i) => ({
    id: newId(),
    title: `post ${i}`,
    views: (i * 7919) % 1000,
    published: i % 2 === 0,
    created: new Date(base + i * 60_000).toISOString().replace('T', ' '),
  }))
}

async function seedSqlite(file, rows) {
  const Database = (await import('better-sqlite3')).default
  const db = new Database(file)
  db.pragma('busy_timeout = 10000')
  const insert = db.prepare('INSERT INTO posts (id, title, views, published, created) VALUES (?, ?, ?, ?, ?)')
  db.transaction(() =>
    rows.forEach((r) => insert.run(r.id, r.title, r.views, r.published ? 1 : 0, r.created)),
  )()
  db.close()
}

async function seedPg(url, rows) {
  const pg = (await import('pg')).default
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000)
    const params = chunk.flatMap((r) => [r.id, r.title, r.views, r.published, r.created])
    const values = chunk.map(
      (_, j) => `($${j * 5 + 1}, $${j * 5 + 2}, $${j * 5 + 3}, $${j * 5 + 4}, $${j * 5 + 5})`,
    )
    await c.query(
      `INSERT INTO posts (id, title, views, published, created) VALUES ${values.join(', ')}`,
      params,
    )
  }
  await c.query('ANALYZE posts')
  await c.end()
}

function load(url, opts) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: SECONDS, ...opts }, (err, r) => {
      if (err) return reject(err)
      const bad = r.non2xx + r.errors + r.timeouts
      resolve({ rps: r.requests.average, p99: r.latency.p99, bad })
    })
  })
}

const LIST =
  '/api/collections/posts/records?perPage=30&sort=-created&filter=' +
  encodeURIComponent('published = true && views > 500')

/** The same JSON from both servers, or the comparison means nothing. */
async function sample(base, id) {
  const view = await (await fetch(base + `/api/collections/posts/records/${id}`)).json()
  const list = await (await fetch(base + LIST)).json()
  return JSON.stringify({ view, total: list.totalItems, ids: list.items.map((i) => i.id) })
}

async function measure(base, ids) {
  const pick = () => ids[Math.floor(Math.random() * ids.length)]
  const list = LIST
  return {
    view: await load(base, {
      requests: [{ setupRequest: (req) => ({ ...req, path: `/api/collections/posts/records/${pick()}` }) }],
    }),
    list: await load(base + list, {}),
    create: await load(base + '/api/collections/posts/records', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'bench', views: 1, published: true }),
    }),
  }
}

async function bench(kind) {
  const dir = mkdtempSync(join(tmpdir(), 'galley-bench-'))
  const pgdb = kind === 'postgres' ? await createPgDatabase() : undefined
  const where = pgdb ? ['--db', pgdb.url] : ['--dir', dir]
  try {
    await run([BIN, 'superuser', 'upsert', EMAIL, PASSWORD, ...where])
    const galley = await serve([BIN, 'serve', '--http', '127.0.0.1:0', '--log-level', 'warn', ...where])
    const auth = await (
      await fetch(`${galley.url}/api/collections/_superusers/auth-with-password`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ identity: EMAIL, password: PASSWORD }),
      })
    ).json()
    const created = await (
      await fetch(`${galley.url}/api/collections`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: auth.token },
        body: JSON.stringify({
          name: 'posts',
          listRule: '',
          viewRule: '',
          createRule: '',
          fields: [
            { name: 'title', type: 'text', required: true },
            { name: 'views', type: 'number' },
            { name: 'published', type: 'bool' },
            { name: 'created', type: 'autodate', onCreate: true },
          ],
          indexes: ['CREATE INDEX idx_posts_created ON posts (created)'],
        }),
      })
    ).json()
    const rows = seedRows()
    if (pgdb) await seedPg(pgdb.url, rows)
    else await seedSqlite(join(dir, 'data.db'), rows)
    const ids = rows.map((r) => r.id)

    const galleySample = await sample(galley.url, ids[0])
    const g = await measure(galley.url, ids)
    await galley.stop()
    const baseline = await serve([BASELINE, pgdb ? pgdb.url : join(dir, 'data.db'), created.id])
    const baselineSample = await sample(baseline.url, ids[0])
    if (galleySample !== baselineSample)
      console.log(
        `WARNING: the servers answer differently:\n galley   ${galleySample.slice(0, 400)}\n baseline ${baselineSample.slice(0, 400)}`,
      )
    const b = await measure(baseline.url, ids)
    await baseline.stop()

    console.log(`\n${kind}: ${RECORDS} records, ${CONNECTIONS} connections, ${SECONDS} s per run`)
    console.log('endpoint   galley req/s  p99 ms | baseline req/s  p99 ms | ratio  goal')
    for (const [name, goal] of [
      ['view', 0.8],
      ['list', 0.8],
      ['create', 0.7],
    ]) {
      const ratio = g[name].rps / b[name].rps
      const errors = g[name].bad + b[name].bad
      console.log(
        `${name.padEnd(8)} ${g[name].rps.toFixed(0).padStart(12)} ${String(g[name].p99).padStart(7)} | ${b[name].rps.toFixed(0).padStart(14)} ${String(b[name].p99).padStart(7)} | ${ratio.toFixed(2).padStart(5)}  >= ${goal} ${ratio >= goal ? 'met' : 'NOT met'}${errors ? `  (${errors} non-2xx/errors!)` : ''}`,
      )
    }
  } finally {
    await pgdb?.drop()
    rmSync(dir, { recursive: true, force: true })
  }
}

await bench('sqlite')
if (PG_URL) await bench('postgres')
else console.log('\nPostgreSQL skipped: set GALLEY_TEST_PG_URL to include it')

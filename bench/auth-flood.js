#!/usr/bin/env node
// Login flood (RELIABILITY T9): p99 of GET /api/health and of a record list, idle and during 200
// wrong-password sign-ins a second, with the brute-force guard's defaults and with the guard off
// (argon2 really runs; only the bounded hash concurrency protects the rest). Goal: flood p99 within
// 2x idle p99 (floor 5 ms). The load runs in its own process (bench/auth-flood-client.js).
// Usage: npm run bench:auth-flood [-- --seconds 5]; PostgreSQL too when GALLEY_TEST_PG_URL (or
// GALLEY_BENCH_PG_URL) is set. Loopback only; each phase is at most 10 s.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BIN, createPgDatabase, PG_URL, run, serve } from './galley-process.js'

const CLIENT = fileURLToPath(new URL('./auth-flood-client.js', import.meta.url))
const i = process.argv.indexOf('--seconds')
const SECONDS = Math.min(i > 0 ? Number(process.argv[i + 1]) : 5, 10)
const EMAIL = 'bench@example.com'
const PASSWORD = 'bench password 1'
const FLOOR_MS = 5

function client(url) {
  const opts = {
    url,
    listPath: '/api/collections/posts/records?perPage=30',
    seconds: SECONDS,
    rate: 200,
    probeEveryMs: 5,
  }
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [CLIENT, JSON.stringify(opts)], { timeout: 120_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
    ),
  )
}

async function api(url, method, path, token, body) {
  const res = await fetch(url + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: token } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  return res.json()
}

function report(kind, label, r) {
  for (const k of ['health', 'list']) {
    const idle = r.idle[k].p99
    const flood = r.flood[k].p99
    const ok = flood <= 2 * Math.max(idle, FLOOR_MS)
    console.log(
      `${kind.padEnd(8)} ${label.padEnd(9)} ${k.padEnd(6)} p99 idle ${String(idle).padStart(6)} ms  flood ${String(flood).padStart(6)} ms  ` +
        `(p50 ${r.idle[k].p50} -> ${r.flood[k].p50})  ${ok ? 'within 2x' : 'OVER 2x'}`,
    )
  }
  console.log(
    `${kind.padEnd(8)} ${label.padEnd(9)} sign-in answers ${JSON.stringify(r.flood.flood.statuses)}`,
  )
}

async function bench(kind) {
  const dir = mkdtempSync(join(tmpdir(), 'galley-bench-'))
  const pgdb = kind === 'postgres' ? await createPgDatabase() : undefined
  const where = pgdb ? ['--db', pgdb.url] : ['--dir', dir]
  try {
    await run([BIN, 'superuser', 'upsert', EMAIL, PASSWORD, ...where])
    const galley = await serve([BIN, 'serve', '--http', '127.0.0.1:0', '--log-level', 'error', ...where])
    try {
      const { token } = await api(galley.url, 'POST', '/api/collections/_superusers/auth-with-password', '', {
        identity: EMAIL,
        password: PASSWORD,
      })
      await api(galley.url, 'POST', '/api/collections', token, {
        name: 'posts',
        listRule: '',
        fields: [{ name: 'title', type: 'text' }],
      })
      for (let n = 0; n < 100; n++)
        await api(galley.url, 'POST', '/api/collections/posts/records', token, { title: `post ${n}` })
      report(kind, 'guard on', await client(galley.url))
      await api(galley.url, 'PATCH', '/api/settings', token, { bruteForce: { enabled: false } })
      report(kind, 'guard off', await client(galley.url))
    } finally {
      await galley.stop()
    }
  } finally {
    await pgdb?.drop()
    rmSync(dir, { recursive: true, force: true })
  }
}

await bench('sqlite')
if (PG_URL) await bench('postgres')

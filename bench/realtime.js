#!/usr/bin/env node
// Realtime fan-out and sustained delivery (issue 5). Galley runs as a separate process from dist/
// on SQLite (and on PostgreSQL when GALLEY_BENCH_PG_URL or GALLEY_TEST_PG_URL is set). A collection
// whose listRule is evaluated per subscriber (`@request.auth.id != "" || public = true`); half the
// subscribers are guests, half signed in as one of BENCH_RT_USERS users.
//   1. one event fanned out to 10,000 WebSocket subscribers, then to 1,000 SSE subscribers:
//      p50/p99 delivery latency (from just before the create request), deliveries/s, server RSS;
//   2. sustained writes (200/s) for BENCH_RT_SECONDS (default 60) with 1,000 subscribers (500 WS,
//      500 SSE): every write that a subscriber may see must reach it once (100% delivered).
// The server allows 100 realtime connections per address: clients connect from many loopback
// addresses (127.0.x.y with `localAddress`). Every wait and loop is bounded in time and count.
// Usage: npm run bench:realtime  (env: BENCH_RT_WS, BENCH_RT_SSE, BENCH_RT_USERS, BENCH_RT_RATE,
// BENCH_RT_SECONDS, BENCH_RT_SUSTAINED)
import { request } from 'node:http'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'
import { BIN, createPgDatabase, PG_URL, run, serve } from './galley-process.js'

const env = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback)
const WS_SUBSCRIBERS = env('BENCH_RT_WS', 10_000)
const SSE_SUBSCRIBERS = env('BENCH_RT_SSE', 1000)
const USERS = env('BENCH_RT_USERS', 100)
const RATE = env('BENCH_RT_RATE', 200)
const SECONDS = env('BENCH_RT_SECONDS', 60)
const SUSTAINED = env('BENCH_RT_SUSTAINED', 1000)
const PER_ADDRESS = 100
const EMAIL = 'bench@example.com'
const PASSWORD = 'bench password 1'
const TOPIC = 'items/*'
const TITLE = /"title":"w(\d+)"/

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
async function until(check, what, ms) {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(20)
  }
}
const pct = (sorted, p) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : NaN
const rssMiB = (pid) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Math.round(Number(m[1]) / 1024) : NaN
}
/** CPU time (user + system) the process has used, in ms (clock ticks of 10 ms). */
const cpuMs = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}
/** The loopback address of the i-th client of a group: 100 clients per address. */
const address = (group, i) => {
  const n = 2 + Math.floor(i / PER_ADDRESS)
  return `127.${group}.${Math.floor(n / 250)}.${(n % 250) + 1}`
}

/** Runs `fn` over 0..n-1 with at most `width` at once. */
async function pool(n, width, fn) {
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) await fn(next++)
    }),
  )
}

async function api(base, method, path, token, body) {
  const ac = new AbortController()
  const timer = setTimeout(() => ac.abort(), 30_000)
  let res, text
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: token } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: ac.signal,
    })
    text = await res.text()
  } finally {
    clearTimeout(timer)
  }
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`)
  return text ? JSON.parse(text) : undefined
}

/** A subscriber: `onTitle(seq)` for each event frame of the topic; `close()`. */
function wsSubscriber(base, localAddress, token, onTitle) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/api/realtime/ws`, {
      localAddress,
      perMessageDeflate: false,
    })
    const timer = setTimeout(() => (ws.terminate(), reject(new Error('ws: no subscription in 30 s'))), 30_000)
    let stage = 0
    const sub = { closed: false, close: () => ws.terminate() }
    ws.on('close', () => (sub.closed = true))
    ws.on('error', (err) => (stage < 3 ? (clearTimeout(timer), reject(err)) : undefined))
    ws.on(
      'unexpected-response',
      (_q, res) => (clearTimeout(timer), reject(new Error(`ws: ${res.statusCode}`))),
    )
    ws.on('message', (data) => {
      const raw = data.toString()
      if (stage === 3) {
        const m = TITLE.exec(raw)
        if (m) onTitle(Number(m[1]))
        return
      }
      const msg = JSON.parse(raw)
      if (msg.type === 'error') return (clearTimeout(timer), ws.terminate(), reject(new Error(raw)))
      if (stage === 0 && msg.type === 'connected') {
        stage = 1
        if (token) ws.send(JSON.stringify({ type: 'auth', token }))
        else stage = 2
      } else if (stage === 1 && msg.type === 'ok') stage = 2
      if (stage === 2) {
        stage = 2.5
        ws.send(JSON.stringify({ type: 'subscribe', topics: [TOPIC] }))
      } else if (stage === 2.5 && msg.type === 'ok') {
        stage = 3
        clearTimeout(timer)
        resolve(sub)
      }
    })
  })
}

function sseSubscriber(base, localAddress, token, onTitle) {
  const url = new URL(base)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('sse: no subscription in 30 s')), 30_000)
    const sub = { closed: false, close: () => req.destroy() }
    const req = request(
      { host: url.hostname, port: url.port, path: '/api/realtime', localAddress, agent: false },
      (res) => {
        if (res.statusCode !== 200) return (clearTimeout(timer), reject(new Error(`sse: ${res.statusCode}`)))
        res.setEncoding('utf8')
        let buf = ''
        let clientId = ''
        res.on('close', () => (sub.closed = true))
        res.on('data', (chunk) => {
          buf += chunk
          let i
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const frame = buf.slice(0, i)
            buf = buf.slice(i + 2)
            if (clientId) {
              const m = TITLE.exec(frame)
              if (m) onTitle(Number(m[1]))
              continue
            }
            const id = /^id:(.*)$/m.exec(frame)
            if (!id) continue
            clientId = id[1]
            const body = JSON.stringify({ clientId, subscriptions: [TOPIC] })
            const post = request(
              {
                host: url.hostname,
                port: url.port,
                path: '/api/realtime',
                method: 'POST',
                localAddress,
                agent: false,
                headers: { 'content-type': 'application/json', ...(token ? { authorization: token } : {}) },
              },
              (r) => {
                r.resume()
                clearTimeout(timer)
                if (r.statusCode === 204) resolve(sub)
                else reject(new Error(`sse subscribe: ${r.statusCode}`))
              },
            )
            post.on('error', (err) => (clearTimeout(timer), reject(err)))
            post.end(body)
          }
        })
      },
    )
    req.on('error', (err) => (clearTimeout(timer), reject(err)))
    req.end()
  })
}

async function openSubscribers(kind, base, n, group, tokens, onTitle) {
  const subs = new Array(n)
  const started = Date.now()
  await pool(n, 100, async (i) => {
    const token = i % 2 === 1 ? tokens[i % tokens.length] : undefined
    const open = kind === 'ws' ? wsSubscriber : sseSubscriber
    subs[i] = await open(base, address(group, i), token, (seq) => onTitle(i, seq))
  })
  console.log(
    `  ${n} ${kind} subscribers connected and subscribed in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  )
  return subs
}

/** Phase 1: one public record fanned out to every subscriber. */
async function fanOut(label, kind, g, n, group, tokens, su) {
  const times = new Float64Array(n).fill(-1)
  let seq = -1
  let t0 = 0
  let got = 0
  const subs = await openSubscribers(kind, g.url, n, group, tokens, (i, s) => {
    if (s === seq && times[i] < 0) {
      times[i] = performance.now() - t0
      got++
    }
  })
  const rssBefore = rssMiB(g.pid)
  seq = 1_000_000 + group
  const cpu0 = cpuMs(g.pid)
  t0 = performance.now()
  await api(g.url, 'POST', '/api/collections/items/records', su, { title: `w${seq}`, public: true })
  await until(() => got === n, `${n} deliveries`, 60_000).catch((err) => console.log(`  ${err.message}`))
  const sorted = Array.from(times)
    .filter((t) => t >= 0)
    .sort((a, b) => a - b)
  const last = sorted[sorted.length - 1] ?? NaN
  const row = {
    scenario: label,
    subscribers: n,
    delivered: got,
    p50_ms: Math.round(pct(sorted, 0.5)),
    p99_ms: Math.round(pct(sorted, 0.99)),
    max_ms: Math.round(last),
    deliveries_per_s: Math.round(got / (last / 1000)),
    server_cpu_ms: cpuMs(g.pid) - cpu0,
    rss_mib_before: rssBefore,
    rss_mib_after: rssMiB(g.pid),
  }
  for (const s of subs) s.close()
  return row
}

/** Phase 2: RATE writes/s for SECONDS; alternately public and private (guests see half). */
async function sustained(g, tokens, su) {
  const total = Math.round(RATE * SECONDS)
  const half = Math.floor(SUSTAINED / 2)
  const seen = Array.from({ length: SUSTAINED }, () => new Uint8Array(total))
  const counts = new Int32Array(SUSTAINED)
  let duplicates = 0
  const sentAt = new Float64Array(total)
  // acknowledged writes must all arrive; a failed request may or may not have committed
  const acked = new Uint8Array(total)
  const histogram = new Uint32Array(60_001)
  const onTitle = (offset) => (i, s) => {
    const k = i + offset
    if (s >= total) return
    if (seen[k][s]) duplicates++
    else {
      seen[k][s] = 1
      counts[k]++
      histogram[Math.min(60_000, Math.round(performance.now() - sentAt[s]))]++
    }
  }
  const subs = [
    ...(await openSubscribers('ws', g.url, half, 3, tokens, onTitle(0))),
    ...(await openSubscribers('sse', g.url, SUSTAINED - half, 4, tokens, onTitle(half))),
  ]
  const guest = (k) => (k < half ? k : k - half) % 2 === 0
  const started = performance.now()
  let sent = 0
  let failed = 0
  const inflight = new Set()
  // paced: write s leaves at started + s / RATE seconds; at most 64 requests in flight
  while (sent < total && performance.now() - started < SECONDS * 1000) {
    const due = started + (sent * 1000) / RATE
    const wait = due - performance.now()
    if (wait > 1) await sleep(Math.min(wait, started + SECONDS * 1000 - performance.now()))
    if (inflight.size >= 64) {
      await Promise.race(inflight)
      continue
    }
    const s = sent++
    sentAt[s] = performance.now()
    const p = api(g.url, 'POST', '/api/collections/items/records', su, {
      title: `w${s}`,
      public: s % 2 === 0,
    })
      .then(() => (acked[s] = 1))
      .catch(() => failed++)
      .finally(() => inflight.delete(p))
    inflight.add(p)
  }
  await Promise.all(inflight)
  const elapsed = (performance.now() - started) / 1000
  let want = 0
  for (let k = 0; k < SUSTAINED; k++)
    for (let s = 0; s < sent; s++) if (acked[s] && (!guest(k) || s % 2 === 0)) want++
  const delivered = () => counts.reduce((a, b) => a + b, 0)
  const deliveredAcked = () => {
    let n = 0
    for (let k = 0; k < SUSTAINED; k++) for (let s = 0; s < sent; s++) if (acked[s]) n += seen[k][s]
    return n
  }
  await until(() => delivered() >= want, 'the last deliveries', 60_000).catch(() => {})
  let cum = 0
  const total_h = delivered()
  const got = deliveredAcked()
  const q = (p) => {
    cum = 0
    for (let ms = 0; ms < histogram.length; ms++) if ((cum += histogram[ms]) >= total_h * p) return ms
    return NaN
  }
  const row = {
    scenario: `sustained ${RATE}/s`,
    subscribers: SUSTAINED,
    writes: sent,
    write_errors: failed,
    writes_per_s: Math.round(sent / elapsed),
    expected: want,
    delivered: got,
    delivered_pct: Number(((100 * got) / want).toFixed(3)),
    duplicates,
    dropped_connections: subs.filter((s) => s.closed).length,
    p50_ms: q(0.5),
    p99_ms: q(0.99),
    rss_mib: rssMiB(g.pid),
  }
  for (const s of subs) s.close()
  return row
}

async function bench(label, where) {
  await run([BIN, 'superuser', 'upsert', EMAIL, PASSWORD, ...where])
  const g = await serve([BIN, 'serve', '--http', '127.0.0.1:0', '--log-level', 'warn', ...where])
  try {
    const { token: su } = await api(
      g.url,
      'POST',
      '/api/collections/_superusers/auth-with-password',
      undefined,
      {
        identity: EMAIL,
        password: PASSWORD,
      },
    )
    await api(g.url, 'POST', '/api/collections', su, {
      name: 'items',
      type: 'base',
      listRule: '@request.auth.id != "" || public = true',
      viewRule: '@request.auth.id != "" || public = true',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'public', type: 'bool' },
      ],
    })
    const tokens = []
    await pool(USERS, 10, async (i) => {
      const pw = 'user password 12345'
      const u = await api(g.url, 'POST', '/api/collections/users/records', su, {
        email: `u${i}@example.com`,
        password: pw,
        passwordConfirm: pw,
      })
      tokens[i] = (
        await api(g.url, 'POST', `/api/collections/users/impersonate/${u.id}`, su, { duration: 3600 })
      ).token
    })
    console.log(`\n${label}: server pid ${g.pid}, RSS ${rssMiB(g.pid)} MiB idle, ${USERS} users`)
    const rows = []
    rows.push(await fanOut('fan-out WebSocket', 'ws', g, WS_SUBSCRIBERS, 1, tokens, su))
    await sleep(2000)
    rows.push(await fanOut('fan-out SSE', 'sse', g, SSE_SUBSCRIBERS, 2, tokens, su))
    await sleep(2000)
    console.table(rows)
    const s = await sustained(g, tokens, su)
    console.table([s])
    return [...rows, s]
  } finally {
    await g.stop()
  }
}

const dir = mkdtempSync(join(tmpdir(), 'galley-bench-rt-'))
const hardStop = setTimeout(
  () => {
    console.error('bench: hard time limit reached')
    process.exit(2)
  },
  (SECONDS + 600) * 1000,
)
hardStop.unref()
try {
  await bench('SQLite', ['--dir', join(dir, 'sqlite')])
  if (PG_URL && (process.env.GALLEY_BENCH_PG_URL || process.argv.includes('--pg'))) {
    const pgdb = await createPgDatabase()
    try {
      await bench('PostgreSQL', ['--dir', join(dir, 'pg'), '--db', pgdb.url])
    } finally {
      await pgdb.drop()
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
process.exit(0)

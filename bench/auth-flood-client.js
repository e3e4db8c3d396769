#!/usr/bin/env node
// The load side of the login-flood measurement (RELIABILITY T9), run in its own process so the
// server's event loop serves only: canary requests (GET /api/health and a record list, one at a
// time each, every `probeEveryMs`) are timed idle, then again during an open-loop flood of
// password sign-ins with wrong passwords and rotating identities at `rate` per second.
// Usage: node bench/auth-flood-client.js '<json options>'; prints one JSON result line.
// Options: { url, listPath, seconds (per phase, <= 10), rate, maxInFlight, probeEveryMs }.
import http from 'node:http'

const opts = JSON.parse(process.argv[2] ?? '{}')
const url = new URL(opts.url)
const SECONDS = Math.min(Number(opts.seconds ?? 5), 10)
const RATE = Number(opts.rate ?? 200)
const MAX_IN_FLIGHT = Number(opts.maxInFlight ?? 256)
const PROBE_EVERY_MS = Number(opts.probeEveryMs ?? 20)

const probeAgent = new http.Agent({ keepAlive: true, maxSockets: 2 })
const floodAgent = new http.Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT })

function request(agent, method, path, body) {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const headers = payload
      ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
      : {}
    const start = process.hrtime.bigint()
    const req = http.request(
      { host: url.hostname, port: url.port, method, path, agent, headers, timeout: 30_000 },
      (res) => {
        res.resume()
        res.on('end', () =>
          resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - start) / 1e6 }),
        )
      },
    )
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', () => resolve({ status: 0, ms: Number(process.hrtime.bigint() - start) / 1e6 }))
    req.end(payload)
  })
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function summary(samples) {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b)
  const at = (q) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? NaN
  const round = (v) => Math.round(v * 100) / 100
  return {
    n: ms.length,
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    max: round(ms[ms.length - 1] ?? NaN),
    errors: samples.filter((s) => s.status !== 200).length,
  }
}

/** One endpoint probed one request at a time until `until`. */
async function probe(path, until) {
  const samples = []
  while (Date.now() < until) {
    samples.push(await request(probeAgent, 'GET', path))
    await sleep(PROBE_EVERY_MS)
  }
  return samples
}

async function phase(withFlood) {
  const until = Date.now() + SECONDS * 1000
  const statuses = {}
  let inFlight = 0
  let sent = 0
  let skipped = 0
  const flood = withFlood
    ? (async () => {
        const start = Date.now()
        const pending = new Set()
        while (Date.now() < until) {
          // Open loop: the schedule does not wait for answers (bounded in flight).
          const due = Math.floor(((Date.now() - start) / 1000) * RATE)
          while (sent + skipped < due) {
            if (inFlight >= MAX_IN_FLIGHT) {
              skipped++
              continue
            }
            const i = sent++
            inFlight++
            const body = { identity: `flood${i % 997}@example.com`, password: `wrong ${i}` }
            const p = request(floodAgent, 'POST', '/api/collections/users/auth-with-password', body).then(
              (r) => {
                inFlight--
                statuses[r.status] = (statuses[r.status] ?? 0) + 1
                pending.delete(p)
              },
            )
            pending.add(p)
          }
          await sleep(2)
        }
        await Promise.all(pending)
      })()
    : Promise.resolve()
  // Let the flood build up before measuring.
  if (withFlood) await sleep(Math.min(1000, SECONDS * 200))
  const [health, list] = await Promise.all([probe('/api/health', until), probe(opts.listPath, until)])
  await flood
  return {
    health: summary(health),
    list: summary(list),
    ...(withFlood ? { flood: { sent, skipped, statuses } } : {}),
  }
}

// Warm up both endpoints (JIT, statement caches), then measure.
await probe('/api/health', Date.now() + 300)
await probe(opts.listPath, Date.now() + 300)
const idle = await phase(false)
const flood = await phase(true)
process.stdout.write(`${JSON.stringify({ idle, flood })}\n`)
probeAgent.destroy()
floodAgent.destroy()

/**
 * Login flood (RELIABILITY T9, API4): while 200 wrong-password sign-ins a second hit Galley, the p99
 * of GET /api/health and of a record list stays within 2x its idle p99 (floor 5 ms: sub-millisecond
 * idle figures are noise). Twice: with the brute-force guard's defaults (one client, so nearly all
 * are refused before hashing) and with the guard off, so argon2 really runs and only the bounded
 * hash concurrency protects the rest. The load runs in its own process (bench/auth-flood-client.js)
 * so the server's event loop serves only. The machine is shared: a measurement is repeated up to
 * three times and passes if one run meets the bound (noise only ever slows a run down; a starved
 * event loop fails every run). `npm run bench:auth-flood` prints the same figures on demand.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HASH_CONCURRENCY } from '../src/auth/index.js'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'

const CLIENT = fileURLToPath(new URL('../bench/auth-flood-client.js', import.meta.url))
const FLOOR_MS = 5
const SECONDS = 5

interface Summary {
  n: number
  p50: number
  p99: number
  max: number
  errors: number
}
interface Result {
  idle: { health: Summary; list: Summary }
  flood: {
    health: Summary
    list: Summary
    flood: { sent: number; skipped: number; statuses: Record<string, number> }
  }
}

function measure(url: string): Promise<Result> {
  const opts = {
    url,
    listPath: '/api/collections/posts/records?perPage=30',
    seconds: SECONDS,
    rate: 200,
    probeEveryMs: 5,
  }
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLIENT, JSON.stringify(opts)], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`))
      else resolve(JSON.parse(stdout) as Result)
    })
  })
}

const within = (r: Result) =>
  (['health', 'list'] as const).every((k) => r.flood[k].p99 <= 2 * Math.max(r.idle[k].p99, FLOOR_MS))

const line = (r: Result) =>
  (['health', 'list'] as const)
    .map(
      (k) =>
        `${k} p99 idle ${r.idle[k].p99} ms -> flood ${r.flood[k].p99} ms (p50 ${r.idle[k].p50} -> ${r.flood[k].p50})`,
    )
    .join('; ') + `; flood ${JSON.stringify(r.flood.flood)}`

// A timing test: SQLite only (the database is not what it measures); the bench covers PostgreSQL.
const sqlite = DB_KINDS.find((d) => d.kind === 'sqlite')!

describe.skipIf(sqlite.skip)('login flood', () => {
  let store: TestStore
  let g: RunningGalley

  beforeAll(async () => {
    store = await createStore('sqlite')
    g = await startGalley(store)
    const su = await g.asSuperuser()
    await su.collections.create({
      name: 'posts',
      type: 'base',
      fields: [{ name: 'title', type: 'text' }],
      listRule: '',
    })
    for (let i = 0; i < 100; i++) await su.collection('posts').create({ title: `post ${i}` })
  })
  afterAll(async () => {
    await g?.close()
    await store?.cleanup()
  })

  async function run(label: string, check: (r: Result) => void) {
    const runs: Result[] = []
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await measure(g.url)
      runs.push(r)
      console.log(
        `[login flood, ${label}, hash concurrency ${HASH_CONCURRENCY}] run ${attempt + 1}: ${line(r)}`,
      )
      check(r)
      if (within(r)) break
    }
    expect(runs.some(within), runs.map(line).join('\n')).toBe(true)
  }

  it(
    'with the brute-force defaults: refused before hashing, canaries unaffected',
    { timeout: 120_000 },
    async () => {
      await run('guard on', (r) => {
        const s = r.flood.flood.statuses
        expect(r.idle.health.errors + r.idle.list.errors + r.flood.health.errors + r.flood.list.errors).toBe(
          0,
        )
        // One client: at most 60 attempts a minute get past the guard.
        expect(s['400'] ?? 0).toBeLessThanOrEqual(60)
        expect(s['429'] ?? 0).toBeGreaterThan(0)
      })
    },
  )

  it(
    'with the guard off, argon2 runs: bounded hashing keeps canaries within 2x',
    { timeout: 120_000 },
    async () => {
      await g.galley.settings.update({ bruteForce: { enabled: false } })
      try {
        await run('guard off', (r) => {
          expect(
            r.idle.health.errors + r.idle.list.errors + r.flood.health.errors + r.flood.list.errors,
          ).toBe(0)
          // Hashing really happened (answers of "Failed to authenticate."), and the hash queue's
          // overflow was refused with 429s rather than queued without bound.
          expect(r.flood.flood.statuses['400'] ?? 0).toBeGreaterThan(50)
        })
      } finally {
        await g.galley.settings.update({ bruteForce: { enabled: true } })
      }
    },
  )
})

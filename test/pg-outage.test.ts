import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import PocketBase from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SU_EMAIL, SU_PASSWORD } from './helpers/galley.js'
import { createPgDatabase, PG_URL } from './helpers/pg.js'
import { runCli, startServe, type GalleyProcess } from './helpers/process.js'
import { createTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js'

/** Once the database is gone, every request must be a 503 within this long. */
const FAIL_FAST_MS = 2000
/** No request may take longer than this, during the outage or not. */
const MAX_LATENCY_MS = 2500
/** After the database is back, requests must succeed again within this long. */
const RECOVERY_MS = 5000
const LOOPS = 10
/** Per loop; with the time bounds below the load always ends. */
const MAX_REQUESTS_PER_LOOP = 5000

const UNAVAILABLE = {
  status: 503,
  message: 'The service is temporarily unavailable. Please try again later.',
  data: {},
}

interface Sample {
  readonly path: string
  /** ms since the load started. */
  readonly start: number
  readonly end: number
  readonly status: number | 'error'
  readonly body: unknown
}

/** `fetch` bounded in time: a hang shows as status 'error' with the abort as body. */
async function timedGet(base: string, path: string, token: string, t0: number): Promise<Sample> {
  const start = performance.now() - t0
  try {
    const res = await fetch(`${base}${path}`, {
      headers: token ? { authorization: token } : {},
      signal: AbortSignal.timeout(MAX_LATENCY_MS + 2000),
    })
    const text = await res.text()
    let body: unknown = text
    try {
      body = JSON.parse(text)
    } catch {
      // not JSON: kept as text, the assertions will show it
    }
    return { path, start, end: performance.now() - t0, status: res.status, body }
  } catch (err) {
    return { path, start, end: performance.now() - t0, status: 'error', body: String(err) }
  }
}

function pgTarget(url: string): { host: string; port: number } {
  const u = new URL(url)
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || 5432) }
}

function viaProxy(url: string, proxy: TcpProxy): string {
  const u = new URL(url)
  u.hostname = '127.0.0.1'
  u.port = String(proxy.port)
  return u.toString()
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.skipIf(!PG_URL)('PostgreSQL going away and coming back (through a TCP proxy)', () => {
  let db: Awaited<ReturnType<typeof createPgDatabase>>
  let proxy: TcpProxy
  let dir: string
  let server: GalleyProcess | undefined
  /** Every process started here, so a failed test never leaves one running. */
  const started: GalleyProcess[] = []
  const serve = async (args: string[]) => {
    const p = await startServe(args)
    started.push(p)
    return p
  }

  beforeAll(async () => {
    db = await createPgDatabase()
    proxy = await createTcpProxy(pgTarget(db.url))
    dir = mkdtempSync(join(tmpdir(), 'galley-outage-'))
    const su = await runCli(['superuser', 'upsert', SU_EMAIL, SU_PASSWORD, '--db', db.url])
    expect(su.code).toBe(0)
  })

  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop('SIGKILL')))
    await proxy?.stop()
    await db?.drop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('answers 503 fast while the database is down, never 500, and recovers by itself', async () => {
    server = await serve(['--dir', dir, '--db', viaProxy(db.url, proxy)])
    const pb = new PocketBase(server.url)
    const { token } = await pb.collection('_superusers').authWithPassword(SU_EMAIL, SU_PASSWORD)
    const url = server.url

    const t0 = performance.now()
    const now = () => performance.now() - t0
    const samples: Sample[] = []
    let stopLoad = false
    const deadline = 40_000
    const loop = async (path: string, auth = token) => {
      for (let i = 0; i < MAX_REQUESTS_PER_LOOP && !stopLoad && now() < deadline; i++) {
        samples.push(await timedGet(url, path, auth, t0))
        await sleep(10)
      }
    }
    const load = Promise.all([
      ...Array.from({ length: LOOPS }, () => loop('/api/collections?perPage=5')),
      // A load balancer's probe (no token) and the dashboard's (a superuser token).
      loop('/api/health', ''),
      loop('/api/health'),
    ])

    try {
      await sleep(1000)
      const downAt = now()
      await proxy.stop()
      expect(proxy.connections()).toBe(0)
      // Long enough for the 2 s bound and for the 1.5 s pool connect timeout to show up if hit.
      await sleep(FAIL_FAST_MS + 2000)
      expect(server.child.exitCode, server.output().slice(-3000)).toBeNull()
      const upAt = now()
      await proxy.start()
      // Poll until a request started after the restart succeeds, then keep the load a while.
      let recoveredAt: number | undefined
      while (now() < upAt + RECOVERY_MS + 1000) {
        const ok = samples.find((s) => s.path !== '/api/health' && s.start >= upAt && s.status === 200)
        if (ok) {
          recoveredAt = ok.end
          break
        }
        await sleep(50)
      }
      await sleep(1500)
      stopLoad = true
      await load

      const api = samples.filter((s) => s.path !== '/api/health')
      const health = samples.filter((s) => s.path === '/api/health')
      const before = api.filter((s) => s.end < downAt)
      const during = api.filter((s) => s.start >= downAt && s.end < upAt)
      const settled = during.filter((s) => s.start >= downAt + FAIL_FAST_MS)
      const failed503 = during.filter((s) => s.status === 503)
      const first503 = failed503.length > 0 ? Math.min(...failed503.map((s) => s.end)) - downAt : NaN
      const last200 = Math.max(0, ...during.filter((s) => s.status === 200).map((s) => s.end - downAt))
      const stableAfter = recoveredAt === undefined ? [] : api.filter((s) => s.start >= recoveredAt! + 500)
      const latency = (list: Sample[]) => Math.max(0, ...list.map((s) => s.end - s.start))
      const stats = {
        requests: samples.length,
        'ok before outage': before.filter((s) => s.status === 200).length,
        'during outage: 503': failed503.length,
        'during outage: 200 (already in flight or pooled)': during.filter((s) => s.status === 200).length,
        'first 503 after db down (ms)': Math.round(first503),
        'last 200 after db down (ms)': Math.round(last200),
        'max latency of a 503 (ms)': Math.round(latency(failed503)),
        'max latency of any request (ms)': Math.round(latency(samples)),
        'recovery after db up (ms)': recoveredAt === undefined ? 'never' : Math.round(recoveredAt - upAt),
        'statuses seen': [...new Set(samples.map((s) => s.status))].sort(),
      }
      console.log('pg outage through the proxy:', stats)

      // Never a 500 or a hang, never slower than the bound; health is not tied to the database.
      expect(samples.filter((s) => s.status !== 200 && s.status !== 503)).toEqual([])
      expect(latency(samples)).toBeLessThan(MAX_LATENCY_MS)
      expect(health.length).toBeGreaterThan(20)
      expect(health.filter((s) => s.status !== 200)).toEqual([])
      expect(before.length).toBeGreaterThan(0)
      expect(before.every((s) => s.status === 200)).toBe(true)
      // Within 2 s of the database going away, every request is a 503 in PocketBase's shape.
      expect(settled.length).toBeGreaterThan(LOOPS)
      for (const s of settled) expect(s).toMatchObject({ status: 503, body: UNAVAILABLE })
      for (const s of failed503) expect(s.body).toEqual(UNAVAILABLE)
      expect(last200).toBeLessThan(FAIL_FAST_MS)
      // Back without a restart.
      expect(recoveredAt).toBeDefined()
      expect(recoveredAt! - upAt).toBeLessThan(RECOVERY_MS)
      expect(stableAfter.length).toBeGreaterThan(LOOPS)
      expect(stableAfter.every((s) => s.status === 200)).toBe(true)
      expect(server.child.exitCode).toBeNull()
      // 503s are logged (level 50, one per request); nothing fatal, nothing uncaught.
      expect(/"level":60|uncaught|unhandled/i.test(server.output())).toBe(false)
    } finally {
      stopLoad = true
      await load
      await proxy.start()
    }

    // The caches follow changes again after the outage (the listener reconnected too).
    const pb2 = new PocketBase(url)
    pb2.autoCancellation(false)
    pb2.authStore.save(token, null)
    await pb2.collections.create({ name: 'after_outage', type: 'base' })
    expect((await pb2.collections.getOne('after_outage')).name).toBe('after_outage')
    expect(await server.stop()).toBe(0)
    server = undefined
  })

  it('a change made while the database was away is seen after it returns', async () => {
    // Another instance (direct connection) changes settings while ours cannot hear the NOTIFY.
    server = await serve(['--dir', dir, '--db', viaProxy(db.url, proxy)])
    const pb = new PocketBase(server.url)
    pb.autoCancellation(false)
    await pb.collection('_superusers').authWithPassword(SU_EMAIL, SU_PASSWORD)
    await proxy.stop()
    const other = await serve(['--dir', `${dir}-other`, '--db', db.url])
    try {
      const pbOther = new PocketBase(other.url)
      pbOther.autoCancellation(false)
      await pbOther.collection('_superusers').authWithPassword(SU_EMAIL, SU_PASSWORD)
      await pbOther.settings.update({ meta: { appName: 'changed during the outage' } })
      await pbOther.collections.create({ name: 'made_during_outage', type: 'base' })
    } finally {
      expect(await other.stop()).toBe(0)
      rmSync(`${dir}-other`, { recursive: true, force: true })
    }
    await proxy.start()
    const upAt = performance.now()
    let seen = false
    while (!seen && performance.now() - upAt < RECOVERY_MS) {
      try {
        const s = await pb.settings.getAll()
        const c = await pb.collections.getOne('made_during_outage')
        seen = s.meta.appName === 'changed during the outage' && c.name === 'made_during_outage'
      } catch {
        // 503 until the pool reconnects, 404 until the cache reloads
      }
      if (!seen) await sleep(50)
    }
    console.log(
      'caught up with changes missed during the outage after (ms):',
      Math.round(performance.now() - upAt),
    )
    expect(seen).toBe(true)
    expect(await server.stop()).toBe(0)
    server = undefined
  })

  it('refuses to start while the database is unreachable: one clear line, non-zero exit', async () => {
    await proxy.stop()
    try {
      const started = performance.now()
      const r = await runCli([
        'serve',
        '--http',
        '127.0.0.1:0',
        '--dir',
        dir,
        '--db',
        viaProxy(db.url, proxy),
      ])
      const ms = Math.round(performance.now() - started)
      console.log(`start with the database down: exit ${r.code} after ${ms} ms: ${r.stderr.trim()}`)
      expect(r.code).not.toBe(0)
      expect(r.code).not.toBeNull()
      expect(r.stdout).not.toMatch(/serving on/)
      const lines = r.stderr.trim().split('\n')
      expect(lines).toHaveLength(1)
      // Names the database it could not reach (host, port and name; never the credentials).
      expect(lines[0]).toMatch(
        new RegExp(
          `^galley: cannot start: PostgreSQL 127\\.0\\.0\\.1:${proxy.port}/${db.name}: connect ECONNREFUSED`,
        ),
      )
      expect(r.stderr + r.stdout).not.toMatch(/\n\s+at /)
      expect(ms).toBeLessThan(10_000)
    } finally {
      await proxy.start()
    }
  })
})

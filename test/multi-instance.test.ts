import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import PocketBase from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SU_EMAIL, SU_PASSWORD } from './helpers/galley.js'
import { createPgDatabase, PG_URL } from './helpers/pg.js'
import { runCli, startServe, type GalleyProcess } from './helpers/process.js'

/** Every migration a fresh database gets, in name order. */
const MIGRATIONS = [
  '0001_system_tables',
  '0002_system_collections',
  '0003_otp_attempts',
  '0004_realtime_events',
]

const POLL_MS = 50
const PROPAGATION_LIMIT_MS = 1000
/** PgListener retries every 500 ms; a reconnect plus the reload it triggers fits well in this. */
const RECONNECT_LIMIT_MS = 5000
/** B's listener connection gets this application_name (the pool sets its own, `galley`). */
const B_LISTENER_APP = 'galley-test-listener-b'

type PgDb = Awaited<ReturnType<typeof createPgDatabase>>

function client(url: string, token: string): PocketBase {
  const pb = new PocketBase(url)
  pb.autoCancellation(false)
  pb.authStore.save(token, null)
  return pb
}

async function withPg<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return await fn(c)
  } finally {
    await c.end()
  }
}

/** pino JSON lines of a process's output. */
function logLines(out: string): { level: number; msg: string; migrations?: string[] }[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; msg: string; migrations?: string[] })
}

/** Polls `check` every 50 ms until it is true; returns the elapsed ms, or throws after `limitMs` (+ one poll). */
async function timeUntil(check: () => Promise<boolean>, limitMs: number, what: string): Promise<number> {
  const start = performance.now()
  for (;;) {
    if (await check()) return Math.round(performance.now() - start)
    if (performance.now() - start > limitMs + POLL_MS)
      throw new Error(`${what}: not seen within ${limitMs} ms`)
    await new Promise((r) => setTimeout(r, POLL_MS))
  }
}

async function status(url: string, path: string, token: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}${path}`, { headers: { authorization: token } })
  return { status: res.status, body: await res.json() }
}

/** Each instance gets its own data directory, as separate hosts would; they share only the database. */
const dirs: string[] = []
const serve = (db: PgDb, env: NodeJS.ProcessEnv = {}) => {
  const dir = mkdtempSync(join(tmpdir(), 'galley-multi-'))
  dirs.push(dir)
  return startServe(['--dir', dir, '--db', db.url, '--log-level', 'info'], env)
}

describe.skipIf(!PG_URL)('two instances on one PostgreSQL database', () => {
  const measured: Record<string, number> = {}
  afterAll(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  describe('starting together on an empty database', () => {
    // Races are not deterministic: start pairs on a few fresh databases.
    for (let round = 1; round <= 3; round++) {
      it(`both come up healthy and apply each migration exactly once (round ${round})`, async () => {
        const db = await createPgDatabase()
        const started: GalleyProcess[] = []
        try {
          const results = await Promise.allSettled([serve(db), serve(db)])
          for (const r of results) if (r.status === 'fulfilled') started.push(r.value)
          for (const r of results) if (r.status === 'rejected') throw r.reason
          const [a, b] = started as [GalleyProcess, GalleyProcess]
          for (const p of [a, b]) {
            const res = await fetch(`${p.url}/api/health`)
            expect(res.status).toBe(200)
            expect(p.output()).not.toMatch(/error|exception|failed/i)
            expect(logLines(p.output()).filter((l) => l.level >= 40)).toEqual([])
          }
          const rows = await withPg(
            db.url,
            async (c) => (await c.query(`SELECT name FROM "_migrations"`)).rows,
          )
          expect(rows.map((r: { name: string }) => r.name).sort()).toEqual(MIGRATIONS)
          // Between them the two logs name each migration once.
          const appliedBy = [a, b].flatMap((p) =>
            logLines(p.output()).flatMap((l) => (l.msg === 'applied migrations' ? (l.migrations ?? []) : [])),
          )
          expect(appliedBy.sort()).toEqual(MIGRATIONS)
          // Each instance sees the full system schema.
          const su = await runCli(['superuser', 'upsert', SU_EMAIL, SU_PASSWORD, '--db', db.url])
          expect(su.code).toBe(0)
          for (const p of [a, b]) {
            const pb = new PocketBase(p.url)
            const auth = await pb.collection('_superusers').authWithPassword(SU_EMAIL, SU_PASSWORD)
            const names = (await client(p.url, auth.token).collections.getFullList()).map((c) => c.name)
            expect(names.sort()).toEqual([
              '_authOrigins',
              '_externalAuths',
              '_mfas',
              '_otps',
              '_superusers',
              'users',
            ])
          }
        } finally {
          await Promise.all(started.map((p) => p.stop()))
          await db.drop()
        }
      })
    }
  })

  describe('changes made through one are seen through the other', () => {
    let db: PgDb
    let a: GalleyProcess
    let b: GalleyProcess
    let tokenA: string
    let tokenB: string

    beforeAll(async () => {
      db = await createPgDatabase()
      const su = await runCli(['superuser', 'upsert', SU_EMAIL, SU_PASSWORD, '--db', db.url])
      expect(su.code).toBe(0)
      const both = await Promise.allSettled([serve(db), serve(db, { PGAPPNAME: B_LISTENER_APP })])
      if (both[0].status === 'fulfilled') a = both[0].value
      if (both[1].status === 'fulfilled') b = both[1].value
      for (const r of both) if (r.status === 'rejected') throw r.reason
      tokenA = (await new PocketBase(a.url).collection('_superusers').authWithPassword(SU_EMAIL, SU_PASSWORD))
        .token
      tokenB = (await new PocketBase(b.url).collection('_superusers').authWithPassword(SU_EMAIL, SU_PASSWORD))
        .token
    })

    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()])
      await db?.drop()
      if (Object.keys(measured).length > 0) console.log('multi-instance propagation (ms):', measured)
    })

    const collection = (url: string, token: string, name: string) =>
      status(url, `/api/collections/${name}`, token)

    for (const direction of ['A->B', 'B->A'] as const) {
      it(`collection create, update and delete propagate ${direction} within 1 s`, async () => {
        const [writer, reader, wToken, rToken] =
          direction === 'A->B' ? [a, b, tokenA, tokenB] : [b, a, tokenB, tokenA]
        const name = `notes_${direction === 'A->B' ? 'ab' : 'ba'}`
        const pb = client(writer.url, wToken)

        await pb.collections.create({ name, type: 'base', fields: [{ name: 'title', type: 'text' }] })
        const created = await timeUntil(
          async () => (await collection(reader.url, rToken, name)).status === 200,
          PROPAGATION_LIMIT_MS,
          `${direction} create`,
        )

        await pb.collections.update(name, { listRule: '', fields: [{ name: 'body', type: 'editor' }] })
        const updated = await timeUntil(
          async () => {
            const r = await collection(reader.url, rToken, name)
            const c = r.body as { listRule?: unknown; fields?: { name: string }[] }
            return c.listRule === '' && (c.fields ?? []).some((f) => f.name === 'body')
          },
          PROPAGATION_LIMIT_MS,
          `${direction} update`,
        )

        await pb.collections.delete(name)
        const deleted = await timeUntil(
          async () => (await collection(reader.url, rToken, name)).status === 404,
          PROPAGATION_LIMIT_MS,
          `${direction} delete`,
        )
        Object.assign(measured, {
          [`${direction} create`]: created,
          [`${direction} update`]: updated,
          [`${direction} delete`]: deleted,
        })
        for (const ms of [created, updated, deleted]) expect(ms).toBeLessThan(PROPAGATION_LIMIT_MS)
      })

      it(`settings propagate ${direction} within 1 s`, async () => {
        const [writer, reader, wToken, rToken] =
          direction === 'A->B' ? [a, b, tokenA, tokenB] : [b, a, tokenB, tokenA]
        const appName = `Set via ${direction}`
        await client(writer.url, wToken).settings.update({ meta: { appName } })
        const ms = await timeUntil(
          async () =>
            ((await status(reader.url, '/api/settings', rToken)).body as { meta: { appName: string } }).meta
              .appName === appName,
          PROPAGATION_LIMIT_MS,
          `${direction} settings`,
        )
        measured[`${direction} settings`] = ms
        expect(ms).toBeLessThan(PROPAGATION_LIMIT_MS)
      })
    }

    it('a burst of concurrent changes through A leaves B (and A) on the stored state', async () => {
      // Back-to-back commits: notifications arrive while a reload of the cache is still running.
      const pb = client(a.url, tokenA)
      const names = Array.from({ length: 8 }, (_, i) => `burst_${i}`)
      await Promise.all(names.map((name) => pb.collections.create({ name, type: 'base' })))
      const ROUNDS = 6
      await Promise.all([
        ...names.map(async (name) => {
          for (let i = 1; i <= ROUNDS; i++)
            await pb.collections.update(name, { fields: [{ name: `f${i}`, type: 'text' }] })
        }),
        ...Array.from({ length: 4 }, async (_, w) => {
          for (let i = 1; i <= ROUNDS; i++) await pb.settings.update({ meta: { appName: `burst ${w}.${i}` } })
        }),
      ])
      // The truth, read from the database. No further notification will come: each instance
      // must converge on it by itself.
      const stored = await withPg(db.url, async (c) => {
        const s = await c.query<{ value: string | { meta: { appName: string } } }>(
          `SELECT value FROM "_params" WHERE id = 'settings'`,
        )
        const v = s.rows[0]!.value
        return {
          appName: (typeof v === 'string' ? (JSON.parse(v) as { meta: { appName: string } }) : v).meta
            .appName,
        }
      })
      const view = async (url: string, token: string) => {
        const fields: Record<string, string[]> = {}
        for (const name of names) {
          const c = (await collection(url, token, name)).body as { fields?: { name: string }[] }
          fields[name] = (c.fields ?? []).map((f) => f.name)
        }
        const s = (await status(url, '/api/settings', token)).body as { meta: { appName: string } }
        return { fields, appName: s.meta.appName }
      }
      const expected = {
        // `fields` in an update replaces the list (the system `id` field is kept).
        fields: Object.fromEntries(names.map((n) => [n, ['id', `f${ROUNDS}`]])),
        appName: stored.appName,
      }
      for (const [who, url, token] of [
        ['B', b.url, tokenB],
        ['A', a.url, tokenA],
      ] as const) {
        let last: unknown
        const ms = await timeUntil(
          async () => {
            last = await view(url, token)
            return JSON.stringify(last) === JSON.stringify(expected)
          },
          PROPAGATION_LIMIT_MS,
          `burst final state at ${who}`,
        ).catch((err: Error) => {
          throw new Error(`${err.message}: ${JSON.stringify(last)} vs ${JSON.stringify(expected)}`)
        })
        expect(ms).toBeLessThan(PROPAGATION_LIMIT_MS)
      }
      // And it stays there (a late, stale reload must not overwrite it).
      await new Promise((r) => setTimeout(r, 300))
      expect(await view(b.url, tokenB)).toEqual(expected)
      await Promise.all(names.map((name) => pb.collections.delete(name)))
    })

    it('B reconnects its LISTEN connection after it is killed, and catches up on what it missed', async () => {
      const listeners = async () =>
        withPg(
          PG_URL!,
          async (c) =>
            (
              await c.query<{ pid: number; application_name: string; query: string; state: string }>(
                `SELECT pid, application_name, query, state FROM pg_stat_activity WHERE datname = $1 AND query ILIKE 'LISTEN%'`,
                [db.name],
              )
            ).rows,
        )
      const before = await listeners()
      // One listener per instance; the pool's own sessions never run LISTEN.
      expect(before.map((l) => l.application_name).sort()).toEqual(['', B_LISTENER_APP])
      const oldB = before.find((l) => l.application_name === B_LISTENER_APP)!
      console.log('listener sessions in pg_stat_activity:', before)

      const killed = await withPg(PG_URL!, async (c) =>
        c.query(
          `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 AND application_name = $2 AND query ILIKE 'LISTEN%'`,
          [db.name, B_LISTENER_APP],
        ),
      )
      expect(killed.rows).toEqual([{ ok: true }])
      const killedAt = performance.now()

      // Changed through A while B is not listening: this NOTIFY is lost, B must reload on reconnect.
      const pbA = client(a.url, tokenA)
      await pbA.collections.create({ name: 'while_deaf', type: 'base' })
      await pbA.settings.update({ meta: { appName: 'changed while B was deaf' } })
      const caughtUp = await timeUntil(
        async () => {
          if ((await collection(b.url, tokenB, 'while_deaf')).status !== 200) return false
          const s = (await status(b.url, '/api/settings', tokenB)).body as { meta: { appName: string } }
          return s.meta.appName === 'changed while B was deaf'
        },
        RECONNECT_LIMIT_MS,
        'B catching up after reconnect',
      )
      measured['B catch-up after listener kill'] = Math.round(performance.now() - killedAt)

      const after = await listeners()
      const newB = after.find((l) => l.application_name === B_LISTENER_APP)
      expect(newB).toBeDefined()
      expect(newB!.pid).not.toBe(oldB.pid)
      expect(caughtUp).toBeLessThan(RECONNECT_LIMIT_MS)

      // Live again: a new change reaches B through NOTIFY within the normal limit.
      await pbA.collections.delete('while_deaf')
      const live = await timeUntil(
        async () => (await collection(b.url, tokenB, 'while_deaf')).status === 404,
        PROPAGATION_LIMIT_MS,
        'A->B delete after reconnect',
      )
      measured['A->B after reconnect'] = live
      expect(live).toBeLessThan(PROPAGATION_LIMIT_MS)
      expect(b.child.exitCode).toBeNull()
    })
  })
})

/**
 * Realtime across instances (issue 5, "Many instances"): two Galley processes on one PostgreSQL
 * database deliver every write, through either, to subscribers on both, exactly once and in commit
 * order per record; when one is killed with SIGKILL, subscribers that reconnect to the other with
 * their last event id lose nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import PocketBase from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SU_EMAIL, SU_PASSWORD } from './helpers/galley.js'
import { createPgDatabase, PG_URL } from './helpers/pg.js'
import { runCli, startServe, type GalleyProcess } from './helpers/process.js'
import { call } from './helpers/rest.js'
import { rawStream, sleep, until, type SseFrame } from './helpers/sse.js'

type Stream = Awaited<ReturnType<typeof rawStream>>
type Event = { id: number; action: string; record: { id: string; n: number } }

const events = (frames: readonly SseFrame[]): Event[] =>
  frames
    .filter((f) => f.event === 'notes')
    .map((f) => ({ id: Number(f.id), ...(JSON.parse(f.data!) as Omit<Event, 'id'>) }))

describe.skipIf(!PG_URL)('realtime on two instances sharing one PostgreSQL database', () => {
  let db: Awaited<ReturnType<typeof createPgDatabase>>
  let a: GalleyProcess
  let b: GalleyProcess
  let token = ''
  const dirs: string[] = []
  const streams: Stream[] = []
  const serve = () => {
    const dir = mkdtempSync(join(tmpdir(), 'galley-rt-cluster-'))
    dirs.push(dir)
    return startServe(['--dir', dir, '--db', db.url])
  }
  const subscribe = async (url: string, headers: Record<string, string> = {}) => {
    const s = await rawStream(url, headers)
    streams.push(s)
    const r = await call(url, 'POST', '/api/realtime', undefined, {
      clientId: s.clientId,
      subscriptions: ['notes'],
    })
    expect(r.status).toBe(204)
    return s
  }
  const create = (url: string, n: number) => call(url, 'POST', '/api/collections/notes/records', token, { n })

  beforeAll(async () => {
    db = await createPgDatabase()
    a = await serve()
    b = await serve()
    expect((await runCli(['superuser', 'upsert', SU_EMAIL, SU_PASSWORD, '--db', db.url])).code).toBe(0)
    const pb = new PocketBase(a.url)
    token = (await pb.collection('_superusers').authWithPassword(SU_EMAIL, SU_PASSWORD)).token
    await pb.collections.create({
      name: 'notes',
      type: 'base',
      listRule: '',
      viewRule: '',
      fields: [{ name: 'n', type: 'number' }],
    })
    // B learns of the new collection through its own notification; wait until it serves it
    for (let i = 0; i < 100; i++) {
      if ((await call(b.url, 'GET', '/api/collections/notes/records', undefined)).status === 200) break
      await sleep(50)
    }
  }, 60_000)

  afterAll(async () => {
    for (const s of streams) s.close()
    for (const p of [a, b])
      if (p && p.child.exitCode === null && p.child.signalCode === null) await p.stop('SIGTERM')
    await db?.drop()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  it('writes through either instance reach subscribers on both, each exactly once, in id order', async () => {
    const onA = await subscribe(a.url)
    const onB = await subscribe(b.url)
    const created: string[] = []
    // 100 writes, two at a time, one through each instance
    for (let i = 0; i < 50; i++) {
      const [x, y] = await Promise.all([create(a.url, i), create(b.url, 100 + i)])
      for (const r of [x, y]) {
        expect(r.status).toBe(200)
        created.push((r.body as { id: string }).id)
      }
    }
    for (const s of [onA, onB]) {
      await until(() => events(s.frames).length >= created.length, 'all events', 20_000)
      await sleep(300)
      const got = events(s.frames)
      expect(got).toHaveLength(created.length)
      expect(new Set(got.map((e) => e.record.id))).toEqual(new Set(created))
      const ids = got.map((e) => e.id)
      expect(ids).toEqual([...ids].sort((p, q) => p - q))
    }
  }, 60_000)

  it("concurrent updates of one record through both instances arrive in the record's commit order", async () => {
    const r = await create(a.url, 0)
    const id = (r.body as { id: string }).id
    const s = await subscribe(b.url)
    const updates = Array.from({ length: 40 }, (_, i) =>
      call(i % 2 === 0 ? a.url : b.url, 'PATCH', `/api/collections/notes/records/${id}`, token, { 'n+': 1 }),
    )
    for (const u of await Promise.all(updates)) expect(u.status).toBe(200)
    await until(
      () => events(s.frames).filter((e) => e.action === 'update').length === 40,
      'the updates',
      20_000,
    )
    // each update added one to the value the previous one committed: in commit order they count 1..40
    expect(
      events(s.frames)
        .filter((e) => e.action === 'update')
        .map((e) => e.record.n),
    ).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
  }, 60_000)

  it('kill -9 of an instance: its subscribers reconnect to the other with their last id and lose nothing', async () => {
    const onA = await subscribe(a.url)
    const onB = await subscribe(b.url)
    let stop = false
    let n = 1000
    const acknowledged: string[] = []
    // writers through both instances until told to stop; A's stop answering when it dies
    const writer = async (url: string) => {
      for (let i = 0; i < 2000 && !stop; i++) {
        const r = await create(url, n++).catch(() => undefined)
        if (r?.status === 200) acknowledged.push((r.body as { id: string }).id)
        else if (url === a.url) return
      }
    }
    const writers = [writer(a.url), writer(b.url)]
    await until(() => events(onA.frames).length >= 30, 'traffic on A', 20_000)
    await a.stop('SIGKILL')
    await until(() => onA.ended, 'A gone')
    const last = events(onA.frames).at(-1)!.id
    const resumed = await subscribe(b.url, { 'Last-Event-ID': String(last) })
    await sleep(500)
    stop = true
    await Promise.all(writers)
    // every committed record (acknowledged or not) is an event: the database is the truth
    const all = (
      await call(
        b.url,
        'GET',
        `/api/collections/notes/records?perPage=500&filter=${encodeURIComponent('n >= 1000')}`,
        token,
      )
    ).body as { items: { id: string }[]; totalItems: number }
    expect(all.totalItems).toBeLessThanOrEqual(500)
    const committed = new Set(all.items.map((x) => x.id))
    for (const id of acknowledged) expect(committed.has(id)).toBe(true)
    await until(
      () =>
        [...events(onA.frames), ...events(resumed.frames)].filter((e) => e.record.n >= 1000).length >=
        committed.size,
      'the resumed stream to catch up',
      20_000,
    )
    const got = [...events(onA.frames), ...events(resumed.frames)].filter((e) => e.record.n >= 1000)
    expect(got.length).toBe(committed.size)
    expect(new Set(got.map((e) => e.record.id))).toEqual(committed)
    // B's own subscriber saw the same, once each
    await until(
      () => events(onB.frames).filter((e) => e.record.n >= 1000).length >= committed.size,
      'B',
      20_000,
    )
    expect(
      new Set(
        events(onB.frames)
          .filter((e) => e.record.n >= 1000)
          .map((e) => e.record.id),
      ),
    ).toEqual(committed)
    expect(events(onB.frames).filter((e) => e.record.n >= 1000)).toHaveLength(committed.size)
  }, 90_000)
})

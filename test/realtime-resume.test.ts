/**
 * Realtime resume over SSE (issue 5, "Resume"), on SQLite and PostgreSQL: a client that reconnects
 * with the last event id it saw (`Last-Event-ID`, or its client id when it saw none) gets every
 * event it missed that it may see, re-checked now, in order and once, then live events; a cursor the
 * log no longer covers gets `resync`. Also: a connection ends when its token expires.
 */
import type PocketBase from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signToken } from '../src/auth/index.js'
import { EVENT_RETENTION_MS } from '../src/realtime/index.js'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import { call } from './helpers/rest.js'
import { rawStream, sleep, until, type SseFrame } from './helpers/sse.js'

const PASSWORD = 'a long password 123'
const CANARY = 'canary-resume-4c1d'
const WRITES = 1000

type Stream = Awaited<ReturnType<typeof rawStream>>

/** The record events of a stream (not PB_CONNECT nor resync), parsed. */
function events(frames: readonly SseFrame[]) {
  return frames
    .filter((f) => f.event !== 'PB_CONNECT' && f.event !== 'resync')
    .map((f) => ({
      id: Number(f.id),
      event: f.event,
      ...(JSON.parse(f.data ?? '{}') as { action: string; record: Record<string, unknown> }),
    }))
}

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`realtime resume (${kind})`, () => {
    let store: TestStore
    let g: RunningGalley
    let su: PocketBase
    const open: Stream[] = []

    const subscribe = async (s: Stream, topics: string[], token?: string) => {
      const r = await call(g.url, 'POST', '/api/realtime', token, {
        clientId: s.clientId,
        subscriptions: topics,
      })
      expect(r.status).toBe(204)
    }
    const connect = async (headers: Record<string, string> = {}) => {
      const s = await rawStream(g.url, headers)
      open.push(s)
      return s
    }
    const filterOption = (filter: string) =>
      `notes?options=${encodeURIComponent(JSON.stringify({ query: { filter } }))}`

    beforeAll(async () => {
      store = await createStore(kind)
      g = await startGalley(store)
      su = await g.asSuperuser()
      await su.settings.update({ batch: { enabled: true, maxRequests: 50 } })
      await su.collections.create({
        name: 'categories',
        type: 'base',
        listRule: '',
        viewRule: '',
        fields: [
          { name: 'name', type: 'text' },
          { name: 'open', type: 'bool' },
        ],
      })
      const categories = await su.collections.getOne('categories')
      await su.collections.create({
        name: 'notes',
        type: 'base',
        // decided in memory
        listRule: 'public = true',
        viewRule: 'public = true',
        fields: [
          { name: 'n', type: 'number' },
          { name: 'public', type: 'bool' },
          { name: 'secret', type: 'text', hidden: true },
          { name: 'category', type: 'relation', collectionId: categories.id, maxSelect: 1 },
        ],
      })
    })

    afterAll(async () => {
      for (const s of open) s.close()
      await g?.close()
      await store?.cleanup()
    })

    it(`replays ${WRITES} writes missed while away, in order and once, rules re-checked, then goes live`, async () => {
      const openCat = await su.collection('categories').create({ name: 'open', open: true })
      const closedCat = await su.collection('categories').create({ name: 'closed', open: false })
      // A: sees one event, then goes away; B: a filter that needs SQL (a relation); C: sees nothing before leaving
      const a = await connect()
      const b = await connect()
      const c = await connect()
      await subscribe(a, ['notes'])
      await subscribe(b, [filterOption('category.open = true')])
      await subscribe(c, ['notes/none'])
      await su.collection('notes').create({ n: -1, public: true, secret: CANARY, category: openCat.id })
      await until(() => events(a.frames).length === 1 && events(b.frames).length === 1, 'the first event')
      const lastA = a.frames[a.frames.length - 1]!.id!
      const lastB = b.frames[b.frames.length - 1]!.id!
      for (const s of [a, b, c]) s.close()
      await until(() => g.galley.realtime.clientCount === 0, 'the disconnects')

      const requests = Array.from({ length: WRITES }, (_, n) => ({
        method: 'POST',
        url: '/api/collections/notes/records',
        body: { n, public: n % 2 === 0, secret: CANARY, category: n % 3 === 0 ? closedCat.id : openCat.id },
      }))
      // 1000 writes in batches of 50 (the default batch limit)
      for (let i = 0; i < WRITES; i += 50) {
        const r = await call(g.url, 'POST', '/api/batch', su.authStore.token, {
          requests: requests.slice(i, i + 50),
        })
        expect(r.status).toBe(200)
      }

      const a2 = await connect({ 'Last-Event-ID': lastA })
      const b2 = await connect({ 'Last-Event-ID': lastB })
      // C saw no event: its Last-Event-ID is its client id (what EventSource keeps from PB_CONNECT)
      const c2 = await connect({ 'Last-Event-ID': c.clientId })
      await subscribe(a2, ['notes'])
      await subscribe(b2, [filterOption('category.open = true')])
      await subscribe(c2, ['notes'])
      const publicOnes = requests.filter((r) => r.body.public).length
      const openPublic = requests.filter((r) => r.body.public && r.body.category === openCat.id).length
      await until(
        () =>
          events(a2.frames).length === publicOnes &&
          events(b2.frames).length === openPublic &&
          events(c2.frames).length === publicOnes + 1,
        'the replay',
        60_000,
      )
      // a write after the replay arrives live, once
      await su.collection('notes').create({ n: WRITES, public: true, category: openCat.id })
      await until(() => events(a2.frames).length === publicOnes + 1, 'the live event')
      await sleep(300)

      const na = events(a2.frames)
      expect(na.map((e) => e.record.n)).toEqual([
        ...requests.filter((r) => r.body.public).map((r) => r.body.n),
        WRITES,
      ])
      const ids = na.map((e) => e.id)
      expect(ids).toEqual([...ids].sort((x, y) => x - y))
      expect(new Set(ids).size).toBe(ids.length)
      expect(ids[0]).toBeGreaterThan(Number(lastA))
      expect(events(b2.frames).map((e) => e.record.n)).toEqual(
        requests
          .filter((r) => r.body.public && r.body.category === openCat.id)
          .map((r) => r.body.n)
          .concat(WRITES),
      )
      // C missed the first event too: it connected before it
      expect(events(c2.frames).map((e) => e.record.n)).toEqual([
        -1,
        ...requests.filter((r) => r.body.public).map((r) => r.body.n),
        WRITES,
      ])
      for (const s of [a2, b2, c2]) {
        expect(s.frames.some((f) => f.event === 'resync')).toBe(false)
        for (const f of s.frames) expect(f.raw).not.toContain(CANARY)
        s.close()
      }
    }, 120_000)

    it('a cursor older than the log, or newer than any event, gets resync first, then live events', async () => {
      const a = await connect()
      await subscribe(a, ['notes'])
      await su.collection('notes').create({ n: 1, public: true })
      await until(() => events(a.frames).length === 1, 'an event')
      const last = a.frames[a.frames.length - 1]!.id!
      a.close()
      await su.collection('notes').create({ n: 2, public: true })
      // the event is logged after the commit: wait for it, then make everything older than the retention
      for (let i = 0; i < 250 && (await g.galley.realtime.log.lastId()) <= Number(last); i++) await sleep(20)
      await until(() => g.galley.realtime.clientCount === 0, 'the disconnect')
      await g.galley.realtime.log.prune(Date.now() + EVENT_RETENTION_MS + 1000)
      for (const cursor of [last, '999999999']) {
        const s = await connect({ 'Last-Event-ID': cursor })
        await subscribe(s, ['notes'])
        await until(() => s.frames.some((f) => f.event === 'resync'), 'resync')
        const resync = s.frames.find((f) => f.event === 'resync')!
        expect(JSON.parse(resync.data!)).toEqual({ id: Number(resync.id) })
        await su.collection('notes').create({ n: 3, public: true })
        await until(() => events(s.frames).length === 1, 'the live event after resync')
        expect(events(s.frames)[0]!.record.n).toBe(3)
        // the missed event is not replayed: the client reloads instead
        expect(events(s.frames).some((e) => e.record.n === 2)).toBe(false)
        s.close()
      }
    })

    it('a connection ends when the token that set its auth expires', async () => {
      await su
        .collection('users')
        .create({ email: 'exp@example.com', password: PASSWORD, passwordConfirm: PASSWORD })
      const users = g.galley.collections.find('users') as unknown as {
        id: string
        authToken: { secret: string }
      }
      const pb = g.sdk()
      await pb.collection('users').authWithPassword('exp@example.com', PASSWORD)
      const record = pb.authStore.record!
      const row = (await g.galley.database.db
        .selectFrom('users')
        .select('tokenKey')
        .where('id', '=', record.id)
        .executeTakeFirstOrThrow()) as { tokenKey: string }
      // a token signed as Galley does, expiring in 2 s
      const token = await signToken(
        { id: record.id, collectionId: users.id, type: 'auth', refreshable: true },
        row.tokenKey + users.authToken.secret,
        2,
      )
      const s = await connect()
      await subscribe(s, ['notes'], token)
      expect(s.ended).toBe(false)
      await until(() => s.ended, 'the end at expiry', 6000)
      await until(() => g.galley.realtime.clientCount === 0, 'the client to go')
    })

    it("a new authToken secret for the collection ends its clients' connections", async () => {
      await su
        .collection('users')
        .create({ email: 'sec@example.com', password: PASSWORD, passwordConfirm: PASSWORD })
      const pb = g.sdk()
      await pb.collection('users').authWithPassword('sec@example.com', PASSWORD)
      const s = await connect()
      await subscribe(s, ['notes'], pb.authStore.token)
      await su.collection('notes').create({ n: 10, public: true })
      await until(() => events(s.frames).length === 1, 'an event while signed in')
      await su.collections.update('users', { authToken: { secret: 'a'.repeat(50) } })
      await su.collection('notes').create({ n: 11, public: true })
      await until(() => s.ended, 'the end of the connection')
      expect(events(s.frames).map((e) => e.record.n)).toEqual([10])
    })
  })
}

/**
 * The event a create logs is the record as REST shows it, whichever way the write was logged: on
 * PostgreSQL a create that is one statement logs its event in that statement (a CTE over the
 * returned row's to_jsonb), other writes from JavaScript; on SQLite every write from JavaScript.
 * Also: a dispatcher with no client keeps its place (a client that connects later gets only what
 * comes after, or what it asks to replay), and events reach subscribers on the same instance
 * without waiting for a notification.
 */
import { EventSource } from 'eventsource'
import type PocketBase from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { IDLE_READ_INTERVAL_MS } from '../src/realtime/index.js'
import type { FileStore } from '../src/records/index.js'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import { rawStream, sleep, until } from './helpers/sse.js'

;(globalThis as { EventSource?: unknown }).EventSource = EventSource

type Msg = { action: string; record: Record<string, unknown> }

/** One value of each field type that a one-statement create can hold (no relation: it reads first). */
const BODY = {
  title: 'Zebra ünïcode "quoted"',
  body: '<p>rich <b>text</b></p>',
  views: 1.5,
  big: 9007199254740991,
  published: true,
  meta: { b: 1, a: [1, 'two', null], nested: { x: 'y' } },
  jsonString: '123',
  jsonNull: null,
  tags: ['b', 'a'],
  tag: 'a',
  email: 'someone@example.com',
  site: 'https://example.com/x?y=1',
  when: '2026-11-24 06:00:00.123Z',
  where: { lon: 12.5, lat: -45.25 },
}

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`events of every write path (${kind})`, () => {
    let store: TestStore
    let g: RunningGalley
    let su: PocketBase

    beforeAll(async () => {
      store = await createStore(kind)
      g = await startGalley(store)
      su = await g.asSuperuser()
      await su.collections.create({
        name: 'things',
        type: 'base',
        listRule: '',
        viewRule: '',
        createRule: '',
        updateRule: '',
        deleteRule: '',
        fields: [
          { name: 'title', type: 'text' },
          { name: 'body', type: 'editor' },
          { name: 'views', type: 'number' },
          { name: 'big', type: 'number' },
          { name: 'published', type: 'bool' },
          { name: 'meta', type: 'json' },
          { name: 'jsonString', type: 'json' },
          { name: 'jsonNull', type: 'json' },
          { name: 'tags', type: 'select', values: ['a', 'b'], maxSelect: 2 },
          { name: 'tag', type: 'select', values: ['a', 'b'], maxSelect: 1 },
          { name: 'email', type: 'email' },
          { name: 'site', type: 'url' },
          { name: 'when', type: 'date' },
          { name: 'where', type: 'geoPoint' },
          { name: 'secret', type: 'text', hidden: true },
          { name: 'created', type: 'autodate', onCreate: true },
          { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
        ],
      })
    }, 60_000)
    afterAll(async () => {
      await g?.close()
      await store?.cleanup()
    })

    it('delivers each create, update and delete exactly as REST shows the record', async () => {
      const guest = g.sdk()
      const got: Msg[] = []
      const off = await guest.collection('things').subscribe('*', (m) => got.push(m as Msg))
      try {
        // a guest's create with an empty rule is one statement (PostgreSQL: the event in its CTE)
        const created = await guest.collection('things').create({ ...BODY, secret: 'hidden' })
        // a superuser's create: one statement too; an update and a delete log from JavaScript
        const bySu = await su.collection('things').create({ ...BODY, title: 'by su', secret: 'hidden' })
        const updated = await guest.collection('things').update(created.id, { views: 2, meta: { z: true } })
        await guest.collection('things').delete(bySu.id)
        await until(() => got.length >= 4, 'four events')
        const rest = async (id: string) => guest.collection('things').getOne(id)
        expect(got.map((m) => m.action)).toEqual(['create', 'create', 'update', 'delete'])
        expect(got[0]!.record).toEqual(created)
        expect(got[1]!.record).toEqual(await stripHidden(bySu))
        expect(got[2]!.record).toEqual(updated)
        expect(got[2]!.record).toEqual(await rest(created.id))
        expect(got[3]!.record).toEqual(await stripHidden(bySu))
        for (const m of got) expect(JSON.stringify(m)).not.toContain('hidden')
      } finally {
        await off()
      }
    })

    it('logs the record, not a field, when fields are named like the statement names', async () => {
      await su.collections.create({
        name: 'shadows',
        type: 'base',
        listRule: '',
        viewRule: '',
        createRule: '',
        fields: ['r', 'e', 'x', 'xact', 'written', 'committed'].map((name) => ({ name, type: 'json' })),
      })
      const guest = g.sdk()
      const got: Msg[] = []
      const off = await guest.collection('shadows').subscribe('*', (m) => got.push(m as Msg))
      try {
        // r empty: a statement that read the field r would log NULL and fail
        const empty = await guest.collection('shadows').create({})
        const forged = await guest.collection('shadows').create({ r: { id: empty.id, x: 'FORGED' }, e: 5 })
        await until(() => got.length >= 2, 'two events')
        expect(got.map((m) => m.record)).toEqual([empty, forged])
        expect(forged).toEqual(await guest.collection('shadows').getOne(forged.id))
      } finally {
        await off()
      }
    })

    it('announces a write before removing the files it made obsolete (a slow store delays no event)', async () => {
      await su.collections.create({
        name: 'docs',
        type: 'base',
        listRule: '',
        viewRule: '',
        createRule: '',
        updateRule: '',
        fields: [
          { name: 'title', type: 'text' },
          { name: 'doc', type: 'file', maxSelect: 1, maxSize: 1000 },
        ],
      })
      const records = g.galley.records
      const real = records.fileStore!
      let open!: () => void
      const gate = new Promise<void>((r) => (open = r))
      const removing: string[] = []
      // the store as it is, but removals wait for the gate (an S3 store far away)
      const slow: FileStore = {
        put: (key, body) => real.put(key, body),
        putFile: (key, path) => real.putFile(key, path),
        open: (key, range) => real.open(key, range),
        stat: (key) => real.stat(key),
        deletePrefix: (prefix) => real.deletePrefix(prefix),
        list: (prefix) => real.list(prefix),
        delete: async (key) => {
          removing.push(key)
          await gate
          return real.delete(key)
        },
      }
      records.useFileStore(slow)
      const guest = g.sdk()
      const created = await guest
        .collection('docs')
        .create({ title: 'with a file', doc: new File(['hello'], 'hello.txt', { type: 'text/plain' }) })
      const got: Msg[] = []
      const off = await guest.collection('docs').subscribe('*', (m) => got.push(m as Msg))
      try {
        const update = guest.collection('docs').update(created.id, { doc: null })
        await until(() => got.length === 1, 'the update event while the removal waits', 1_000)
        expect(got[0]!.record.doc).toBe('')
        expect(removing).toHaveLength(1)
        open()
        expect((await update).doc).toBe('')
      } finally {
        open()
        records.useFileStore(real)
        await off()
      }
    })

    it('a client that connects after writes made with no client receives only what comes after', async () => {
      // nobody connected: the dispatcher only keeps its place
      for (let i = 0; i < 5; i++) await su.collection('things').create({ title: `before ${i}` })
      await sleep(IDLE_READ_INTERVAL_MS * 3)
      const guest = g.sdk()
      const got: Msg[] = []
      const off = await guest.collection('things').subscribe('*', (m) => got.push(m as Msg))
      try {
        const after = await su.collection('things').create({ title: 'after' })
        await until(() => got.length >= 1, 'the event after')
        await sleep(300)
        expect(got.map((m) => m.record.id)).toEqual([after.id])
      } finally {
        await off()
      }
    })

    it('the writes made with no client stay in the log for a client resuming from before them', async () => {
      const first = await rawStream(g.url)
      const clientId = first.clientId
      first.close()
      await first.done
      const made: string[] = []
      for (let i = 0; i < 3; i++)
        made.push((await su.collection('things').create({ title: `missed ${i}` })).id)
      await sleep(IDLE_READ_INTERVAL_MS * 3)
      // resume from the client id (it saw nothing): everything since it connected is replayed
      const resumed = await rawStream(g.url, { 'last-event-id': clientId })
      try {
        const res = await fetch(`${g.url}/api/realtime`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ clientId: resumed.clientId, subscriptions: ['things'] }),
        })
        expect(res.status).toBe(204)
        const ids = () =>
          resumed.frames
            .filter((f) => f.event === 'things')
            .map((f) => (JSON.parse(f.data ?? '{}') as Msg).record.id)
        await until(() => ids().length >= 3, 'the replayed events')
        expect(ids()).toEqual(made)
      } finally {
        resumed.close()
      }
    })

    /** The record as a guest sees it over REST (the hidden field left out). */
    async function stripHidden(r: Record<string, unknown>) {
      const { secret: _secret, ...rest } = r
      return rest
    }
  })
}

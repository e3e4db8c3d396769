/**
 * Realtime over SSE (pocketbase-api.md §9, issue 5 first slice) with the official `pocketbase` SDK
 * in Node (EventSource from the `eventsource` package) and a raw stream reader for the wire, on
 * SQLite and PostgreSQL: events only after commit, the subscriber's rules and REST's projection on
 * every delivery, the protocol's errors and limits, and shutdown with streams open.
 */
import { connect } from 'node:net'
import { EventSource } from 'eventsource'
import type PocketBase from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SseStream, SSE_MAX_BUFFERED_BYTES } from '../src/http/routes/realtime.js'
import {
  EventLog,
  MAX_CONNECTIONS_PER_IP,
  MAX_SUBSCRIPTIONS_PER_CLIENT,
  MAX_TOPIC_LENGTH,
} from '../src/realtime/index.js'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import { call } from './helpers/rest.js'
import { rawStream, sleep, until } from './helpers/sse.js'

;(globalThis as { EventSource?: unknown }).EventSource = EventSource

const CANARY = 'canary-7f3e-never-sent'
const PASSWORD = 'a long password 123'

type Msg = { action: string; record: Record<string, unknown> }

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`realtime SSE (${kind})`, () => {
    let store: TestStore
    let g: RunningGalley
    let su: PocketBase
    let alice: PocketBase
    let bob: PocketBase
    let guest: PocketBase
    let aliceId = ''
    let authorId = ''
    const opened: PocketBase[] = []
    const frames: string[] = []

    const signIn = async (email: string) => {
      const pb = g.sdk()
      await pb.collection('users').authWithPassword(email, PASSWORD)
      opened.push(pb)
      return pb
    }
    /** Every message a subscription receives, also kept for the canary scan. */
    const collect = (into: Msg[]) => (m: Msg) => {
      frames.push(JSON.stringify(m))
      into.push(m)
    }

    beforeAll(async () => {
      store = await createStore(kind)
      g = await startGalley(store)
      su = await g.asSuperuser()
      await su.collections.create({
        name: 'authors',
        type: 'base',
        listRule: '',
        viewRule: '',
        fields: [{ name: 'name', type: 'text' }],
      })
      const users = await su.collections.getOne('users')
      await su.collections.create({
        name: 'posts',
        type: 'base',
        listRule: 'owner = @request.auth.id',
        viewRule: 'owner = @request.auth.id',
        fields: [
          { name: 'title', type: 'text' },
          { name: 'secret', type: 'text', hidden: true },
          { name: 'owner', type: 'relation', collectionId: users.id, maxSelect: 1 },
          {
            name: 'author',
            type: 'relation',
            collectionId: (await su.collections.getOne('authors')).id,
            maxSelect: 1,
          },
        ],
      })
      for (const email of ['alice@example.com', 'bob@example.com'])
        await su.collection('users').create({ email, password: PASSWORD, passwordConfirm: PASSWORD })
      alice = await signIn('alice@example.com')
      bob = await signIn('bob@example.com')
      guest = g.sdk()
      opened.push(guest)
      aliceId = alice.authStore.record?.id ?? ''
      authorId = (await su.collection('authors').create({ name: 'Ann Author' })).id
      await su.settings.update({ batch: { enabled: true, maxRequests: 50, timeout: 3, maxBodySize: 0 } })
    })

    afterAll(async () => {
      for (const pb of opened) await pb.realtime.unsubscribe().catch(() => {})
      // Aborted SDK requests can leave connections that never carried a request; Node's close waits
      // for those until its headers timeout (not a realtime matter): cut them for the cleanup.
      const app = await g?.galley.http()
      const closing = g?.close()
      setTimeout(() => app?.server.closeAllConnections(), 500).unref()
      await closing
      await store?.cleanup()
    })

    it('delivers create, update and delete to collection/* and collection/ID with expand and fields, only to who may view', async () => {
      const all: Msg[] = []
      const one: Msg[] = []
      const bobs: Msg[] = []
      const guests: Msg[] = []
      await alice
        .collection('posts')
        .subscribe('*', collect(all), { expand: 'author', fields: 'id,title,secret,expand.author.name' })
      await bob.collection('posts').subscribe('*', collect(bobs))
      await guest.collection('posts').subscribe('*', collect(guests))

      const post = await su
        .collection('posts')
        .create({ title: 'first', secret: CANARY, owner: aliceId, author: authorId })
      await until(() => all.length === 1, 'the create event')
      expect(all[0]).toEqual({
        action: 'create',
        record: { id: post.id, title: 'first', expand: { author: { name: 'Ann Author' } } },
      })

      await alice.collection('posts').subscribe(post.id, collect(one))
      await su.collection('posts').update(post.id, { title: 'second' })
      await until(() => all.length === 2 && one.length === 1, 'the update events')
      expect(all[1]).toMatchObject({ action: 'update', record: { id: post.id, title: 'second' } })
      expect(one[0]).toMatchObject({
        action: 'update',
        record: { id: post.id, title: 'second', owner: aliceId },
      })
      expect(one[0]?.record).not.toHaveProperty('secret')

      await su.collection('posts').delete(post.id)
      await until(() => all.length === 3 && one.length === 2, 'the delete events')
      expect(all[2]).toMatchObject({ action: 'delete', record: { id: post.id, title: 'second' } })
      expect(one[1]).toMatchObject({ action: 'delete', record: { id: post.id, owner: aliceId } })

      // bob and guests may not view alice's posts: a post of bob's is the marker that they are live
      const mine = await su.collection('posts').create({ title: 'bobs', owner: bob.authStore.record?.id })
      await until(() => bobs.length === 1, "bob's own post")
      expect(bobs).toEqual([
        { action: 'create', record: expect.objectContaining({ id: mine.id, title: 'bobs' }) },
      ])
      await sleep(200)
      expect(guests).toEqual([])
      await bob.collection('posts').unsubscribe()
      await guest.collection('posts').unsubscribe()
      await alice.collection('posts').unsubscribe()
    })

    it('a delete announces the records its relations changed: cascaded deletes and cleared references', async () => {
      const posts = await su.collections.getOne('posts')
      await su.collections.create({
        name: 'replies',
        type: 'base',
        listRule: '',
        fields: [
          { name: 'text', type: 'text' },
          { name: 'post', type: 'relation', collectionId: posts.id, maxSelect: 1, cascadeDelete: true },
        ],
      })
      const author = await su.collection('authors').create({ name: 'gone' })
      const post = await su
        .collection('posts')
        .create({ title: 'cascade', owner: aliceId, author: author.id })
      const reply = await su.collection('replies').create({ text: 'r', post: post.id })
      const postEvents: Msg[] = []
      const replyEvents: Msg[] = []
      const watcher = await g.asSuperuser()
      opened.push(watcher)
      await watcher.collection('posts').subscribe('*', collect(postEvents))
      await watcher.collection('replies').subscribe('*', collect(replyEvents))
      // the author's delete clears the post's reference: an update of the post
      await su.collection('authors').delete(author.id)
      await until(() => postEvents.length === 1, 'the cleared reference')
      expect(postEvents[0]).toMatchObject({ action: 'update', record: { id: post.id, author: '' } })
      // the post's delete cascades to its reply: a delete of each
      await su.collection('posts').delete(post.id)
      await until(() => postEvents.length === 2 && replyEvents.length === 1, 'the cascade')
      expect(postEvents[1]).toMatchObject({ action: 'delete', record: { id: post.id } })
      expect(replyEvents[0]).toMatchObject({ action: 'delete', record: { id: reply.id, post: post.id } })
      await watcher.realtime.unsubscribe()
    })

    it('a rolled-back batch produces no event; a committed one does, after its commit', async () => {
      const got: Msg[] = []
      await alice.collection('posts').subscribe('*', collect(got))
      const before = (await g.galley.realtime.log.read(0, 100_000)).length
      const failed = su.createBatch()
      failed.collection('posts').create({ title: 'rolled back', owner: aliceId })
      failed.collection('posts').update('missing000000000', { title: 'bad' })
      await expect(failed.send()).rejects.toMatchObject({ status: 400 })
      const ok = su.createBatch()
      ok.collection('posts').create({ title: 'committed 1', owner: aliceId })
      ok.collection('posts').create({ title: 'committed 2', owner: aliceId })
      await ok.send()
      await until(() => got.length === 2, 'the committed batch')
      await sleep(200)
      expect(got.map((m) => m.record.title)).toEqual(['committed 1', 'committed 2'])
      const logged = (await g.galley.realtime.log.read(0, 100_000)).slice(before)
      expect(logged.map((e) => [e.action, e.record.title])).toEqual([
        ['create', 'committed 1'],
        ['create', 'committed 2'],
      ])
      expect(logged[1]!.id).toBeGreaterThan(logged[0]!.id)
      await alice.collection('posts').unsubscribe()
    })

    it('unsubscribe stops delivery while other subscribers keep receiving', async () => {
      const a: Msg[] = []
      const b: Msg[] = []
      const other = await signIn('alice@example.com')
      await alice.collection('posts').subscribe('*', collect(a))
      await other.collection('posts').subscribe('*', collect(b))
      await su.collection('posts').create({ title: 'both', owner: aliceId })
      await until(() => a.length === 1 && b.length === 1, 'both subscribers')
      await alice.collection('posts').unsubscribe('*')
      await su.collection('posts').create({ title: 'only b', owner: aliceId })
      await until(() => b.length === 2, 'the remaining subscriber')
      await sleep(200)
      expect(a.map((m) => m.record.title)).toEqual(['both'])
      await other.collection('posts').unsubscribe()
    })

    it("a subscriber's auth follows its record: a new password or a deleted user ends its access", async () => {
      await su.collections.create({
        name: 'memos',
        type: 'base',
        listRule: "@request.auth.id != ''",
        fields: [{ name: 'text', type: 'text' }],
      })
      const seen: Record<string, Msg[]> = { carol: [], dave: [] }
      const ids: Record<string, string> = {}
      const clients: PocketBase[] = []
      for (const name of ['carol', 'dave']) {
        const email = `${name}@example.com`
        ids[name] = (
          await su.collection('users').create({ email, password: PASSWORD, passwordConfirm: PASSWORD })
        ).id
        const pb = await signIn(email)
        clients.push(pb)
        await pb.collection('memos').subscribe('*', collect(seen[name]!))
      }
      await su.collection('memos').create({ text: 'one' })
      await until(() => seen.carol!.length === 1 && seen.dave!.length === 1, 'both signed-in subscribers')
      // carol's password changes (her tokens are revoked); dave is deleted
      await su
        .collection('users')
        .update(ids.carol!, { password: 'a new password 456', passwordConfirm: 'a new password 456' })
      await su.collection('users').delete(ids.dave!)
      await su.collection('memos').create({ text: 'two' })
      const watcher: Msg[] = []
      const other = await signIn('alice@example.com')
      await other.collection('memos').subscribe('*', collect(watcher))
      await su.collection('memos').create({ text: 'three' })
      await until(() => watcher.length === 1, 'a still signed-in subscriber')
      await sleep(200)
      expect(seen.carol!.map((m) => m.record.text)).toEqual(['one'])
      expect(seen.dave!.map((m) => m.record.text)).toEqual(['one'])
      for (const pb of [other, ...clients]) await pb.realtime.unsubscribe()
    })

    it('each event is checked and serialized as of its own commit, even when the record changed since', async () => {
      const got: Msg[] = []
      await alice.collection('posts').subscribe('*', collect(got), { fields: 'id,title' })
      // one transaction: both changes are delivered after the commit, when the record is gone
      const batch = su.createBatch()
      batch.collection('posts').create({ id: 'rtbatchrecord01', title: 'born', owner: aliceId })
      batch.collection('posts').update('rtbatchrecord01', { title: 'renamed' })
      batch.collection('posts').delete('rtbatchrecord01')
      await batch.send()
      await until(() => got.length === 3, 'three events')
      expect(got).toEqual([
        { action: 'create', record: { id: 'rtbatchrecord01', title: 'born' } },
        { action: 'update', record: { id: 'rtbatchrecord01', title: 'renamed' } },
        { action: 'delete', record: { id: 'rtbatchrecord01', title: 'renamed' } },
      ])
      await alice.collection('posts').unsubscribe()
    })

    it('a subscriber whose check fails is skipped alone, for deletes too', async () => {
      const good: Msg[] = []
      const bad: Msg[] = []
      const other = await signIn('alice@example.com')
      // an unknown field in the filter option: the check of this subscription fails at every event.
      // It subscribes first, so it is checked first and must not stop the checks after it.
      await other.collection('posts').subscribe('*', collect(bad), { filter: 'nosuchfield = 1' })
      await alice.collection('posts').subscribe('*', collect(good))
      const p = await su.collection('posts').create({ title: 'checked', owner: aliceId })
      await su.collection('posts').delete(p.id)
      await until(() => good.length === 2, 'the good subscriber')
      await sleep(200)
      expect(good.map((m) => m.action)).toEqual(['create', 'delete'])
      expect(bad).toEqual([])
      await alice.collection('posts').unsubscribe()
      await other.collection('posts').unsubscribe()
    })

    it('a filter option cannot leave its parentheses to match another record', async () => {
      const got: Msg[] = []
      const control: Msg[] = []
      // another listable post exists: `id = X && (false) || (true)` would return it for X's event
      await su.collection('posts').create({ title: 'someone else', owner: aliceId })
      await alice.collection('posts').subscribe('*', collect(got), { filter: 'false) || (true' })
      const other = await signIn('alice@example.com')
      await other.collection('posts').subscribe('*', collect(control))
      const p = await su.collection('posts').create({ title: 'the event', owner: aliceId })
      await until(() => control.length === 1, 'the control subscriber')
      await sleep(200)
      expect(control[0]!.record.id).toBe(p.id)
      expect(got).toEqual([])
      await alice.collection('posts').unsubscribe()
      await other.collection('posts').unsubscribe()
    })

    it('the event log keeps increasing ids and prunes by count and by age', async () => {
      // its own Galley: pruning the shared log would (rightly) send resync to other tests' clients
      const own = await createStore(kind)
      const other = await startGalley(own)
      try {
        const log = new EventLog(other.galley.database, other.galley.logger, {
          retentionCount: 3,
          retentionMs: 60_000,
        })
        const now = Date.now()
        const appended = await log.append(
          Array.from({ length: 5 }, (_, i) => ({
            collectionId: 'x',
            action: 'create' as const,
            record: { id: `r${i}` },
          })),
          now,
        )
        const ids = appended.map((e) => e.id)
        expect([...ids].sort((a, b) => a - b)).toEqual(ids)
        expect(new Set(ids).size).toBe(5)
        await log.prune(now)
        const kept = await log.read(0, 1_000_000)
        expect(kept.map((e) => e.id)).toEqual(ids.slice(2))
        expect(kept[2]).toMatchObject({ collectionId: 'x', action: 'create', record: { id: 'r4' } })
        // everything is older than the retention a minute later: all gone, and ids never come back
        await log.prune(now + 60_001)
        expect(await log.read(0, 10)).toEqual([])
        const [next] = await log.append([{ collectionId: 'x', action: 'delete', record: { id: 'r5' } }])
        expect(next!.id).toBeGreaterThan(ids[4]!)
        expect(await log.prunedThrough()).toBe(ids[4])
      } finally {
        await other.close()
        await own.cleanup()
      }
    })

    it('wire: PB_CONNECT with the client id, event named by the full topic with its log id, no hidden field in any frame', async () => {
      const s = await rawStream(g.url)
      expect(s.res.headers.get('content-type')).toBe('text/event-stream')
      expect(s.res.headers.get('cache-control')).toBe('no-store')
      expect(s.clientId).toMatch(/^[A-Za-z0-9]{40}$/)
      expect(s.frames[0]).toMatchObject({
        event: 'PB_CONNECT',
        data: JSON.stringify({ clientId: s.clientId }),
      })
      const topic = `posts/*?options=${encodeURIComponent(JSON.stringify({ query: { filter: 'title = "match"' } }))}`
      const token = alice.authStore.token
      expect(
        (await call(g.url, 'POST', '/api/realtime', token, { clientId: s.clientId, subscriptions: [topic] }))
          .status,
      ).toBe(204)
      await su.collection('posts').create({ title: 'nomatch', owner: aliceId, secret: CANARY })
      const p = await su.collection('posts').create({ title: 'match', owner: aliceId, secret: CANARY })
      await until(() => s.frames.length === 2, 'the filtered event')
      await sleep(200)
      expect(s.frames).toHaveLength(2)
      expect(s.frames[0]).toMatchObject({ id: s.clientId })
      // an event's SSE id is its log id: EventSource sends it back as Last-Event-ID to resume
      expect(s.frames[1]).toMatchObject({ id: String(await g.galley.realtime.log.lastId()), event: topic })
      expect(JSON.parse(s.frames[1]!.data!)).toMatchObject({
        action: 'create',
        record: { id: p.id, title: 'match' },
      })
      for (const f of [...s.frames.map((x) => x.raw), ...frames]) expect(f).not.toContain(CANARY)
      s.close()
    })

    it('POST /api/realtime: errors in PocketBase shape, auth binding and limits at limit+1', async () => {
      const s = await rawStream(g.url)
      const post = (body: unknown, token?: string) => call(g.url, 'POST', '/api/realtime', token, body)
      expect(await post({ clientId: 'x'.repeat(40), subscriptions: [] })).toMatchObject({
        status: 404,
        body: { status: 404, message: 'Missing or invalid client id.' },
      })
      expect(await post({ subscriptions: [] })).toMatchObject({
        status: 400,
        body: { data: { clientId: { code: 'validation_required' } } },
      })
      const many = Array.from({ length: MAX_SUBSCRIPTIONS_PER_CLIENT + 1 }, (_, i) => `posts/${i}`)
      expect((await post({ clientId: s.clientId, subscriptions: many })).status).toBe(400)
      expect((await post({ clientId: s.clientId, subscriptions: many.slice(1) })).status).toBe(204)
      const long = 'posts/' + 'a'.repeat(MAX_TOPIC_LENGTH - 6)
      expect((await post({ clientId: s.clientId, subscriptions: [long + 'a'] })).status).toBe(400)
      expect((await post({ clientId: s.clientId, subscriptions: [long] })).status).toBe(204)
      expect((await post({ clientId: s.clientId, subscriptions: ['posts/*\nevent:x'] })).status).toBe(400)
      // guest -> alice is allowed; then alice -> bob and alice -> guest are not
      expect(
        (await post({ clientId: s.clientId, subscriptions: ['posts/*'] }, alice.authStore.token)).status,
      ).toBe(204)
      expect(
        await post({ clientId: s.clientId, subscriptions: ['posts/*'] }, bob.authStore.token),
      ).toMatchObject({
        status: 403,
        body: { message: "The current and the previous request authorization don't match." },
      })
      expect((await post({ clientId: s.clientId, subscriptions: [] })).status).toBe(403)
      expect((await post({ clientId: s.clientId, subscriptions: [] }, alice.authStore.token)).status).toBe(
        204,
      )
      s.close()
    })

    it(`at most ${MAX_CONNECTIONS_PER_IP} connections per address; a closed one frees its place`, async () => {
      await until(() => g.galley.realtime.clientCount === 0, 'earlier streams to close')
      const streams = []
      for (let i = 0; i < MAX_CONNECTIONS_PER_IP; i++) streams.push(await rawStream(g.url))
      const refused = await fetch(`${g.url}/api/realtime`)
      expect(refused.status).toBe(429)
      expect(await refused.json()).toMatchObject({ status: 429 })
      streams.pop()?.close()
      await until(() => g.galley.realtime.clientCount === MAX_CONNECTIONS_PER_IP - 1, 'the disconnect')
      streams.push(await rawStream(g.url))
      for (const s of streams) s.close()
      await until(() => g.galley.realtime.clientCount === 0, 'all disconnects')
    })

    it('a subscriber that stops reading is dropped once it leaves 1 MiB unread; the others get everything', async () => {
      await su.collections.create({
        name: 'blobs',
        type: 'base',
        listRule: '',
        fields: [{ name: 'body', type: 'text', max: 300_000 }],
      })
      // a raw connection that reads PB_CONNECT and then nothing more
      const url = new URL(g.url)
      const socket = connect(Number(url.port), url.hostname)
      socket.write(`GET /api/realtime HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`)
      const first = await new Promise<string>((resolve) =>
        socket.once('data', (d: Buffer) => resolve(d.toString())),
      )
      socket.pause()
      const clientId = /id:(\w{40})/.exec(first)?.[1] ?? ''
      expect(clientId).toHaveLength(40)
      expect(
        (await call(g.url, 'POST', '/api/realtime', undefined, { clientId, subscriptions: ['blobs'] }))
          .status,
      ).toBe(204)
      const reader = g.sdk()
      opened.push(reader)
      const got: Msg[] = []
      await reader.collection('blobs').subscribe('*', (m) => got.push(m))
      const before = g.galley.realtime.clientCount
      // 60 records of 200 KB: 12 MB, far more than the socket buffers and the 1 MiB cap hold
      const body = 'b'.repeat(200_000)
      for (let i = 0; i < 60; i++) await su.collection('blobs').create({ body })
      await until(() => got.length === 60, 'every event at the reading subscriber', 30_000)
      await until(
        () => g.galley.realtime.clientCount === before - 1,
        'the stalled client to be dropped',
        30_000,
      )
      expect(got.every((m) => m.record.body === body)).toBe(true)
      socket.destroy()
      await reader.realtime.unsubscribe()
    })

    it('shutdown ends open streams promptly, with an SDK subscriber and a raw stream open', async () => {
      const own = await createStore(kind)
      const other = await startGalley(own)
      try {
        const pb = await other.asSuperuser()
        await pb.collections.create({
          name: 'notes',
          type: 'base',
          listRule: '',
          fields: [{ name: 't', type: 'text' }],
        })
        const got: Msg[] = []
        await pb.collection('notes').subscribe('*', (m: Msg) => got.push(m))
        const s = await rawStream(other.url)
        await pb.collection('notes').create({ t: 'x' })
        await until(() => got.length === 1, 'a live subscription')
        const started = Date.now()
        await other.close()
        await s.done
        expect(s.ended).toBe(true)
        expect(Date.now() - started).toBeLessThan(3000)
        pb.realtime.unsubscribe().catch(() => {})
      } finally {
        await own.cleanup()
      }
    })
  })
}

describe('SSE stream bounds', () => {
  function fakeSink() {
    return {
      chunks: [] as string[],
      writableLength: 0,
      ended: false,
      destroyed: false,
      write(chunk: string) {
        this.chunks.push(chunk)
        this.writableLength += Buffer.byteLength(chunk) // a client that never reads
        return false
      },
      end() {
        this.ended = true
      },
      destroy() {
        this.destroyed = true
      },
    }
  }

  it(`drops a client that left more than ${SSE_MAX_BUFFERED_BYTES} bytes unread, not one at the cap`, () => {
    const sink = fakeSink()
    const reasons: string[] = []
    const s = new SseStream(sink, 'c'.repeat(40), {}, (r) => reasons.push(r))
    const overhead = Buffer.byteLength(`id:${'c'.repeat(40)}\nevent:e\ndata:""\n\n`)
    expect(s.send('e', 'x'.repeat(SSE_MAX_BUFFERED_BYTES - overhead))).toBe(true)
    expect(sink.writableLength).toBe(SSE_MAX_BUFFERED_BYTES)
    // at the cap: the next frame still goes; past it, the client has stopped reading
    expect(s.send('e', '')).toBe(true)
    expect(sink.destroyed).toBe(false)
    expect(s.send('e', '')).toBe(false)
    expect(sink.destroyed).toBe(true)
    expect(reasons).toEqual(['send buffer full'])
    expect(s.send('e', 'later')).toBe(false)
  })

  it('a frame larger than the cap reaches a client that keeps up', () => {
    const sink = fakeSink()
    const reasons: string[] = []
    const s = new SseStream(sink, 'c'.repeat(40), {}, (r) => reasons.push(r))
    expect(s.send('e', 'x'.repeat(2 * SSE_MAX_BUFFERED_BYTES))).toBe(true)
    expect(sink.destroyed).toBe(false)
    expect(reasons).toEqual([])
  })

  it('ends an idle stream and sends heartbeats as comments', async () => {
    const sink = fakeSink()
    const reasons: string[] = []
    const s = new SseStream(sink, 'id', { idleTimeoutMs: 150, heartbeatMs: 40 }, (r) => reasons.push(r))
    s.send('PB_CONNECT', {})
    await sleep(100)
    expect(sink.chunks.slice(1)).toContain(':\n\n')
    expect(reasons).toEqual([])
    await sleep(150)
    expect(reasons).toEqual(['idle'])
    expect(sink.ended).toBe(true)
  })
})

/**
 * Realtime over WebSocket (`/api/realtime/ws`, docs/realtime.md) with the `ws` package as client,
 * on SQLite and PostgreSQL: the protocol (connected, auth, subscribe, unsubscribe, ping, errors with
 * the request id), events with expand and fields, rules and REST's projection on every delivery
 * (canary scan of every frame), tokens that are forged, expired or switch users, and every bound at
 * its limit and past it: message size, subscriptions, topic length, message rate, invalid messages,
 * a client that stops reading, connections per address, heartbeat and idle timeout, shutdown.
 */
import { connect } from 'node:net'
import type PocketBase from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildHttpServer } from '../src/http/index.js'
import {
  WS_CLOSE,
  WS_MAX_INVALID_MESSAGES,
  WS_MAX_MESSAGE_BYTES,
  WS_MAX_MESSAGES,
} from '../src/http/routes/realtime-ws.js'
import {
  MAX_CONNECTIONS_PER_IP,
  MAX_SUBSCRIPTIONS_PER_CLIENT,
  MAX_TOPIC_LENGTH,
} from '../src/realtime/index.js'
import { MAX_PUBLISH_BYTES } from '../src/realtime/realtime-service.js'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import { call } from './helpers/rest.js'
import { openWs, until, type WsClient } from './helpers/ws.js'

const CANARY = 'canary-ws-5a1d-never-sent'
const PASSWORD = 'a long password 123'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const options = (o: Record<string, unknown>) => `?options=${encodeURIComponent(JSON.stringify({ query: o }))}`

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`realtime WebSocket (${kind})`, () => {
    let store: TestStore
    let g: RunningGalley
    let su: PocketBase
    let aliceToken = ''
    let bobToken = ''
    let aliceId = ''
    let bobId = ''
    let authorId = ''
    const opened: WsClient[] = []

    const open = async (opts?: Parameters<typeof openWs>[1]) => {
      const c = await openWs(g.url, opts)
      opened.push(c)
      return c
    }
    const signIn = async (email: string) => {
      const pb = g.sdk()
      await pb.collection('users').authWithPassword(email, PASSWORD)
      return pb.authStore.token
    }
    const ok = async (c: WsClient, msg: Record<string, unknown>) => {
      const reply = await c.request(msg)
      expect(reply, reply.raw).toMatchObject({ type: 'ok' })
      return reply
    }
    /** Every frame of every client of this suite must be free of hidden values. */
    const scanAll = () => {
      for (const c of opened) for (const f of c.frames) expect(f.raw).not.toContain(CANARY)
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
        fields: [
          { name: 'name', type: 'text' },
          { name: 'note', type: 'text', hidden: true },
        ],
      })
      const users = await su.collections.getOne('users')
      await su.collections.create({
        name: 'posts',
        type: 'base',
        listRule: 'owner = @request.auth.id || public = true',
        viewRule: 'owner = @request.auth.id || public = true',
        fields: [
          { name: 'title', type: 'text' },
          { name: 'public', type: 'bool' },
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
      aliceToken = await signIn('alice@example.com')
      bobToken = await signIn('bob@example.com')
      aliceId = (await su.collection('users').getFirstListItem('email = "alice@example.com"')).id
      bobId = (await su.collection('users').getFirstListItem('email = "bob@example.com"')).id
      authorId = (await su.collection('authors').create({ name: 'Ann Author', note: CANARY })).id
    })

    afterAll(async () => {
      for (const c of opened) await c.close()
      await g?.close()
      await store?.cleanup()
    })

    it('connected, ping/pong with the request id, errors for malformed, binary and unknown messages', async () => {
      const c = await open()
      expect(c.clientId).toMatch(/^[A-Za-z0-9]{40}$/)
      expect(c.frames[0]).toEqual({ type: 'connected', clientId: c.clientId, raw: c.frames[0]!.raw })
      expect(await c.request({ type: 'ping' })).toMatchObject({ type: 'pong' })
      c.send(JSON.stringify({ type: 'ping', requestId: 7 }))
      await until(() => c.frames.some((f) => f.requestId === 7), 'the numeric request id')
      c.send('{not json')
      c.send('[1,2]')
      c.send(Buffer.from([1, 2, 3]))
      await until(() => c.frames.filter((f) => f.type === 'error').length === 3, 'three errors')
      const errors = c.frames.filter((f) => f.type === 'error')
      expect(errors.map((e) => [e.status, e.message])).toEqual([
        [400, 'A message must be valid JSON.'],
        [400, 'A message must be a JSON object.'],
        [400, 'Messages must be JSON text.'],
      ])
      expect(await c.request({ type: 'shout' })).toMatchObject({
        type: 'error',
        status: 400,
        message: 'Unknown message type.',
        data: { type: { code: 'validation_invalid_value' } },
      })
      expect(await c.request({ type: 'subscribe', topics: 'posts/*' })).toMatchObject({
        type: 'error',
        status: 400,
        data: { subscriptions: { code: 'validation_invalid_value' } },
      })
      expect(c.closed).toBeUndefined()
    })

    it('delivers create, update and delete with expand and fields, only to who may view, no hidden field', async () => {
      const alice = await open()
      await ok(alice, { type: 'auth', token: aliceToken })
      const all = `posts/*${options({ expand: 'author', fields: 'id,title,secret,expand.author.name,expand.author.note' })}`
      await ok(alice, { type: 'subscribe', topics: [all] })
      const bob = await open()
      await ok(bob, { type: 'auth', token: bobToken })
      await ok(bob, { type: 'subscribe', topics: ['posts/*'] })
      const guest = await open()
      await ok(guest, { type: 'subscribe', topics: ['posts/*', 'authors/*'] })

      const post = await su
        .collection('posts')
        .create({ title: 'first', secret: CANARY, owner: aliceId, author: authorId })
      await until(() => alice.events().length === 1, 'the create event')
      const [created] = alice.events()
      expect(created).toMatchObject({
        type: 'event',
        topic: all,
        action: 'create',
        record: { id: post.id, title: 'first', expand: { author: { name: 'Ann Author' } } },
      })
      expect(created!.id).toEqual(expect.any(Number))
      expect(Object.keys(created!.record as object).sort()).toEqual(['expand', 'id', 'title'])

      const one = await open()
      await ok(one, { type: 'auth', token: aliceToken })
      await ok(one, { type: 'subscribe', topics: [`posts/${post.id}`] })
      await su.collection('posts').update(post.id, { title: 'second' })
      await until(() => alice.events().length === 2 && one.events().length === 1, 'the update events')
      expect(one.events()[0]).toMatchObject({
        action: 'update',
        topic: `posts/${post.id}`,
        record: { id: post.id, title: 'second', owner: aliceId },
      })
      expect(one.events()[0]!.record).not.toHaveProperty('secret')
      expect(one.events()[0]!.id).toBe(alice.events()[1]!.id)

      await su.collection('posts').delete(post.id)
      await until(() => alice.events().length === 3 && one.events().length === 2, 'the delete events')
      expect(alice.events()[2]).toMatchObject({ action: 'delete', record: { id: post.id, title: 'second' } })
      const ids = alice.events().map((e) => e.id as number)
      expect([...ids].sort((a, b) => a - b)).toEqual(ids)

      // a public post reaches everyone; bob's own reaches bob; alice's private one never bob nor guests
      const pub = await su.collection('posts').create({ title: 'public', public: true, secret: CANARY })
      const mine = await su.collection('posts').create({ title: 'bobs', owner: bobId, secret: CANARY })
      await until(() => bob.events().length === 2 && guest.events().length === 1, 'bob and the guest')
      expect(bob.events().map((e) => (e.record as { id: string }).id)).toEqual([pub.id, mine.id])
      expect(guest.events().map((e) => (e.record as { id: string }).id)).toEqual([pub.id])
      await su.collection('authors').update(authorId, { name: 'Ann A.' })
      await until(() => guest.events().length === 2, 'the author update')
      expect(guest.events()[1]!.record).not.toHaveProperty('note')
      await sleep(200)
      expect(bob.events()).toHaveLength(2)
      scanAll()
    })

    it('auth after subscribe re-checks the set; tokens are checked like REST, users cannot be switched', async () => {
      const c = await open()
      await ok(c, { type: 'subscribe', topics: ['posts/*'] })
      await su.collection('posts').create({ title: 'before auth', owner: aliceId })
      const marker = await su.collection('posts').create({ title: 'marker', public: true })
      await until(() => c.events().length === 1, 'the public marker')
      expect((c.events()[0]!.record as { id: string }).id).toBe(marker.id)

      const forged = aliceToken.slice(0, -3) + (aliceToken.endsWith('AAA') ? 'BBB' : 'AAA')
      expect(await c.request({ type: 'auth', token: forged })).toMatchObject({
        type: 'error',
        status: 401,
        message: 'The request requires valid record authorization token.',
      })
      expect(await c.request({ type: 'auth', token: 'not a jwt' })).toMatchObject({
        type: 'error',
        status: 401,
      })
      expect(await c.request({ type: 'auth', token: 42 })).toMatchObject({ type: 'error', status: 400 })
      // an impersonation token of one second, used once expired
      const short = await call(
        g.url,
        'POST',
        `/api/collections/users/impersonate/${aliceId}`,
        su.authStore.token,
        {
          duration: 1,
        },
      )
      expect(short.status).toBe(200)
      await sleep(2100)
      expect(await c.request({ type: 'auth', token: short.body.token })).toMatchObject({
        type: 'error',
        status: 401,
      })
      // still a guest after the refusals
      await su.collection('posts').create({ title: 'still hidden', owner: aliceId })
      // deliveries are checked with the auth of their time: wait until the guest's are done
      const marker2 = await su.collection('posts').create({ title: 'marker 2', public: true })
      await until(() => c.events().length === 2, 'the second marker')
      expect((c.events()[1]!.record as { id: string }).id).toBe(marker2.id)
      await ok(c, { type: 'auth', token: aliceToken })
      const after = await su.collection('posts').create({ title: 'after auth', owner: aliceId })
      await until(() => c.events().length === 3, "alice's post after auth")
      expect((c.events()[2]!.record as { id: string }).id).toBe(after.id)

      const mismatch = "The current and the previous request authorization don't match."
      expect(await c.request({ type: 'auth', token: bobToken })).toMatchObject({
        type: 'error',
        status: 403,
        message: mismatch,
      })
      expect(await c.request({ type: 'auth', token: null })).toMatchObject({ type: 'error', status: 403 })
      await ok(c, { type: 'auth', token: aliceToken })
      // the set survived the refusals, still as alice
      const last = await su.collection('posts').create({ title: 'still alice', owner: aliceId })
      await until(() => c.events().length === 4, 'a post after the refusals')
      expect((c.events()[3]!.record as { id: string }).id).toBe(last.id)
    })

    it('a revoked session ends: a new password closes the connection (4001) before any later event', async () => {
      const email = 'carol@example.com'
      const carolId = (
        await su.collection('users').create({ email, password: PASSWORD, passwordConfirm: PASSWORD })
      ).id
      const token = await signIn(email)
      const c = await open()
      await ok(c, { type: 'auth', token })
      await ok(c, { type: 'subscribe', topics: ['posts/*'] })
      const mine = await su.collection('posts').create({ title: 'carol 1', owner: carolId })
      await until(() => c.events().length === 1, "carol's post")
      expect((c.events()[0]!.record as { id: string }).id).toBe(mine.id)
      await su
        .collection('users')
        .update(carolId, { password: 'a new password 456', passwordConfirm: 'a new password 456' })
      await su.collection('posts').create({ title: 'carol 2', owner: carolId, secret: CANARY })
      await until(() => c.closed !== undefined, 'the end of the session')
      expect(c.closed).toEqual({ code: WS_CLOSE.ended, reason: 'auth revoked' })
      expect(c.events().map((e) => (e.record as { title: string }).title)).toEqual(['carol 1'])
      // the old token signs in nowhere
      const again = await open()
      expect(await again.request({ type: 'auth', token })).toMatchObject({ type: 'error', status: 401 })
      scanAll()
    })

    it('the connection ends when the token that signed it in expires, whatever the set does after', async () => {
      const short = await call(
        g.url,
        'POST',
        `/api/collections/users/impersonate/${aliceId}`,
        su.authStore.token,
        {
          duration: 2,
        },
      )
      const c = await open()
      await ok(c, { type: 'auth', token: short.body.token })
      const started = Date.now()
      // changing the set afterwards keeps the expiry
      await ok(c, { type: 'subscribe', topics: ['posts/*'] })
      await ok(c, { type: 'unsubscribe', topics: ['posts/*'] })
      await until(() => c.closed !== undefined, 'the expiry', 5000)
      expect(c.closed).toEqual({ code: WS_CLOSE.ended, reason: 'auth expired' })
      expect(Date.now() - started).toBeLessThan(3000)
      // the same through an Authorization header on the upgrade
      const short2 = await call(
        g.url,
        'POST',
        `/api/collections/users/impersonate/${aliceId}`,
        su.authStore.token,
        {
          duration: 2,
        },
      )
      const h = await open({ headers: { authorization: String(short2.body.token) } })
      await ok(h, { type: 'subscribe', topics: ['posts/*'] })
      await until(() => h.closed !== undefined, 'the expiry', 5000)
      expect(h.closed).toEqual({ code: WS_CLOSE.ended, reason: 'auth expired' })
    })

    it('an Authorization header on the upgrade signs in; an invalid one is refused with 401', async () => {
      const c = await open({ headers: { authorization: aliceToken } })
      await ok(c, { type: 'subscribe', topics: ['posts/*'] })
      const p = await su.collection('posts').create({ title: 'header auth', owner: aliceId })
      await until(() => c.events().length === 1, 'the event')
      expect((c.events()[0]!.record as { id: string }).id).toBe(p.id)
      expect(await c.request({ type: 'auth', token: bobToken })).toMatchObject({ status: 403 })
      await expect(open({ headers: { authorization: 'Bearer forged.token.value' } })).rejects.toMatchObject({
        status: 401,
      })
    })

    it('subscribe adds, unsubscribe removes (by name with every options variant, or all)', async () => {
      const c = await open()
      const filtered = `posts/*${options({ filter: 'title = "x"' })}`
      expect(await ok(c, { type: 'subscribe', topics: ['posts/*', filtered] })).toMatchObject({
        topics: ['posts/*', filtered],
      })
      expect(await ok(c, { type: 'subscribe', topics: ['posts/*', 'authors/*'] })).toMatchObject({
        topics: ['posts/*', filtered, 'authors/*'],
      })
      const x = await su.collection('posts').create({ title: 'x', public: true })
      await until(() => c.events().length === 2, 'both posts subscriptions')
      expect(
        c
          .events()
          .map((e) => e.topic)
          .sort(),
      ).toEqual(['posts/*', filtered].sort())
      expect(c.events().every((e) => (e.record as { id: string }).id === x.id)).toBe(true)
      expect(await ok(c, { type: 'unsubscribe', topics: ['posts'] })).toMatchObject({
        topics: ['posts/*', filtered, 'authors/*'],
      })
      expect(await ok(c, { type: 'unsubscribe', topics: ['posts/*'] })).toMatchObject({
        topics: ['authors/*'],
      })
      await su.collection('posts').create({ title: 'x', public: true })
      await su.collection('authors').update(authorId, { name: 'marker' })
      await until(() => c.events().length === 3, 'the authors event')
      expect(c.events()[2]!.topic).toBe('authors/*')
      expect(await ok(c, { type: 'unsubscribe', topics: [] })).toMatchObject({ topics: ['authors/*'] })
      expect(await ok(c, { type: 'unsubscribe' })).toMatchObject({ topics: [] })
      expect(
        await c.request({ type: 'subscribe', topics: [`posts/*${options({ fields: 'title:excerpt(0)' })}`] }),
      ).toMatchObject({
        type: 'error',
        status: 400,
      })
      expect(await c.request({ type: 'subscribe', topics: ['posts/*?options=%7Bbad'] })).toMatchObject({
        type: 'error',
        status: 400,
        data: { subscriptions: { 0: { code: 'validation_invalid_options' } } },
      })
    })

    it(`subscriptions: ${MAX_SUBSCRIPTIONS_PER_CLIENT} per client and ${MAX_TOPIC_LENGTH} characters a topic, refused at limit+1`, async () => {
      const c = await open()
      const many = Array.from({ length: MAX_SUBSCRIPTIONS_PER_CLIENT + 1 }, (_, i) => `posts/${i}`)
      expect(await c.request({ type: 'subscribe', topics: many })).toMatchObject({
        type: 'error',
        status: 400,
        data: { subscriptions: { code: 'validation_length_too_long' } },
      })
      await ok(c, { type: 'subscribe', topics: many.slice(0, -2) })
      // the set is bounded across messages too
      expect(await c.request({ type: 'subscribe', topics: many.slice(-2) })).toMatchObject({
        type: 'error',
        status: 400,
      })
      expect((await ok(c, { type: 'subscribe', topics: many.slice(-2, -1) })).topics).toHaveLength(
        MAX_SUBSCRIPTIONS_PER_CLIENT,
      )
      await ok(c, { type: 'unsubscribe' })
      const long = 'posts/' + 'a'.repeat(MAX_TOPIC_LENGTH - 6)
      expect(await c.request({ type: 'subscribe', topics: [long + 'a'] })).toMatchObject({
        type: 'error',
        status: 400,
        data: { subscriptions: { 0: { code: 'validation_length_too_long' } } },
      })
      await ok(c, { type: 'subscribe', topics: [long] })
    })

    it(`a message of ${WS_MAX_MESSAGE_BYTES} bytes is read; one byte more closes with 1009`, async () => {
      const c = await open()
      const frame = (n: number) => {
        const base = JSON.stringify({ type: 'ping', requestId: 'big', pad: '' })
        return JSON.stringify({ type: 'ping', requestId: 'big', pad: 'x'.repeat(n - base.length) })
      }
      expect(Buffer.byteLength(frame(WS_MAX_MESSAGE_BYTES))).toBe(WS_MAX_MESSAGE_BYTES)
      c.send(frame(WS_MAX_MESSAGE_BYTES))
      await until(() => c.frames.some((f) => f.requestId === 'big'), 'the pong')
      c.send(frame(WS_MAX_MESSAGE_BYTES + 1))
      await until(() => c.closed !== undefined, 'the close')
      expect(c.closed?.code).toBe(1009)
      await until(
        () => g.galley.realtime.clientCount === opened.filter((o) => !o.closed).length,
        'its place back',
      )
    })

    it(`${WS_MAX_INVALID_MESSAGES} invalid messages get errors; one more closes with 1008`, async () => {
      const c = await open()
      for (let i = 0; i < WS_MAX_INVALID_MESSAGES; i++) c.send('garbage')
      await until(
        () => c.frames.filter((f) => f.type === 'error').length === WS_MAX_INVALID_MESSAGES,
        'the errors',
      )
      expect(await c.request({ type: 'ping' })).toMatchObject({ type: 'pong' })
      expect(c.closed).toBeUndefined()
      c.send('garbage')
      await until(() => c.closed !== undefined, 'the close')
      expect(c.closed).toEqual({ code: WS_CLOSE.policy, reason: 'too many invalid messages' })
    })

    it(`${WS_MAX_MESSAGES} messages per window are answered; one more closes with 1008`, async () => {
      const c = await open()
      for (let i = 0; i < WS_MAX_MESSAGES; i++) c.send(JSON.stringify({ type: 'ping', requestId: i }))
      await until(() => c.frames.filter((f) => f.type === 'pong').length === WS_MAX_MESSAGES, 'every pong')
      expect(c.closed).toBeUndefined()
      c.send(JSON.stringify({ type: 'ping' }))
      await until(() => c.closed !== undefined, 'the close')
      expect(c.closed).toEqual({ code: WS_CLOSE.policy, reason: 'too many messages' })
    })

    it('published messages reach exactly the subscribers of their topic, each publish as it was then', async () => {
      const a = await open()
      const b = await open()
      await ok(a, { type: 'subscribe', topics: ['news'] })
      await ok(b, { type: 'subscribe', topics: ['news?options=%7B%7D', 'other'] })
      const data = { n: 1 }
      await g.galley.realtime.publish('news', data)
      data.n = 2
      await g.galley.realtime.publish('news', data, a.clientId)
      await until(() => a.frames.filter((f) => f.type === 'message').length === 2, 'two messages')
      await until(() => b.frames.some((f) => f.type === 'message'), 'one message')
      expect(a.frames.filter((f) => f.type === 'message').map((f) => [f.topic, f.data])).toEqual([
        ['news', { n: 1 }],
        ['news', { n: 2 }],
      ])
      expect(b.frames.filter((f) => f.type === 'message').map((f) => [f.topic, f.data])).toEqual([
        ['news?options=%7B%7D', { n: 1 }],
      ])
    })

    it('a client that stops reading is dropped once its unread data passes the cap; the others keep up', async () => {
      const slow = await open()
      const fast = await open()
      for (const c of [slow, fast]) await ok(c, { type: 'subscribe', topics: ['bulk', 'posts/*'] })
      slow.socket.pause()
      const before = g.galley.realtime.clientCount
      // a published message travels between instances: at most MAX_PUBLISH_BYTES
      const chunk = 'y'.repeat(MAX_PUBLISH_BYTES - 100)
      let sent = 0
      // paced in bursts, so a client that reads keeps up; bounded: 20,000 messages, ~140 MB
      while (g.galley.realtime.clientCount === before && sent < 20_000) {
        for (let i = 0; i < 20; i++) await g.galley.realtime.publish('bulk', { n: sent++, chunk })
        await sleep(2)
      }
      expect(g.galley.realtime.clientCount).toBe(before - 1)
      const p = await su.collection('posts').create({ title: 'after the drop', public: true })
      await until(() => fast.events().length === 1, 'the event to the reading client', 10_000)
      expect((fast.events()[0]!.record as { id: string }).id).toBe(p.id)
      await until(() => fast.frames.filter((f) => f.type === 'message').length === sent, 'every bulk message')
      slow.socket.resume()
      await until(() => slow.closed !== undefined, 'the slow client to see its close', 10_000)
      expect([WS_CLOSE.sendBufferFull, 1006]).toContain(slow.closed?.code)
      expect(slow.frames.filter((f) => f.type === 'message').length).toBeLessThanOrEqual(sent)
    })

    it('an upgrade the WebSocket handshake refuses gives its connection place back', async () => {
      await until(
        () => g.galley.realtime.clientCount === opened.filter((o) => !o.closed).length,
        'a settled count',
      )
      const before = g.galley.realtime.clientCount
      const { port } = new URL(g.url)
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () =>
          socket.write(
            'GET /api/realtime/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
              'Sec-WebSocket-Version: 99\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
          ),
        )
        let text = ''
        socket.on('data', (d) => (text += d.toString()))
        socket.on('close', () => resolve(text))
        socket.on('error', reject)
        socket.setTimeout(5000, () => socket.destroy())
      })
      expect(answer).toMatch(/^HTTP\/1\.1 400/)
      await until(() => g.galley.realtime.clientCount === before, 'the place given back')
    })

    it('?since= must be an event id; a plain GET is a 400', async () => {
      await expect(open({ query: '?since=abc' })).rejects.toMatchObject({ status: 400 })
      await expect(open({ query: '?since=-1' })).rejects.toMatchObject({ status: 400 })
      const c = await open({ query: '?since=0' })
      expect(await c.request({ type: 'ping' })).toMatchObject({ type: 'pong' })
      const plain = await call(g.url, 'GET', '/api/realtime/ws')
      expect(plain).toMatchObject({
        status: 400,
        body: { status: 400, message: 'Expected a WebSocket upgrade.' },
      })
    })

    it(`at most ${MAX_CONNECTIONS_PER_IP} connections per address (SSE and WebSocket together); the next is a 429`, async () => {
      for (const c of opened) await c.close()
      await until(() => g.galley.realtime.clientCount === 0, 'earlier clients to close')
      const clients: WsClient[] = []
      for (let i = 0; i < MAX_CONNECTIONS_PER_IP; i++) clients.push(await open())
      await expect(open()).rejects.toMatchObject({ status: 429 })
      const sse = await fetch(`${g.url}/api/realtime`)
      expect(sse.status).toBe(429)
      // another loopback address has its own allowance
      const other = await open({ localAddress: '127.0.0.2' })
      expect(await other.request({ type: 'ping' })).toMatchObject({ type: 'pong' })
      await clients.pop()!.close()
      await until(() => g.galley.realtime.clientCount === MAX_CONNECTIONS_PER_IP, 'the freed place')
      clients.push(await open())
      for (const c of [...clients, other]) await c.close()
      await until(() => g.galley.realtime.clientCount === 0, 'all disconnects')
    })

    it('shutdown closes open sockets with 1001 promptly', async () => {
      const own = await createStore(kind)
      const other = await startGalley(own)
      try {
        const c = await openWs(other.url)
        const idle = await openWs(other.url)
        idle.socket.pause()
        await ok(c, { type: 'subscribe', topics: ['posts/*'] })
        const started = Date.now()
        await other.close()
        expect(Date.now() - started).toBeLessThan(5000)
        await until(() => c.closed !== undefined, 'the close')
        expect(c.closed).toEqual({ code: WS_CLOSE.shutdown, reason: 'server shutting down' })
        idle.socket.resume()
        await until(() => idle.closed !== undefined, 'the paused client')
      } finally {
        await own.cleanup()
      }
    })

    /** Another HTTP server over this suite's Galley services, with its own options. */
    async function customServer(extra: Partial<Parameters<typeof buildHttpServer>[0]>) {
      const gl = g.galley
      const app = await buildHttpServer({
        database: gl.database,
        collections: gl.collections,
        settings: gl.settings,
        auth: gl.auth,
        records: gl.records,
        mail: gl.mail,
        realtime: gl.realtime,
        installer: gl.installer,
        logger: gl.logger,
        ...extra,
      })
      await app.listen({ host: '127.0.0.1', port: 0 })
      const address = app.server.address()
      return { app, url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` }
    }

    it('heartbeat: ping frames keep a live client; one that never answers is dropped after the idle timeout', async () => {
      const { app, url } = await customServer({ realtimeWs: { heartbeatMs: 50, idleTimeoutMs: 300 } })
      try {
        const live = await openWs(url)
        const pings: number[] = []
        live.socket.on('ping', () => pings.push(Date.now()))
        const dead = await openWs(url, { autoPong: false })
        await until(() => dead.closed !== undefined, 'the idle drop', 3000)
        expect(dead.closed?.code).toBe(1006)
        await sleep(400)
        expect(live.closed).toBeUndefined()
        expect(pings.length).toBeGreaterThanOrEqual(5)
        expect(await live.request({ type: 'ping' })).toMatchObject({ type: 'pong' })
        await live.close()
      } finally {
        await app.close()
      }
    })

    it('with allowed origins set, a browser page from another origin cannot connect (403)', async () => {
      const { app, url } = await customServer({ origins: ['https://app.example.com'] })
      try {
        await expect(openWs(url, { headers: { origin: 'https://evil.example.com' } })).rejects.toMatchObject({
          status: 403,
        })
        const allowed = await openWs(url, { headers: { origin: 'https://app.example.com' } })
        const noOrigin = await openWs(url)
        for (const c of [allowed, noOrigin]) {
          expect(await c.request({ type: 'ping' })).toMatchObject({ type: 'pong' })
          await c.close()
        }
      } finally {
        await app.close()
      }
      // the default allows any origin
      const c = await open({ headers: { origin: 'https://anywhere.example.com' } })
      expect(await c.request({ type: 'ping' })).toMatchObject({ type: 'pong' })
    })
  })
}

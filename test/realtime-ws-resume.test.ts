/**
 * Resume over WebSocket (`?since=`, docs/realtime.md), on SQLite and PostgreSQL: a subscriber that
 * reconnects with the last event id it saw gets every event it missed, in order, without
 * duplicates, checked against its rules at replay, then live events; past the log's retention it
 * first gets `resync`, then the events after the resync id.
 */
import type PocketBase from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import { openWs, until, type WsClient } from './helpers/ws.js'

const PASSWORD = 'a long password 123'
const MISSED = 1000

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`realtime WebSocket resume (${kind})`, () => {
    let store: TestStore
    let g: RunningGalley
    let su: PocketBase
    let aliceToken = ''
    let aliceId = ''
    let bobId = ''
    const opened: WsClient[] = []

    const subscribe = async (c: WsClient) => {
      expect(await c.request({ type: 'auth', token: aliceToken })).toMatchObject({ type: 'ok' })
      expect(await c.request({ type: 'subscribe', topics: ['notes/*'] })).toMatchObject({ type: 'ok' })
    }
    const open = async (query?: string) => {
      const c = await openWs(g.url, { query })
      opened.push(c)
      return c
    }
    /** Writes `n` notes in batches (alice's, and every tenth one bob's, which alice may not see). */
    const write = async (n: number, tag: string) => {
      const ids: string[] = []
      for (let i = 0; i < n; i += 50) {
        const batch = su.createBatch()
        for (let j = i; j < Math.min(n, i + 50); j++)
          batch.collection('notes').create({ text: `${tag} ${j}`, owner: j % 10 === 9 ? bobId : aliceId })
        const results = (await batch.send()) as { body: { id: string; owner: string } }[]
        ids.push(...results.filter((r) => r.body.owner === aliceId).map((r) => r.body.id))
      }
      return ids
    }

    beforeAll(async () => {
      store = await createStore(kind)
      g = await startGalley(store)
      su = await g.asSuperuser()
      await su.settings.update({ batch: { enabled: true, maxRequests: 50, timeout: 10, maxBodySize: 0 } })
      const users = await su.collections.getOne('users')
      await su.collections.create({
        name: 'notes',
        type: 'base',
        listRule: 'owner = @request.auth.id',
        viewRule: 'owner = @request.auth.id',
        fields: [
          { name: 'text', type: 'text' },
          { name: 'owner', type: 'relation', collectionId: users.id, maxSelect: 1 },
        ],
      })
      for (const email of ['alice@example.com', 'bob@example.com'])
        await su.collection('users').create({ email, password: PASSWORD, passwordConfirm: PASSWORD })
      const pb = g.sdk()
      await pb.collection('users').authWithPassword('alice@example.com', PASSWORD)
      aliceToken = pb.authStore.token
      aliceId = pb.authStore.record!.id
      bobId = (await su.collection('users').getFirstListItem('email = "bob@example.com"')).id
    })

    afterAll(async () => {
      for (const c of opened) await c.close()
      await g?.close()
      await store?.cleanup()
    })

    it(`a subscriber back with ?since= gets all ${MISSED} missed events in order, none twice, then live ones`, async () => {
      const first = await open()
      await subscribe(first)
      const [seen] = await write(1, 'seen')
      await until(() => first.events().length === 1, 'the first event')
      expect((first.events()[0]!.record as { id: string }).id).toBe(seen)
      const last = first.events()[0]!.id as number
      await first.close()

      const missed = await write(Math.round(MISSED / 0.9), 'missed')
      expect(missed).toHaveLength(MISSED)
      const back = await open(`?since=${last}`)
      await subscribe(back)
      await until(() => back.events().length >= MISSED, 'the replay', 60_000)
      const live = await write(1, 'live')
      await until(() => back.events().length === MISSED + 1, 'the live event', 10_000)
      const got = back.events().map((e) => (e.record as { id: string }).id)
      expect(got).toEqual([...missed, ...live])
      const ids = back.events().map((e) => e.id as number)
      expect(new Set(ids).size).toBe(ids.length)
      expect(ids.every((id, i) => id > (i === 0 ? last : ids[i - 1]!))).toBe(true)
      expect(back.frames.some((f) => f.type === 'resync')).toBe(false)
    }, 120_000)

    it('past the retention the subscriber first gets resync, then the events after it', async () => {
      const first = await open()
      await subscribe(first)
      await write(1, 'old')
      await until(() => first.events().length === 1, 'an event')
      const last = first.events()[0]!.id as number
      await first.close()
      await write(10, 'lost')
      // everything logged so far is past the retention (10 minutes)
      await g.galley.realtime.log.prune(Date.now() + 11 * 60_000)
      const back = await open(`?since=${last}`)
      await subscribe(back)
      await until(() => back.frames.some((f) => f.type === 'resync'), 'the resync', 10_000)
      // the client reloads here; the events after the resync id follow
      const after = await write(1, 'after')
      await until(() => back.events().length >= 1, 'the event after the resync', 10_000)
      const frames = back.frames.filter((f) => f.type === 'resync' || f.type === 'event')
      expect(frames[0]).toMatchObject({ type: 'resync', id: expect.any(Number) })
      const resyncId = frames[0]!.id as number
      expect(resyncId).toBeGreaterThan(last)
      const events = frames.slice(1)
      expect(events.map((e) => (e.record as { id: string }).id)).toEqual(after)
      expect(events.every((e) => (e.id as number) > resyncId)).toBe(true)
    }, 60_000)
  })
}

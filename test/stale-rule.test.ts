/**
 * A rule saved before rules were compiled at save time (or edited outside Galley) may no longer
 * compile. It then grants nothing: list answers no items, view/update/delete 404, create 400, as
 * for any rule the request does not satisfy. Never a 500; superusers are unaffected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import { expectErrorShape, send } from './helpers/wire.js'

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`a rule that no longer compiles, on ${kind}`, () => {
    let store: TestStore
    let g: RunningGalley
    let token: string
    let id: string

    beforeAll(async () => {
      store = await createStore(kind)
      g = await startGalley(store)
      const su = await g.asSuperuser()
      token = su.authStore.token
      const c = await su.collections.create({
        name: 'stale',
        type: 'base',
        fields: [{ name: 'title', type: 'text' }],
      })
      id = (await su.collection('stale').create({ title: 'a' })).id
      // Every rule names a field that does not exist: written behind the API's back.
      const db = g.galley.database.db
      const row = await db
        .selectFrom('_collections')
        .select('data')
        .where('id', '=', c.id)
        .executeTakeFirstOrThrow()
      const data = JSON.parse(String(row.data)) as Record<string, unknown>
      for (const key of ['listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule'])
        data[key] = 'gone = 1'
      await db
        .updateTable('_collections')
        .set({ data: JSON.stringify(data) })
        .where('id', '=', c.id)
        .execute()
      await g.galley.collections.reload()
    })
    afterAll(async () => {
      await g?.close()
      await store?.cleanup()
    })

    const records = '/api/collections/stale/records'

    it('denies every action to non-superusers as an unsatisfied rule would', async () => {
      const list = await send(g.url, 'GET', records)
      expect(list.status).toBe(200)
      expect((list.json as { items: unknown[] }).items).toEqual([])
      expectErrorShape(await send(g.url, 'GET', `${records}/${id}`), 404)
      expectErrorShape(await send(g.url, 'PATCH', `${records}/${id}`, { body: { title: 'b' } }), 404)
      expectErrorShape(await send(g.url, 'DELETE', `${records}/${id}`), 404)
      expectErrorShape(await send(g.url, 'POST', records, { body: { title: 'c' } }), 400)
    })

    it('superusers still read and write', async () => {
      const list = await send(g.url, 'GET', records, { token })
      expect((list.json as { items: { id: string }[] }).items.map((r) => r.id)).toEqual([id])
      const updated = await send(g.url, 'PATCH', `${records}/${id}`, { token, body: { title: 'b' } })
      expect(updated.status).toBe(200)
    })
  })
}

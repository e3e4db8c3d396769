/**
 * The NUL character (U+0000): PostgreSQL text and jsonb cannot hold it, SQLite can. Galley answers
 * the same on both databases: writes refuse it with a field error, lookups by a value holding it
 * find nothing, and nothing reaching PostgreSQL with one is ever a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import { expectErrorShape, internals, send } from './helpers/wire.js'

const NUL_ERROR = { code: 'validation_nul_character', message: 'The NUL character is not allowed.' }

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`the NUL character on ${kind}`, () => {
    let store: TestStore
    let g: RunningGalley
    let token: string
    let postId: string

    beforeAll(async () => {
      store = await createStore(kind)
      g = await startGalley(store)
      const su = await g.asSuperuser()
      token = su.authStore.token
      await su.collections.create({
        name: 'notes',
        type: 'base',
        listRule: '',
        viewRule: '',
        createRule: '',
        updateRule: '',
        deleteRule: '',
        fields: [
          { name: 'title', type: 'text' },
          { name: 'meta', type: 'json' },
        ],
      })
      postId = (await su.collection('notes').create({ title: 'kept', meta: { k: 'v' } })).id
      await su.settings.update({ batch: { enabled: true, maxRequests: 10 } })
    })
    afterAll(async () => {
      await g?.close()
      await store?.cleanup()
    })

    const records = '/api/collections/notes/records'

    it('view, update and delete of an id holding a NUL: 404', async () => {
      for (const method of ['GET', 'PATCH', 'DELETE']) {
        const res = await send(g.url, method, `${records}/${postId}%00`, {
          body: method === 'PATCH' ? {} : undefined,
        })
        expectErrorShape(res, 404)
      }
    })

    it('create and update with a NUL in text, in JSON values and keys: 400 naming the field', async () => {
      const cases: [string, unknown][] = [
        ['title', 'a\u0000b'],
        ['meta', { k: 'a\u0000b' }],
        ['meta', { 'a\u0000': 1 }],
        ['meta', ['x', ['y\u0000']]],
      ]
      for (const [field, value] of cases) {
        const created = await send(g.url, 'POST', records, { body: { [field]: value } })
        expectErrorShape(created, 400)
        expect(created.json).toEqual({
          status: 400,
          message: 'Failed to create record.',
          data: { [field]: NUL_ERROR },
        })
        const updated = await send(g.url, 'PATCH', `${records}/${postId}`, { body: { [field]: value } })
        expect(updated.json).toEqual({
          status: 400,
          message: 'Failed to update record.',
          data: { [field]: NUL_ERROR },
        })
      }
      const stored = await send(g.url, 'GET', `${records}/${postId}`)
      expect(stored.json).toMatchObject({ title: 'kept', meta: { k: 'v' } })
    })

    it('a batch holding such a write fails as a whole with the nested field error', async () => {
      const res = await send(g.url, 'POST', '/api/batch', {
        body: {
          requests: [
            { method: 'POST', url: records, body: { title: 'fine' } },
            { method: 'POST', url: records, body: { title: 'bad\u0000' } },
          ],
        },
      })
      expectErrorShape(res, 400)
      const data = (res.json as { data: { requests: Record<string, { response: unknown }> } }).data
      expect(data.requests['1']!.response).toEqual({
        status: 400,
        message: 'Failed to create record.',
        data: { title: NUL_ERROR },
      })
      const list = await send(g.url, 'GET', records, { query: { filter: 'title = "fine"' } })
      expect((list.json as { totalItems: number }).totalItems).toBe(0)
    })

    it('sign-in with a NUL in the identity: the usual 400, and a forged token with a NUL id is a guest', async () => {
      const res = await send(g.url, 'POST', '/api/collections/users/auth-with-password', {
        body: { identity: 'a\u0000@example.com', password: 'xxxxxxxxxx' },
      })
      expectErrorShape(res, 400)
      expect((res.json as { message: string }).message).toBe('Failed to authenticate.')

      const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
      const forged = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({
        id: 'x\u0000',
        type: 'auth',
        collectionId: '_pb_users_auth_',
        exp: Math.floor(Date.now() / 1000) + 60,
      })}.c2ln`
      const asGuest = await send(g.url, 'GET', `${records}/${postId}`, { token: forged })
      expect(asGuest.status).toBe(200)
      const collections = await send(g.url, 'GET', '/api/collections', { token: forged })
      expectErrorShape(collections, 401)
    })

    it('anything else carrying a NUL is a 4xx without internals, never a 5xx', async () => {
      const probes: [string, string, unknown][] = [
        ['GET', `${records}?filter=${encodeURIComponent('title = "a\u0000"')}`, undefined],
        ['GET', `/api/collections/notes%00/records`, undefined],
        ['PATCH', '/api/settings', { meta: { appName: 'a\u0000b' } }],
        ['POST', '/api/collections', { name: 'x\u0000', type: 'base' }],
      ]
      for (const [method, path, body] of probes) {
        const res = await send(g.url, method, path, { body, token })
        expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(500)
        expect(internals(res)).toEqual([])
      }
    })
  })
}

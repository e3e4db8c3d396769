/**
 * Record ids beyond the primary key (pocketbase-api.md §3.1): an auth record's id is unique across
 * every auth collection (`validation_invalid_auth_id`), and a custom id pattern makes ids unique
 * ignoring case within the collection (`validation_pk_invalid`, PocketBase's `COLLATE NOCASE`
 * check: ASCII letters only). Both hold under concurrent creates, on SQLite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import { call } from './helpers/rest.js'

type Json = Record<string, unknown>

const PASSWORD = 'record ids password'
const CREATE_FAILED = 'Failed to create record.'
const AUTH_ID = { code: 'validation_invalid_auth_id', message: 'Invalid or duplicated auth record id.' }
const PK_INVALID = {
  code: 'validation_pk_invalid',
  message: 'The record primary key is invalid or already exists.',
}
const NOT_UNIQUE = { code: 'validation_not_unique', message: 'Value must be unique.' }
const failed = (data: Json) => ({ status: 400, body: { status: 400, message: CREATE_FAILED, data } })
/** A 15-character default-pattern id. */
const id15 = (prefix: string, n: number) => `${prefix}${String(n).padStart(15 - prefix.length, '0')}`

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`record ids on ${kind}`, () => {
    let store: TestStore
    let running: RunningGalley
    let su = ''

    const create = (collection: string, body: Json) =>
      call(running.url, 'POST', `/api/collections/${collection}/records`, su, body)
    const account = (collection: string, id: string) =>
      create(collection, {
        id,
        email: `${collection}.${id}@example.com`,
        password: PASSWORD,
        passwordConfirm: PASSWORD,
      })
    const count = async (collection: string, filter: string) => {
      const q = `?perPage=1&filter=${encodeURIComponent(filter)}`
      const r = await call(running.url, 'GET', `/api/collections/${collection}/records${q}`, su)
      return r.body.totalItems
    }

    beforeAll(async () => {
      store = await createStore(kind)
      running = await startGalley(store)
      const pb = await running.asSuperuser()
      su = pb.authStore.token
      await pb.collections.create({ name: 'members', type: 'auth', createRule: '' })
      await pb.collections.create({ name: 'notes', type: 'base', createRule: '' })
      const customId = {
        name: 'id',
        type: 'text',
        primaryKey: true,
        required: true,
        system: true,
        min: 1,
        max: 40,
        pattern: '^[^/]+$',
        autogeneratePattern: '[a-z0-9]{15}',
      }
      await pb.collections.create({ name: 'codes', type: 'base', fields: [customId] })
      await pb.collections.create({ name: 'handles', type: 'auth', fields: [customId] })
    })
    afterAll(async () => {
      await running?.close()
      await store?.cleanup()
    })

    describe('auth ids are unique across auth collections', () => {
      it('an id used in another auth collection is refused, both ways', async () => {
        expect((await account('users', id15('shared', 1))).status).toBe(200)
        expect(await account('members', id15('shared', 1))).toEqual(failed({ id: AUTH_ID }))
        expect((await account('members', id15('shared', 2))).status).toBe(200)
        expect(await account('users', id15('shared', 2))).toEqual(failed({ id: AUTH_ID }))
        expect(await count('members', `id = "${id15('shared', 1)}"`)).toBe(0)
      })

      it("a superuser's id counts too", async () => {
        const me = await call(running.url, 'POST', '/api/collections/_superusers/auth-refresh', su)
        const suId = (me.body.record as Json).id as string
        expect(await account('users', suId)).toEqual(failed({ id: AUTH_ID }))
      })

      it('is checked after field validation, and a same-collection duplicate stays validation_not_unique', async () => {
        // an invalid email is reported first, as PocketBase validates before it looks for the id
        const bad = await create('members', {
          id: id15('shared', 1),
          email: 'not an email',
          password: PASSWORD,
          passwordConfirm: PASSWORD,
        })
        expect(bad.body.data).toEqual({
          email: { code: 'validation_is_email', message: 'Must be a valid email address.' },
        })
        const again = await create('users', {
          id: id15('shared', 1),
          email: 'another.one@example.com',
          password: PASSWORD,
          passwordConfirm: PASSWORD,
        })
        expect(again).toEqual(failed({ id: NOT_UNIQUE }))
      })

      it('base collections may reuse an auth id, and an auth collection may reuse a base id', async () => {
        expect((await create('notes', { id: id15('shared', 1) })).status).toBe(200)
        expect((await create('notes', { id: id15('plain', 1) })).status).toBe(200)
        expect((await account('users', id15('plain', 1))).status).toBe(200)
      })

      it('case matters across collections (PocketBase looks the id up exactly)', async () => {
        expect((await account('handles', 'Mixed-Case-1')).status).toBe(200)
        expect((await account('members', 'mixed-case-1')).status).toBe(400) // the default pattern
        expect((await account('handles', 'mixed-case-1')).body.data).toEqual({ id: PK_INVALID })
      })
    })

    describe('custom id patterns: unique ignoring case within the collection', () => {
      it('refuses a case variant, and an exact duplicate, with validation_pk_invalid', async () => {
        expect((await create('codes', { id: 'abc' })).status).toBe(200)
        expect(await create('codes', { id: 'ABC' })).toEqual(failed({ id: PK_INVALID }))
        expect(await create('codes', { id: 'aBc' })).toEqual(failed({ id: PK_INVALID }))
        expect(await create('codes', { id: 'abc' })).toEqual(failed({ id: PK_INVALID }))
        expect((await create('codes', { id: 'abcd' })).status).toBe(200)
        expect(await count('codes', 'id ~ "abc"')).toBe(2)
      })

      it('folds ASCII letters only, as SQLite NOCASE does, on both databases', async () => {
        expect((await create('codes', { id: 'Ä-a' })).status).toBe(200)
        expect((await create('codes', { id: 'ä-a' })).status).toBe(200)
        expect(await create('codes', { id: 'Ä-A' })).toEqual(failed({ id: PK_INVALID }))
        expect(await create('codes', { id: 'ä-A' })).toEqual(failed({ id: PK_INVALID }))
      })

      it('the id format checks still apply to ids that are free', async () => {
        expect((await create('codes', { id: 'Taken' })).status).toBe(200)
        expect(await create('codes', { id: 'TAKEN' })).toEqual(failed({ id: PK_INVALID }))
        expect(await create('codes', { id: 'con' })).toEqual(
          failed({
            id: {
              code: 'validation_reserved_pk',
              message: "The primary key 'CON' is reserved and cannot be used.",
              params: { reserved: 'CON' },
            },
          }),
        )
      })

      it('the default pattern keeps the primary key check only', async () => {
        expect((await create('notes', { id: id15('dup', 1) })).status).toBe(200)
        expect(await create('notes', { id: id15('dup', 1) })).toEqual(failed({ id: NOT_UNIQUE }))
      })
    })

    describe('concurrent creates', () => {
      const ROUNDS = 8

      it('of case variants in one collection: exactly one of each pair succeeds', async () => {
        const results = await Promise.all(
          Array.from({ length: ROUNDS }, (_, i) => [
            create('codes', { id: `race${i}` }),
            create('codes', { id: `RACE${i}` }),
            create('codes', { id: `Race${i}` }),
          ]).flat(),
        )
        const statuses = results.map((r) => r.status)
        expect(statuses.filter((s) => s === 200)).toHaveLength(ROUNDS)
        for (const r of results.filter((x) => x.status !== 200)) expect(r).toEqual(failed({ id: PK_INVALID }))
        for (let i = 0; i < ROUNDS; i++) expect(await count('codes', `id ~ "race${i}"`)).toBe(1)
      })

      it('of one id in two auth collections: exactly one succeeds', async () => {
        const results = await Promise.all(
          Array.from({ length: ROUNDS }, (_, i) => [
            account('users', id15('both', i)),
            account('members', id15('both', i)),
          ]).flat(),
        )
        for (let i = 0; i < ROUNDS; i++) {
          const pair = [results[2 * i]!, results[2 * i + 1]!]
          expect(pair.map((r) => r.status).sort()).toEqual([200, 400])
          expect(pair.find((r) => r.status === 400)).toEqual(failed({ id: AUTH_ID }))
        }
        const stored =
          ((await count('users', 'id ~ "both%"')) as number) +
          ((await count('members', 'id ~ "both%"')) as number)
        expect(stored).toBe(ROUNDS)
      })
    })
  })
}

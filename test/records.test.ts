/**
 * The records API (pocketbase-api.md §3, §7, §11, Appendix E) driven by the official `pocketbase`
 * SDK against an in-process Galley, on SQLite and on PostgreSQL: CRUD over every field type,
 * validation, body modifiers, API rules, hidden fields and auth records, relation effects of a
 * delete, and concurrent modifier updates.
 *
 * The tests of one database run in order and share one server and schema (created in beforeAll).
 * Every response any SDK client received is recorded; the last tests check that none was a 5xx and
 * that no non-superuser ever saw a hidden value, a password hash or a tokenKey.
 */
import type PocketBase from 'pocketbase'
import { ClientResponseError, type RecordModel } from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createStore,
  DB_KINDS,
  startGalley,
  SU_EMAIL,
  SU_PASSWORD,
  type RunningGalley,
  type TestStore,
} from './helpers/galley.js'

type Json = Record<string, unknown>

// ---------------------------------------------------------------------------------------------
// Expected values, written from the reference (Appendix E, §2.3)

const NOT_FOUND = "The requested resource wasn't found."
const SUPERUSERS_ONLY = 'Only superusers can perform this action.'
const CREATE_FAILED = 'Failed to create record.'
const UPDATE_FAILED = 'Failed to update record.'
const REQUIRED_REFERENCE =
  'Failed to delete record. Make sure that the record is not part of a required relation reference.'

/** A value only superusers may ever see (hidden fields); scanned for in every other response. */
const CANARY = 'canary-hidden-5f1d3c9a7b'
const PASSWORD = 'first password 123'
const NEW_PASSWORD = 'second password 456'
const USERS_ID = '_pb_users_auth_'
const DATETIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/
const RECORD_ID = /^[a-z0-9]{15}$/

// ---------------------------------------------------------------------------------------------
// Helpers

interface Failure {
  status: number
  message: string
  data: Json
}

/** The error body of a rejected SDK call; the HTTP status and `status` of the body must agree. */
async function failure(p: Promise<unknown>): Promise<Failure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(err instanceof ClientResponseError)) throw new Error(`expected an API error, got ${String(err)}`)
  const body = err.response as Failure
  expect(body.status).toBe(err.status)
  return { status: err.status, message: body.message, data: body.data }
}

/** `{field: code}` of a validation failure's data, so the whole set of failing fields is compared. */
function codes(data: Json): Record<string, string> {
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, (v as { code: string }).code]))
}

/** A record without the fields a test does not pin down. */
function without(r: object, ...keys: string[]): Json {
  const out: Json = { ...r }
  for (const k of keys) delete out[k]
  return out
}

interface Exchange {
  readonly who: string
  readonly superuser: boolean
  readonly url: string
  readonly status: number
  readonly body: unknown
}

/** Every key of a JSON value, at any depth. */
function allKeys(v: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) v.forEach((x) => allKeys(x, out))
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      out.add(k)
      allKeys(x, out)
    }
  return out
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

const text = (name: string, extra: Json = {}) => ({ name, type: 'text', ...extra })
const rel = (name: string, collectionId: string, extra: Json = {}) => ({
  name,
  type: 'relation',
  collectionId,
  maxSelect: 1,
  ...extra,
})
const AUTODATES = [
  { name: 'created', type: 'autodate', onCreate: true, onUpdate: false },
  { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
]
const PUBLIC = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' }
const LOCKED = { listRule: null, viewRule: null, createRule: null, updateRule: null, deleteRule: null }

// ---------------------------------------------------------------------------------------------

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`records API on ${kind}`, () => {
    let store: TestStore
    let g: RunningGalley
    let su: PocketBase
    let guest: PocketBase
    const traffic: Exchange[] = []
    const ids: Record<string, string> = {}

    /** An SDK client whose every response is recorded in `traffic`. */
    function client(who: string, superuser = false): PocketBase {
      const pb = g.sdk()
      pb.afterSend = (response: Response, data: unknown) => {
        traffic.push({ who, superuser, url: response.url, status: response.status, body: data })
        return data
      }
      return pb
    }

    async function superuser(): Promise<PocketBase> {
      const pb = client('superuser', true)
      await pb.collection('_superusers').authWithPassword(SU_EMAIL, SU_PASSWORD)
      return pb
    }

    /** A `users` record made by the superuser, and a client signed in as it. */
    async function user(name: string): Promise<{ id: string; email: string; pb: PocketBase }> {
      const email = `${name}@example.com`
      const r = await su
        .collection('users')
        .create({ email, password: PASSWORD, passwordConfirm: PASSWORD, name })
      const pb = client(name)
      await pb.collection('users').authWithPassword(email, PASSWORD)
      return { id: r.id, email, pb }
    }

    beforeAll(async () => {
      store = await createStore(kind)
      g = await startGalley(store)
      su = await superuser()
      guest = client('guest')

      const tags = await su.collections.create({
        name: 'tags',
        type: 'base',
        fields: [text('name', { required: true })],
        ...PUBLIC,
      })
      ids.tags = tags.id
      const posts = await su.collections.create({
        name: 'posts',
        type: 'base',
        fields: [
          text('title', { required: true }),
          text('slug'),
          { name: 'views', type: 'number' },
          { name: 'score', type: 'number', min: 0, max: 100 },
          { name: 'active', type: 'bool' },
          { name: 'contact', type: 'email' },
          { name: 'site', type: 'url' },
          { name: 'published', type: 'date' },
          { name: 'status', type: 'select', maxSelect: 1, values: ['draft', 'published'] },
          { name: 'labels', type: 'select', maxSelect: 3, values: ['a', 'b', 'c', 'd'] },
          { name: 'meta', type: 'json' },
          { name: 'place', type: 'geoPoint' },
          rel('author', USERS_ID),
          rel('tags', tags.id, { maxSelect: 10 }),
          text('secret', { hidden: true }),
          ...AUTODATES,
        ],
        indexes: ["CREATE UNIQUE INDEX idx_posts_slug ON posts (slug) WHERE slug != ''"],
        ...PUBLIC,
      })
      ids.posts = posts.id
      await su.collections.create({ name: 'locked', type: 'base', fields: [text('title')], ...LOCKED })
      const owner = '@request.auth.id'
      await su.collections.create({
        name: 'owned',
        type: 'base',
        fields: [text('title'), rel('author', USERS_ID)],
        listRule: `author = ${owner}`,
        viewRule: `author = ${owner}`,
        createRule: `${owner} != ''`,
        updateRule: `author = ${owner}`,
        deleteRule: `author = ${owner}`,
      })
      await su.collections.create({
        name: 'guarded',
        type: 'base',
        fields: [text('title'), { name: 'views', type: 'number' }],
        ...PUBLIC,
        updateRule:
          '@request.body.title:changed = false && (@request.body.views:isset = false || @request.body.views <= 10)',
        deleteRule: null,
      })
      await su.collections.create({
        name: 'members',
        type: 'auth',
        fields: [text('nick'), text('pin', { hidden: true })],
        listRule: '',
        viewRule: '',
        createRule: '',
        updateRule: 'id = @request.auth.id',
        deleteRule: null,
      })
      // Relation effects of deletes (§3.5).
      await su.collections.create({
        name: 'notes',
        type: 'base',
        fields: [text('title'), rel('owner', USERS_ID), rel('watchers', USERS_ID, { maxSelect: 5 })],
      })
      await su.collections.create({
        name: 'profiles',
        type: 'base',
        fields: [text('title'), rel('owner', USERS_ID, { required: true })],
      })
      const sessions = await su.collections.create({
        name: 'sessions',
        type: 'base',
        fields: [text('title'), rel('owner', USERS_ID, { required: true, cascadeDelete: true })],
      })
      await su.collections.create({
        name: 'logs',
        type: 'base',
        fields: [text('title'), rel('session', sessions.id, { required: true, cascadeDelete: true })],
      })
      await su.collections.create({
        name: 'audits',
        type: 'base',
        fields: [text('title'), rel('session', sessions.id, { required: true })],
      })
      await su.collections.create({
        name: 'teams',
        type: 'base',
        fields: [text('title'), rel('members', USERS_ID, { maxSelect: 5, cascadeDelete: true })],
      })
      await su.collections.create({
        name: 'counters',
        type: 'base',
        fields: [{ name: 'views', type: 'number' }],
        ...PUBLIC,
      })
    })

    afterAll(async () => {
      await g?.close()
      await store?.cleanup()
    })

    // -------------------------------------------------------------------------------------------
    // 1. CRUD

    describe('CRUD as a superuser', () => {
      it('creates with every field type, a generated id and a chosen id; view equals the create response', async () => {
        const t1 = await su.collection('tags').create({ name: 't1' })
        const t2 = await su.collection('tags').create({ name: 't2' })
        const alice = await user('alice')
        ids.alice = alice.id
        ids.t1 = t1.id
        ids.t2 = t2.id

        const before = Date.now()
        const created = await su.collection('posts').create({
          title: 'Hello',
          views: 3,
          score: 42.5,
          active: true,
          contact: 'hello@example.com',
          site: 'https://example.com/a?b=c',
          published: '2024-05-06 07:08:09.123Z',
          status: 'draft',
          labels: ['b', 'a'],
          meta: { list: [1, 'two', { three: null }], flag: false },
          place: { lon: 23.5, lat: -42.25 },
          author: alice.id,
          tags: [t2.id, t1.id],
          secret: CANARY,
          // Unknown keys and the computed ones are ignored (§3.6).
          unknown: 'x',
          collectionName: 'nope',
          created: '2001-01-01 00:00:00.000Z',
        })
        expect(created.id).toMatch(RECORD_ID)
        expect(created.created).toMatch(DATETIME)
        expect(created.updated).toBe(created.created)
        expect(Math.abs(Date.parse(created.created.replace(' ', 'T')) - before)).toBeLessThan(60_000)
        expect(created).toEqual({
          collectionId: ids.posts,
          collectionName: 'posts',
          id: created.id,
          title: 'Hello',
          slug: '',
          views: 3,
          score: 42.5,
          active: true,
          contact: 'hello@example.com',
          site: 'https://example.com/a?b=c',
          published: '2024-05-06 07:08:09.123Z',
          status: 'draft',
          labels: ['b', 'a'],
          meta: { list: [1, 'two', { three: null }], flag: false },
          place: { lon: 23.5, lat: -42.25 },
          author: alice.id,
          tags: [t2.id, t1.id],
          secret: CANARY,
          created: created.created,
          updated: created.created,
        })
        expect(await su.collection('posts').getOne(created.id)).toEqual(created)
        ids.hello = created.id

        // Zero values of every field type, and a client-chosen id.
        const chosen = await su.collection('posts').create({ id: 'clientchosen001', title: 'Chosen' })
        expect(chosen).toEqual({
          collectionId: ids.posts,
          collectionName: 'posts',
          id: 'clientchosen001',
          title: 'Chosen',
          slug: '',
          views: 0,
          score: 0,
          active: false,
          contact: '',
          site: '',
          published: '',
          status: '',
          labels: [],
          meta: null,
          place: { lon: 0, lat: 0 },
          author: '',
          tags: [],
          secret: '',
          created: chosen.created,
          updated: chosen.created,
        })
        expect(await su.collection('posts').getOne('clientchosen001')).toEqual(chosen)
      })

      it('lists with page/perPage/totalItems/totalPages, skipTotal, getFullList and getFirstListItem', async () => {
        for (const name of ['t3', 't4', 't5']) await su.collection('tags').create({ name })
        const page2 = await su.collection('tags').getList(2, 2, { sort: 'name' })
        expect(without(page2, 'items')).toEqual({ page: 2, perPage: 2, totalItems: 5, totalPages: 3 })
        expect(page2.items.map((r) => r.name)).toEqual(['t3', 't4'])
        expect(page2.items[0]).toEqual({
          collectionId: ids.tags,
          collectionName: 'tags',
          id: page2.items[0]!.id,
          name: 't3',
        })
        const last = await su.collection('tags').getList(3, 2, { sort: '-name' })
        expect(without(last, 'items')).toEqual({ page: 3, perPage: 2, totalItems: 5, totalPages: 3 })
        expect(last.items.map((r) => r.name)).toEqual(['t1'])
        const skipped = await su.collection('tags').getList(1, 3, { sort: 'name', skipTotal: true })
        expect(without(skipped, 'items')).toEqual({ page: 1, perPage: 3, totalItems: -1, totalPages: -1 })
        expect(skipped.items.map((r) => r.name)).toEqual(['t1', 't2', 't3'])
        const beyond = await su.collection('tags').getList(9, 2)
        expect(beyond).toEqual({ page: 9, perPage: 2, totalItems: 5, totalPages: 3, items: [] })

        // getFullList pages through batches of 2 until a short page.
        const full = await su.collection('tags').getFullList({ sort: 'name', batch: 2 })
        expect(full.map((r) => r.name)).toEqual(['t1', 't2', 't3', 't4', 't5'])

        // pb.filter() quotes with JSON.stringify: `"` and `'` survive; a backslash would arrive doubled.
        const tricky = 'He said "hi", it\'s {:t}'
        const created = await su.collection('posts').create({ title: tricky })
        const first = await su.collection('posts').getFirstListItem(su.filter('title = {:t}', { t: tricky }))
        expect(first).toEqual(created)
        // The SDK turns an empty first page into its own 404.
        const none = su.filter('title = {:t}', { t: 'no such title' })
        expect((await su.collection('posts').getList(1, 1, { filter: none })).items).toEqual([])
        const miss = await su
          .collection('posts')
          .getFirstListItem(none)
          .catch((e: unknown) => e)
        expect(miss).toBeInstanceOf(ClientResponseError)
        expect((miss as ClientResponseError).status).toBe(404)
        await su.collection('posts').delete(created.id)
      })

      it('updates (created stable, updated moves, response equals view) and deletes (then 404)', async () => {
        const before = await su.collection('posts').getOne(ids.hello!)
        await pause(5)
        const updated = await su.collection('posts').update(ids.hello!, {
          title: 'Hello again',
          published: '2024-06-01',
          labels: 'c',
          meta: 'plain text',
          active: false,
        })
        expect(updated).toEqual({
          ...before,
          title: 'Hello again',
          published: '2024-06-01 00:00:00.000Z',
          labels: ['c'],
          meta: 'plain text',
          active: false,
          updated: updated.updated,
        })
        expect(updated.created).toBe(before.created)
        expect(updated.updated).toMatch(DATETIME)
        expect(updated.updated > before.updated).toBe(true)
        expect(await su.collection('posts').getOne(ids.hello!)).toEqual(updated)

        expect(await su.collection('posts').delete('clientchosen001')).toBe(true)
        expect(await failure(su.collection('posts').getOne('clientchosen001'))).toEqual({
          status: 404,
          message: NOT_FOUND,
          data: {},
        })
        expect(await failure(su.collection('posts').delete('clientchosen001'))).toEqual({
          status: 404,
          message: NOT_FOUND,
          data: {},
        })
        expect(await failure(su.collection('posts').update('clientchosen001', { title: 'x' }))).toEqual({
          status: 404,
          message: NOT_FOUND,
          data: {},
        })
        expect(await failure(su.collection('nosuchcollection').getList())).toEqual({
          status: 404,
          message: 'Missing collection context.',
          data: {},
        })
      })
    })

    // -------------------------------------------------------------------------------------------
    // 2. Validation

    describe('validation', () => {
      const createFails = async (body: Json) => {
        const f = await failure(su.collection('posts').create(body))
        expect(f.status).toBe(400)
        expect(f.message).toBe(CREATE_FAILED)
        return codes(f.data)
      }

      it('reports every failing field of a create with its code, and writes nothing', async () => {
        const count = async () => (await su.collection('posts').getList(1, 1)).totalItems
        const n = await count()
        expect(await createFails({})).toEqual({ title: 'validation_required' })
        const blank = await failure(su.collection('posts').create({ title: '' }))
        expect(blank).toEqual({
          status: 400,
          message: CREATE_FAILED,
          data: { title: { code: 'validation_required', message: 'Cannot be blank.' } },
        })
        expect(await createFails({ title: 'x', contact: 'not-an-email' })).toEqual({
          contact: 'validation_is_email',
        })
        expect(await createFails({ title: 'x', site: 'not a url' })).toEqual({
          site: 'validation_invalid_url',
        })
        expect(await createFails({ title: 'x', score: 100.5 })).toEqual({
          score: 'validation_max_number_constraint',
        })
        expect(await createFails({ title: 'x', score: -1 })).toEqual({
          score: 'validation_min_number_constraint',
        })
        expect(await createFails({ title: 'x', status: 'archived' })).toEqual({
          status: 'validation_invalid_value',
        })
        expect(await createFails({ title: 'x', labels: ['a', 'b', 'c', 'd'] })).toEqual({
          labels: 'validation_too_many_values',
        })
        expect(await createFails({ title: 'x', place: { lon: 0, lat: 91 } })).toEqual({
          place: 'validation_invalid_latitude',
        })
        expect(await createFails({ title: 'x', author: 'nosuchuser0000' })).toEqual({
          author: 'validation_missing_rel_records',
        })
        expect(await createFails({ title: 'x', tags: [ids.t1, 'missingtag00000'] })).toEqual({
          tags: 'validation_missing_rel_records',
        })
        // All at once.
        expect(await createFails({ contact: 'x', score: 500, status: 'nope' })).toEqual({
          title: 'validation_required',
          contact: 'validation_is_email',
          score: 'validation_max_number_constraint',
          status: 'validation_invalid_value',
        })
        expect(await count()).toBe(n)
      })

      it('answers a UNIQUE index or duplicate id conflict with validation_not_unique on that field', async () => {
        const a = await su.collection('posts').create({ title: 'a', slug: 'dup' })
        const b = await su.collection('posts').create({ title: 'b', slug: 'other' })
        expect(await failure(su.collection('posts').create({ title: 'c', slug: 'dup' }))).toEqual({
          status: 400,
          message: CREATE_FAILED,
          data: { slug: { code: 'validation_not_unique', message: 'Value must be unique.' } },
        })
        const upd = await failure(su.collection('posts').update(b.id, { slug: 'dup' }))
        expect(upd).toEqual({
          status: 400,
          message: UPDATE_FAILED,
          data: { slug: { code: 'validation_not_unique', message: 'Value must be unique.' } },
        })
        expect((await su.collection('posts').getOne(b.id)).slug).toBe('other')
        // The partial index leaves empty slugs free.
        await su.collection('posts').update(b.id, { slug: '' })
        const dupId = await failure(su.collection('posts').create({ id: a.id, title: 'same id' }))
        expect(dupId).toEqual({
          status: 400,
          message: CREATE_FAILED,
          data: { id: { code: 'validation_not_unique', message: 'Value must be unique.' } },
        })
        await su.collection('posts').delete(a.id)
        await su.collection('posts').delete(b.id)
      })

      it('fails updates with "Failed to update record." and refuses an id change', async () => {
        const stored = await su.collection('posts').getOne(ids.hello!)
        const blank = await failure(su.collection('posts').update(ids.hello!, { title: '', score: 1000 }))
        expect(blank.status).toBe(400)
        expect(blank.message).toBe(UPDATE_FAILED)
        expect(codes(blank.data)).toEqual({
          title: 'validation_required',
          score: 'validation_max_number_constraint',
        })
        const idChange = await failure(su.collection('posts').update(ids.hello!, { id: 'anotherid000001' }))
        expect(idChange).toEqual({
          status: 400,
          message: UPDATE_FAILED,
          data: {
            id: { code: 'validation_pk_change', message: 'The record primary key cannot be changed.' },
          },
        })
        expect(await su.collection('posts').getOne(ids.hello!)).toEqual(stored)
        expect(await failure(su.collection('posts').getOne('anotherid000001'))).toMatchObject({ status: 404 })
      })
    })

    // -------------------------------------------------------------------------------------------
    // 3. Modifiers (§11)

    describe('body modifiers', () => {
      it('applies number, multi relation and select modifiers, shortest key first', async () => {
        const tag = async (name: string) => (await su.collection('tags').create({ name })).id
        const [t6, t7, t8] = [await tag('t6'), await tag('t7'), await tag('t8')]
        const t1 = ids.t1!
        const p = await su.collection('posts').create({ title: 'mods', views: 10, tags: [t1], labels: ['a'] })
        const posts = su.collection('posts')
        expect((await posts.update(p.id, { 'views+': 5 })).views).toBe(15)
        expect((await posts.update(p.id, { 'views-': 20 })).views).toBe(-5)
        expect((await posts.update(p.id, { 'views+': 2.5 })).views).toBe(-2.5)
        expect((await posts.update(p.id, { views: 1, 'views+': 5, 'views-': 2 })).views).toBe(4)
        expect((await posts.update(p.id, { 'tags+': [t6, t7] })).tags).toEqual([t1, t6, t7])
        expect((await posts.update(p.id, { '+tags': t8 })).tags).toEqual([t8, t1, t6, t7])
        expect((await posts.update(p.id, { 'tags+': t6 })).tags).toEqual([t8, t1, t6, t7])
        expect((await posts.update(p.id, { 'tags-': [t1, t7] })).tags).toEqual([t8, t6])
        expect((await posts.update(p.id, { tags: [t1], 'tags+': t7 })).tags).toEqual([t1, t7])
        expect((await posts.update(p.id, { 'labels+': 'c' })).labels).toEqual(['a', 'c'])
        expect((await posts.update(p.id, { '+labels': ['b'] })).labels).toEqual(['b', 'a', 'c'])
        expect((await posts.update(p.id, { 'labels-': 'a' })).labels).toEqual(['b', 'c'])
        // A single select: `x+` replaces, `x-` clears a matching value.
        expect((await posts.update(p.id, { status: 'draft', 'status+': 'published' })).status).toBe(
          'published',
        )
        expect((await posts.update(p.id, { 'status-': 'draft' })).status).toBe('published')
        expect((await posts.update(p.id, { 'status-': 'published' })).status).toBe('')
        // A modifier a field type does not have is ignored.
        expect((await posts.update(p.id, { 'title+': 'x', 'title-': 'y' })).title).toBe('mods')
        // A modifier result is validated like a plain value.
        const tooMany = await failure(posts.update(p.id, { 'labels+': ['a', 'b', 'd'] }))
        expect(tooMany.message).toBe(UPDATE_FAILED)
        expect(codes(tooMany.data)).toEqual({ labels: 'validation_too_many_values' })
        const missing = await failure(posts.update(p.id, { 'tags+': 'missingtag00000' }))
        expect(codes(missing.data)).toEqual({ tags: 'validation_missing_rel_records' })

        const created = await posts.create({
          title: 'mods2',
          views: 1,
          'views+': 5,
          'views-': 2,
          '+tags': t6,
        })
        expect(created.views).toBe(4)
        expect(created.tags).toEqual([t6])
        await posts.delete(p.id)
        await posts.delete(created.id)
      })
    })

    // -------------------------------------------------------------------------------------------
    // 4. Rules (§7)

    describe('API rules', () => {
      it('a null rule is superusers-only for guests and users alike; superusers pass', async () => {
        const r = await su.collection('locked').create({ title: 'only su' })
        const bob = await user('bob')
        ids.bob = bob.id
        for (const pb of [guest, bob.pb]) {
          const forbidden = { status: 403, message: SUPERUSERS_ONLY, data: {} }
          expect(await failure(pb.collection('locked').getList())).toEqual(forbidden)
          expect(await failure(pb.collection('locked').getOne(r.id))).toEqual(forbidden)
          expect(await failure(pb.collection('locked').create({ title: 'x' }))).toEqual(forbidden)
          expect(await failure(pb.collection('locked').update(r.id, { title: 'x' }))).toEqual(forbidden)
          expect(await failure(pb.collection('locked').delete(r.id))).toEqual(forbidden)
          // 403 comes before any record lookup.
          expect(await failure(pb.collection('locked').getOne('nosuchrecord000'))).toEqual(forbidden)
        }
        expect((await su.collection('locked').getList()).items.map((x) => x.title)).toEqual(['only su'])
        expect((await su.collection('locked').update(r.id, { title: 'changed' })).title).toBe('changed')
        expect(await su.collection('locked').delete(r.id)).toBe(true)
      })

      it('an empty rule is public: a guest creates, lists, views, updates and deletes', async () => {
        const r = await guest.collection('tags').create({ name: 'guest tag' })
        expect(await guest.collection('tags').getOne(r.id)).toEqual(r)
        const list = await guest.collection('tags').getList(1, 100, { filter: 'name = "guest tag"' })
        expect(list.items).toEqual([r])
        expect((await guest.collection('tags').update(r.id, { name: 'renamed' })).name).toBe('renamed')
        expect(await guest.collection('tags').delete(r.id)).toBe(true)
        expect(await failure(guest.collection('tags').getOne(r.id))).toMatchObject({ status: 404 })
      })

      it('an owner rule filters lists and hides other records as 404; the create rule gives 400 with no data', async () => {
        const alice = client('alice')
        await alice.collection('users').authWithPassword('alice@example.com', PASSWORD)
        const bob = client('bob')
        await bob.collection('users').authWithPassword('bob@example.com', PASSWORD)

        expect(await failure(guest.collection('owned').create({ title: 'g', author: ids.alice }))).toEqual({
          status: 400,
          message: CREATE_FAILED,
          data: {},
        })
        const a1 = await alice.collection('owned').create({ title: 'a1', author: ids.alice })
        const a2 = await alice.collection('owned').create({ title: 'a2', author: ids.alice })
        const b1 = await bob.collection('owned').create({ title: 'b1', author: ids.bob })

        const aliceList = await alice.collection('owned').getList(1, 30, { sort: 'title' })
        expect(without(aliceList, 'items')).toEqual({ page: 1, perPage: 30, totalItems: 2, totalPages: 1 })
        expect(aliceList.items).toEqual([a1, a2])
        expect((await bob.collection('owned').getFullList()).map((r) => r.id)).toEqual([b1.id])
        expect(await guest.collection('owned').getList()).toEqual({
          page: 1,
          perPage: 30,
          totalItems: 0,
          totalPages: 0,
          items: [],
        })
        // A client filter narrows further but never widens.
        expect(
          (await alice.collection('owned').getFullList({ filter: `title = "b1" || title = "a2"` })).length,
        ).toBe(1)

        const hidden = { status: 404, message: NOT_FOUND, data: {} }
        expect(await failure(alice.collection('owned').getOne(b1.id))).toEqual(hidden)
        expect(await failure(alice.collection('owned').update(b1.id, { title: 'stolen' }))).toEqual(hidden)
        expect(await failure(alice.collection('owned').delete(b1.id))).toEqual(hidden)
        expect(await failure(guest.collection('owned').getOne(a1.id))).toEqual(hidden)
        expect(await su.collection('owned').getOne(b1.id)).toEqual(b1)

        expect((await alice.collection('owned').update(a1.id, { title: 'a1 edited' })).title).toBe(
          'a1 edited',
        )
        expect(await alice.collection('owned').delete(a2.id)).toBe(true)
        // Superusers bypass every rule.
        expect((await su.collection('owned').getFullList({ sort: 'title' })).map((r) => r.title)).toEqual([
          'a1 edited',
          'b1',
        ])
        expect((await su.collection('owned').update(b1.id, { title: 'b1 by su' })).title).toBe('b1 by su')
        const suCreated = await su.collection('owned').create({ title: 'orphan' })
        expect(suCreated.author).toBe('')
        expect(await su.collection('owned').delete(suCreated.id)).toBe(true)
      })

      it('update rules see the resolved body: @request.body.x:changed and modifier results', async () => {
        const r = await guest.collection('guarded').create({ title: 'fixed', views: 1 })
        const hidden = { status: 404, message: NOT_FOUND, data: {} }
        expect(await failure(guest.collection('guarded').update(r.id, { title: 'other' }))).toEqual(hidden)
        expect((await guest.collection('guarded').update(r.id, { views: 5 })).views).toBe(5)
        expect((await guest.collection('guarded').update(r.id, { title: 'fixed', views: 6 })).views).toBe(6)
        // 6 + 5 = 11 > 10: refused although the submitted number is 5.
        expect(await failure(guest.collection('guarded').update(r.id, { 'views+': 5 }))).toEqual(hidden)
        expect((await guest.collection('guarded').update(r.id, { 'views+': 4 })).views).toBe(10)
        expect(await su.collection('guarded').getOne(r.id)).toMatchObject({ title: 'fixed', views: 10 })
        expect((await su.collection('guarded').update(r.id, { title: 'su may', views: 99 })).title).toBe(
          'su may',
        )
      })

      it('non-superuser filters and sorts may not use @request. or @collection.', async () => {
        const alice = client('alice')
        await alice.collection('users').authWithPassword('alice@example.com', PASSWORD)
        for (const pb of [guest, alice]) {
          const posts = pb.collection('posts')
          expect(await failure(posts.getList(1, 30, { filter: `@request.auth.id != ""` }))).toEqual({
            status: 403,
            message: 'Only superusers can filter by @request.',
            data: {},
          })
          expect(await failure(posts.getList(1, 30, { filter: `@collection.tags.name = "t1"` }))).toEqual({
            status: 403,
            message: 'Only superusers can filter by @collection.',
            data: {},
          })
          expect(await failure(posts.getList(1, 30, { sort: '@request.auth.id' }))).toEqual({
            status: 403,
            message: 'Only superusers can filter by @request.',
            data: {},
          })
        }
        const asSu = await su
          .collection('posts')
          .getList(1, 30, { filter: `@request.auth.collectionName = "_superusers" && title = "Hello again"` })
        expect(asSu.items.map((r) => r.id)).toEqual([ids.hello])
      })
    })

    // -------------------------------------------------------------------------------------------
    // 5. Hidden fields and auth records

    describe('hidden fields and auth records', () => {
      it('a hidden field is never output, filtered on or written by non-superusers', async () => {
        const alice = client('alice')
        await alice.collection('users').authWithPassword('alice@example.com', PASSWORD)
        for (const pb of [guest, alice]) {
          const posts = pb.collection('posts')
          const one = await posts.getOne(ids.hello!)
          expect(Object.keys(one)).not.toContain('secret')
          expect(await su.collection('posts').getOne(ids.hello!)).toEqual({ ...one, secret: CANARY })
          await posts.getList(1, 100)
          await posts.getFullList({ sort: '-created' })
          await posts.getFirstListItem(`id = "${ids.hello}"`)
          expect(await posts.getOne(ids.hello!, { fields: 'id,secret' })).toEqual({ id: ids.hello })
          const f = await failure(posts.getList(1, 30, { filter: `secret = "${CANARY}"` }))
          expect(f.status).toBe(400)
          expect(f.message).toMatch(/^Invalid filter or sort: /)
          const sorted = await failure(posts.getList(1, 30, { sort: 'secret' }))
          expect(sorted.status).toBe(400)

          // Written hidden values are dropped silently.
          const created = await posts.create({ title: 'by client', secret: 'client-set' })
          expect(Object.keys(created)).not.toContain('secret')
          expect((await su.collection('posts').getOne(created.id)).secret).toBe('')
          await su.collection('posts').update(created.id, { secret: CANARY })
          const updated = await posts.update(created.id, { title: 'edited', secret: 'overwrite' })
          expect(updated.title).toBe('edited')
          expect(Object.keys(updated)).not.toContain('secret')
          expect((await su.collection('posts').getOne(created.id)).secret).toBe(CANARY)
          await posts.delete(created.id)
        }
      })

      it('users: password and passwordConfirm are required on create; they must match', async () => {
        const users = guest.collection('users')
        const none = await failure(users.create({ email: 'nopw@example.com' }))
        expect(none.status).toBe(400)
        expect(none.message).toBe(CREATE_FAILED)
        expect(codes(none.data)).toEqual({
          password: 'validation_required',
          passwordConfirm: 'validation_required',
        })
        const noConfirm = await failure(users.create({ email: 'nopw@example.com', password: PASSWORD }))
        expect(codes(noConfirm.data)).toEqual({ passwordConfirm: 'validation_required' })
        const mismatch = await failure(
          users.create({ email: 'nopw@example.com', password: PASSWORD, passwordConfirm: NEW_PASSWORD }),
        )
        expect(mismatch).toEqual({
          status: 400,
          message: CREATE_FAILED,
          data: { passwordConfirm: { code: 'validation_values_mismatch', message: "Values don't match." } },
        })
        // Without manager access `verified` must stay false (PocketBase: validation_values_mismatch).
        const verified = await failure(
          users.create({
            email: 'v@example.com',
            password: PASSWORD,
            passwordConfirm: PASSWORD,
            verified: true,
          }),
        )
        expect(verified).toEqual({
          status: 400,
          message: CREATE_FAILED,
          data: { verified: { code: 'validation_values_mismatch', message: "Values don't match." } },
        })
        const ok = await users.create({
          email: 'carol@example.com',
          password: PASSWORD,
          passwordConfirm: PASSWORD,
          verified: false,
          name: 'Carol',
        })
        expect(without(ok, 'id', 'created', 'updated', 'avatar')).toEqual({
          collectionId: USERS_ID,
          collectionName: 'users',
          emailVisibility: false,
          verified: false,
          name: 'Carol',
        })
        const stored = await su.collection('users').getOne(ok.id)
        expect(stored).toEqual({ ...ok, email: 'carol@example.com' })
        // A superuser may set verified.
        const v = await su.collection('users').create({
          email: 'dave@example.com',
          password: PASSWORD,
          passwordConfirm: PASSWORD,
          verified: true,
        })
        expect(v.verified).toBe(true)
      })

      it('auth records never output password or tokenKey; email only when visible, own or superuser', async () => {
        const m1 = await guest
          .collection('members')
          .create({ email: 'm1@example.com', password: PASSWORD, passwordConfirm: PASSWORD, nick: 'one' })
        const m2 = await guest.collection('members').create({
          email: 'm2@example.com',
          emailVisibility: true,
          password: PASSWORD,
          passwordConfirm: PASSWORD,
          nick: 'two',
        })
        ids.m1 = m1.id
        ids.m2 = m2.id
        expect(without(m1, 'id')).toEqual({
          collectionId: m1.collectionId,
          collectionName: 'members',
          emailVisibility: false,
          verified: false,
          nick: 'one',
        })
        expect(m2.email).toBe('m2@example.com')
        await su.collection('members').update(m1.id, { pin: CANARY })

        const byEmail = (list: RecordModel[]) => Object.fromEntries(list.map((r) => [r.nick, r.email]))
        expect(byEmail(await guest.collection('members').getFullList())).toEqual({
          one: undefined,
          two: 'm2@example.com',
        })
        const asM1 = client('m1')
        const auth = await asM1.collection('members').authWithPassword('m1@example.com', PASSWORD)
        expect(auth.record.email).toBe('m1@example.com')
        expect(Object.keys(auth.record)).not.toContain('pin')
        expect(byEmail(await asM1.collection('members').getFullList())).toEqual({
          one: 'm1@example.com',
          two: 'm2@example.com',
        })
        expect((await asM1.collection('members').getOne(m1.id)).email).toBe('m1@example.com')
        const asM2 = client('m2')
        await asM2.collection('members').authWithPassword('m2@example.com', PASSWORD)
        expect(Object.keys(await asM2.collection('members').getOne(m1.id))).not.toContain('email')
        const bySu = await su.collection('members').getOne(m1.id)
        expect(bySu.email).toBe('m1@example.com')
        expect(bySu.pin).toBe(CANARY)
        expect(Object.keys(bySu)).not.toContain('password')
        expect(Object.keys(bySu)).not.toContain('tokenKey')
        // Not even a superuser's filter reads the password hash back as a value in a response.
        const su2 = await su.collection('members').getList(1, 30, { fields: '*,password,tokenKey' })
        for (const r of su2.items) {
          expect(Object.keys(r)).not.toContain('password')
          expect(Object.keys(r)).not.toContain('tokenKey')
        }
      })

      it('owners change their password only with oldPassword; old tokens then stop working', async () => {
        const m1 = client('m1')
        await m1.collection('members').authWithPassword('m1@example.com', PASSWORD)
        const oldToken = m1.authStore.token
        const members = m1.collection('members')
        const change = { password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD }

        const noOld = await failure(members.update(ids.m1!, change))
        expect(noOld.status).toBe(400)
        expect(noOld.message).toBe(UPDATE_FAILED)
        expect(codes(noOld.data)).toEqual({ oldPassword: 'validation_required' })
        const wrongOld = await failure(members.update(ids.m1!, { ...change, oldPassword: 'not it at all' }))
        expect(wrongOld).toEqual({
          status: 400,
          message: UPDATE_FAILED,
          data: {
            oldPassword: {
              code: 'validation_invalid_old_password',
              message: 'Missing or invalid old password.',
            },
          },
        })
        const mismatch = await failure(
          members.update(ids.m1!, { ...change, passwordConfirm: 'different!!', oldPassword: PASSWORD }),
        )
        expect(codes(mismatch.data)).toEqual({ passwordConfirm: 'validation_values_mismatch' })
        // Without manager access, email and verified cannot change directly.
        const email = await failure(members.update(ids.m1!, { email: 'new-m1@example.com' }))
        expect(email).toEqual({
          status: 400,
          message: UPDATE_FAILED,
          data: { email: { code: 'validation_values_mismatch', message: "Values don't match." } },
        })
        const verified = await failure(members.update(ids.m1!, { verified: true }))
        expect(codes(verified.data)).toEqual({ verified: 'validation_values_mismatch' })
        expect((await members.update(ids.m1!, { nick: 'uno', verified: false })).nick).toBe('uno')

        const ok = await members.update(ids.m1!, { ...change, oldPassword: PASSWORD })
        expect(Object.keys(ok)).not.toContain('password')
        expect(ok.nick).toBe('uno')

        // The old token now stands for nobody.
        const stale = client('m1-stale')
        stale.authStore.save(oldToken, null)
        expect(await failure(stale.collection('members').authRefresh())).toMatchObject({ status: 401 })
        expect(await failure(stale.collection('members').update(ids.m1!, { nick: 'stale' }))).toEqual({
          status: 404,
          message: NOT_FOUND,
          data: {},
        })
        expect(
          await failure(client('m1-old').collection('members').authWithPassword('m1@example.com', PASSWORD)),
        ).toMatchObject({ status: 400, message: 'Failed to authenticate.' })
        const fresh = client('m1-new')
        await fresh.collection('members').authWithPassword('m1@example.com', NEW_PASSWORD)
        expect((await fresh.collection('members').update(ids.m1!, { nick: 'fresh' })).nick).toBe('fresh')
        // A superuser sets a password without oldPassword (passwordConfirm still required).
        const suNoConfirm = await failure(su.collection('members').update(ids.m1!, { password: PASSWORD }))
        expect(codes(suNoConfirm.data)).toEqual({ passwordConfirm: 'validation_required' })
        await su.collection('members').update(ids.m1!, { password: PASSWORD, passwordConfirm: PASSWORD })
        await client('m1-again').collection('members').authWithPassword('m1@example.com', PASSWORD)
      })
    })

    // -------------------------------------------------------------------------------------------
    // 6. Relations on delete (§3.5)

    describe('deleting a referenced record', () => {
      it('clears a non-required reference (single and multiple)', async () => {
        const u1 = await user('u1')
        const u2 = await user('u2')
        const note = await su
          .collection('notes')
          .create({ title: 'n', owner: u1.id, watchers: [u1.id, u2.id] })
        expect(await su.collection('users').delete(u1.id)).toBe(true)
        expect(await su.collection('notes').getOne(note.id)).toEqual({
          ...note,
          owner: '',
          watchers: [u2.id],
        })
        expect(await failure(su.collection('users').getOne(u1.id))).toMatchObject({ status: 404 })
        ids.u2 = u2.id
        ids.note = note.id
      })

      it('refuses when a required reference would become empty, and deletes nothing', async () => {
        const u2 = ids.u2!
        const profile = await su.collection('profiles').create({ title: 'p', owner: u2 })
        const note = await su.collection('notes').getOne(ids.note!)
        expect(await failure(su.collection('users').delete(u2))).toEqual({
          status: 400,
          message: REQUIRED_REFERENCE,
          data: {},
        })
        expect((await su.collection('users').getOne(u2)).id).toBe(u2)
        expect(await su.collection('profiles').getOne(profile.id)).toEqual(profile)
        expect(await su.collection('notes').getOne(note.id)).toEqual(note)
        // Once the required reference is gone, the delete goes through.
        await su.collection('profiles').delete(profile.id)
        expect(await su.collection('users').delete(u2)).toBe(true)
        expect((await su.collection('notes').getOne(note.id)).watchers).toEqual([])
      })

      it('cascades through a chain of two cascadeDelete relations', async () => {
        const u3 = await user('u3')
        const keep = await user('u3keep')
        const s1 = await su.collection('sessions').create({ title: 's1', owner: u3.id })
        const s2 = await su.collection('sessions').create({ title: 's2', owner: keep.id })
        const l1 = await su.collection('logs').create({ title: 'l1', session: s1.id })
        const l2 = await su.collection('logs').create({ title: 'l2', session: s2.id })
        expect(await su.collection('users').delete(u3.id)).toBe(true)
        for (const [c, id] of [
          ['users', u3.id],
          ['sessions', s1.id],
          ['logs', l1.id],
        ] as const)
          expect(await failure(su.collection(c).getOne(id))).toMatchObject({ status: 404 })
        expect(await su.collection('sessions').getOne(s2.id)).toEqual(s2)
        expect(await su.collection('logs').getOne(l2.id)).toEqual(l2)
      })

      it('a cascade of a multiple relation removes the id and deletes only records left empty', async () => {
        const u4 = await user('u4')
        const u5 = await user('u5')
        const both = await su.collection('teams').create({ title: 'both', members: [u4.id, u5.id] })
        const solo = await su.collection('teams').create({ title: 'solo', members: [u4.id] })
        expect(await su.collection('users').delete(u4.id)).toBe(true)
        expect(await su.collection('teams').getOne(both.id)).toEqual({ ...both, members: [u5.id] })
        expect(await failure(su.collection('teams').getOne(solo.id))).toMatchObject({ status: 404 })
      })

      it('a cascade that reaches a required reference fails as a whole', async () => {
        const u6 = await user('u6')
        const s = await su.collection('sessions').create({ title: 's', owner: u6.id })
        const l = await su.collection('logs').create({ title: 'l', session: s.id })
        const a = await su.collection('audits').create({ title: 'a', session: s.id })
        expect(await failure(su.collection('users').delete(u6.id))).toEqual({
          status: 400,
          message: REQUIRED_REFERENCE,
          data: {},
        })
        expect((await su.collection('users').getOne(u6.id)).id).toBe(u6.id)
        expect(await su.collection('sessions').getOne(s.id)).toEqual(s)
        expect(await su.collection('logs').getOne(l.id)).toEqual(l)
        expect(await su.collection('audits').getOne(a.id)).toEqual(a)
      })
    })

    // -------------------------------------------------------------------------------------------
    // 7. Concurrency

    describe('concurrency', () => {
      it('20 clients x 200 `views+: 1` updates of one record add up to exactly 4000', async () => {
        const CLIENTS = 20
        const UPDATES = 200
        const r = await su.collection('counters').create({ views: 0 })
        const started = Date.now()
        const statuses = new Map<number, number>()
        await Promise.all(
          Array.from({ length: CLIENTS }, async () => {
            const pb = g.sdk()
            for (let i = 0; i < UPDATES; i++) {
              const status = await pb
                .collection('counters')
                .update(r.id, { 'views+': 1 })
                .then(
                  () => 200,
                  (e: unknown) => (e instanceof ClientResponseError ? e.status : -1),
                )
              statuses.set(status, (statuses.get(status) ?? 0) + 1)
            }
          }),
        )
        const ms = Date.now() - started
        console.info(`[records ${kind}] ${CLIENTS * UPDATES} concurrent modifier updates in ${ms} ms`)
        expect(Object.fromEntries(statuses)).toEqual({ 200: CLIENTS * UPDATES })
        expect((await su.collection('counters').getOne(r.id)).views).toBe(CLIENTS * UPDATES)
      }, 60_000)
    })

    // -------------------------------------------------------------------------------------------
    // 8. Views (test/view-collections.test.ts)

    // -------------------------------------------------------------------------------------------
    // Over every response of this suite

    describe('every response', () => {
      it('was never a 5xx', () => {
        expect(traffic.length).toBeGreaterThan(100)
        expect(traffic.filter((x) => x.status >= 500).map((x) => `${x.status} ${x.url}`)).toEqual([])
      })

      it('never showed a hidden value to a non-superuser, nor a password hash or tokenKey to anyone', () => {
        const leaks = traffic.filter((x) => !x.superuser && JSON.stringify(x.body).includes(CANARY))
        expect(leaks.map((x) => `${x.who} ${x.url}`)).toEqual([])
        for (const x of traffic) {
          const body = JSON.stringify(x.body) ?? ''
          expect(body).not.toMatch(/\$argon2|\$2[aby]\$/)
          if (x.status < 400) {
            const keys = allKeys(x.body)
            expect(keys.has('password')).toBe(false)
            expect(keys.has('tokenKey')).toBe(false)
            expect(keys.has('passwordConfirm')).toBe(false)
          }
        }
      })
    })
  })
}

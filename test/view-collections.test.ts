/**
 * View collections (pocketbase-api.md §6.1, §6.6, §6.7 dry-run-view, §3.5 "Unsupported collection
 * type.") on SQLite and PostgreSQL, through the `pocketbase` SDK and raw fetch: field inference,
 * records over a view (filters, sorts, rules), refused queries, views rebuilt around changes to the
 * tables they read, imports, dry runs, restarts, and (PostgreSQL) two instances sharing a schema.
 *
 * The tests of one database share one server and schema, made in beforeAll, and run in order.
 */
import pg from 'pg'
import type PocketBase from 'pocketbase'
import type { RecordModel } from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_VIEW_QUERY_LENGTH } from '../src/schema/view-query.js'
import { DRY_RUN_SAMPLE } from '../src/schema/view-sync.js'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import { introspect } from './helpers/introspect.js'
import { PG_URL } from './helpers/pg.js'
import { call } from './helpers/rest.js'
import { sdkFailure } from './helpers/sdk-failure.js'

type Json = Record<string, unknown>

const USERS_ID = '_pb_users_auth_'
const PASSWORD = 'view password 123'
const UNSUPPORTED = 'Unsupported collection type.'
const CREATE_FAILED = 'Failed to create collection.'

/** The view every record test reads: one of each inference rule of §6.6. */
const STATS_QUERY = `
  SELECT p.id, p.title, p.views, p.published, p.author,
    u.id AS writer, u.email AS writer_email,
    count(c.id) AS comments,
    sum(p.views) AS views_sum,
    CAST(p.views AS REAL) AS views_real,
    CAST(p.views AS INTEGER) AS views_int,
    CAST(p.views AS TEXT) AS views_text,
    CAST(p.published AS BOOLEAN) AS flag,
    p.title || '!' AS shout,
    p.meta
  FROM posts p
  JOIN users u ON u.id = p.author
  LEFT JOIN comments c ON c.post = p.id -- a trailing comment
  GROUP BY p.id, u.id`

/** The view names the database itself holds (not through Galley). */
async function databaseViews(store: TestStore): Promise<string[]> {
  const db = await introspect(store)
  try {
    const rows =
      store.kind === 'sqlite'
        ? await db.rows("SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name")
        : await db.rows(
            'SELECT table_name AS name FROM information_schema.views WHERE table_schema = current_schema() ORDER BY table_name',
          )
    return rows.map((r) => String(r.name))
  } finally {
    await db.close()
  }
}

const ids = (records: RecordModel[]) => records.map((r) => r.id)

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`view collections on ${kind}`, () => {
    let store: TestStore
    let g: RunningGalley
    let su: PocketBase
    let guest: PocketBase
    const rec = { u1: '', u2: '', p1: '', p2: '', p3: '' }
    const col = { posts: '', stats: '' }

    const create = (body: Json) => call(g.url, 'POST', '/api/collections', su.authStore.token, body)
    const createView = (name: string, viewQuery: string, extra: Json = {}) =>
      su.collections.create({ name, type: 'view', viewQuery, ...extra })
    /** The same over raw fetch: the exact status and body. */
    const postView = (name: string, viewQuery: string, extra: Json = {}) =>
      create({ name, type: 'view', viewQuery, ...extra })

    beforeAll(async () => {
      store = await createStore(kind)
      g = await startGalley(store)
      su = await g.asSuperuser()
      guest = g.sdk()
      for (const name of ['u1', 'u2'] as const) {
        const u = await su.collection('users').create({
          email: `${name}@example.com`,
          password: PASSWORD,
          passwordConfirm: PASSWORD,
        })
        rec[name] = u.id
      }
      const posts = await su.collections.create({
        name: 'posts',
        type: 'base',
        fields: [
          { name: 'title', type: 'text', max: 80 },
          { name: 'views', type: 'number' },
          { name: 'published', type: 'bool' },
          { name: 'author', type: 'relation', collectionId: USERS_ID, maxSelect: 1 },
          { name: 'meta', type: 'json' },
        ],
      })
      col.posts = posts.id
      await su.collections.create({
        name: 'comments',
        type: 'base',
        fields: [
          { name: 'post', type: 'relation', collectionId: posts.id, maxSelect: 1 },
          { name: 'body', type: 'text' },
        ],
      })
      const p = su.collection('posts')
      rec.p1 = (
        await p.create({ title: 'First', views: 10, published: true, author: rec.u1, meta: { a: 1 } })
      ).id
      rec.p2 = (await p.create({ title: 'Second', views: 3, published: true, author: rec.u2 })).id
      rec.p3 = (await p.create({ title: 'Third', views: 7, published: false, author: rec.u1 })).id
      for (const post of [rec.p1, rec.p1, rec.p2])
        await su.collection('comments').create({ post, body: 'hi' })
    })

    afterAll(async () => {
      await g?.close()
      await store?.cleanup()
    })

    it('infers the fields of a view from its query (§6.6); submitted fields are overwritten', async () => {
      const stats = await su.collections.create({
        name: 'post_stats',
        type: 'view',
        viewQuery: STATS_QUERY,
        fields: [{ name: 'bogus', type: 'text' }],
        listRule: '',
        viewRule: '',
      })
      col.stats = stats.id
      expect(stats.type).toBe('view')
      expect(stats.viewQuery).toBe(STATS_QUERY)
      expect(stats.indexes).toEqual([])
      const posts = await su.collections.getOne('posts')
      const byName = Object.fromEntries(stats.fields.map((f: Json) => [f.name, f]))
      expect(Object.keys(byName)).toEqual([
        'id',
        'title',
        'views',
        'published',
        'author',
        'writer',
        'writer_email',
        'comments',
        'views_sum',
        'views_real',
        'views_int',
        'views_text',
        'flag',
        'shout',
        'meta',
      ])
      expect(byName.id).toMatchObject({
        type: 'text',
        system: true,
        required: true,
        primaryKey: true,
        pattern: '^[a-z0-9]+$',
      })
      // A column reading a collection field keeps its definition under a new id.
      const postTitle = posts.fields.find((f: Json) => f.name === 'title')!
      expect(byName.title).toEqual({ ...postTitle, id: byName.title!.id })
      expect(byName.title!.id).not.toBe(postTitle.id)
      expect(byName.title!.id).toMatch(/^_clone_[a-z0-9]{4}$/)
      expect(byName.views).toMatchObject({ type: 'number', onlyInt: false })
      expect(byName.published).toMatchObject({ type: 'bool' })
      expect(byName.author).toMatchObject({ type: 'relation', collectionId: USERS_ID, maxSelect: 1 })
      // otherTable.id -> a single relation to that collection
      expect(byName.writer).toMatchObject({ type: 'relation', collectionId: USERS_ID, maxSelect: 1 })
      expect(byName.writer_email).toMatchObject({ type: 'email', system: false })
      expect(byName.comments).toMatchObject({ type: 'number', onlyInt: true })
      expect(byName.views_sum).toMatchObject({ type: 'number', onlyInt: false })
      expect(byName.views_real).toMatchObject({ type: 'number', onlyInt: false })
      expect(byName.views_int).toMatchObject({ type: 'number', onlyInt: true })
      expect(byName.views_text).toMatchObject({ type: 'text' })
      expect(byName.flag).toMatchObject({ type: 'bool' })
      expect(byName.shout).toMatchObject({ type: 'json' })
      expect(byName.meta).toMatchObject({ type: 'json' })
      expect(await databaseViews(store)).toEqual(['post_stats'])
    })

    it('lists and views records of a view, with filters and sorts on inferred fields', async () => {
      const v = su.collection('post_stats')
      expect(ids(await v.getFullList({ sort: '-views' }))).toEqual([rec.p1, rec.p3, rec.p2])
      expect(ids(await v.getFullList({ sort: 'views_text' }))).toEqual([rec.p1, rec.p2, rec.p3])
      expect(ids(await v.getFullList({ filter: 'views_int >= 5 && flag = true' }))).toEqual([rec.p1])
      expect(ids(await v.getFullList({ filter: 'comments = 2' }))).toEqual([rec.p1])
      expect(ids(await v.getFullList({ filter: 'comments = 0', sort: 'title' }))).toEqual([rec.p3])
      expect(ids(await v.getFullList({ filter: 'views_real > 5 && views_sum < 8' }))).toEqual([rec.p3])
      expect(ids(await v.getFullList({ filter: 'shout = "Second!"' }))).toEqual([rec.p2])
      expect(ids(await v.getFullList({ filter: 'meta.a = 1' }))).toEqual([rec.p1])
      expect(ids(await v.getFullList({ filter: `id = "${rec.p2}"` }))).toEqual([rec.p2])
      expect(ids(await v.getFullList({ filter: 'writer.email = "u2@example.com"' }))).toEqual([rec.p2])
      const page = await v.getList(1, 2, { sort: 'title' })
      expect(page).toMatchObject({ page: 1, perPage: 2, totalItems: 3, totalPages: 2 })

      const one = await call(
        g.url,
        'GET',
        `/api/collections/post_stats/records/${rec.p1}`,
        su.authStore.token,
      )
      expect(one.status).toBe(200)
      expect(one.body).toEqual({
        collectionId: col.stats,
        collectionName: 'post_stats',
        id: rec.p1,
        title: 'First',
        views: 10,
        published: true,
        author: rec.u1,
        writer: rec.u1,
        writer_email: 'u1@example.com',
        comments: 2,
        // the LEFT JOIN repeats the post once per comment
        views_sum: 20,
        views_real: 10,
        views_int: 10,
        views_text: '10',
        flag: true,
        shout: 'First!',
        meta: { a: 1 },
      })
      const missing = await call(g.url, 'GET', '/api/collections/post_stats/records/nope', su.authStore.token)
      expect(missing.status).toBe(404)
      // a view has no insertion order: sorting by it is a 400 (was a 500: no _rowid_ column)
      const rowid = await call(
        g.url,
        'GET',
        '/api/collections/post_stats/records?sort=-@rowid',
        su.authStore.token,
      )
      expect(rowid.status).toBe(400)
      expect(JSON.stringify(rowid.body)).toContain('@rowid cannot sort a view collection')
    })

    it('gives a view relation field its target record (expand-ready)', async () => {
      const r = await su.collection('post_stats').getOne(rec.p2, { expand: 'writer' })
      expect(r.writer).toBe(rec.u2)
      expect(await su.collection('users').getOne(r.writer)).toMatchObject({ id: rec.u2 })
      expect(r.expand?.writer).toMatchObject({ id: rec.u2, collectionName: 'users' })
    })

    it('applies listRule and viewRule to a view (guest vs superuser)', async () => {
      expect(ids(await guest.collection('post_stats').getFullList({ sort: 'title' }))).toEqual([
        rec.p1,
        rec.p2,
        rec.p3,
      ])
      await su.collections.update('post_stats', {
        listRule: 'published = true',
        viewRule: 'published = true && comments > 0',
      })
      expect(ids(await guest.collection('post_stats').getFullList({ sort: 'title' }))).toEqual([
        rec.p1,
        rec.p2,
      ])
      expect(ids(await su.collection('post_stats').getFullList({ sort: 'title' }))).toHaveLength(3)
      expect((await guest.collection('post_stats').getOne(rec.p1)).id).toBe(rec.p1)
      expect((await sdkFailure(guest.collection('post_stats').getOne(rec.p3))).status).toBe(404)
      expect((await su.collection('post_stats').getOne(rec.p3)).id).toBe(rec.p3)
      await su.collections.update('post_stats', { listRule: null, viewRule: null })
      const locked = await sdkFailure(guest.collection('post_stats').getList())
      expect(locked).toMatchObject({ status: 403, message: 'Only superusers can perform this action.' })
      expect((await sdkFailure(guest.collection('post_stats').getOne(rec.p1))).status).toBe(403)
      await su.collections.update('post_stats', { listRule: '', viewRule: '' })
    })

    it('refuses record writes on a view with 400 "Unsupported collection type." (§3.5, §3.6)', async () => {
      const attempts: [() => Promise<unknown>, string][] = [
        [() => su.collection('post_stats').create({ title: 'x' }), 'superuser create'],
        [() => su.collection('post_stats').update(rec.p1, { title: 'x' }), 'superuser update'],
        [() => su.collection('post_stats').delete(rec.p1), 'superuser delete'],
        [() => guest.collection('post_stats').create({ title: 'x' }), 'guest create'],
      ]
      for (const [attempt, who] of attempts)
        expect(await sdkFailure(attempt()), who).toMatchObject({ status: 400, message: UNSUPPORTED })
      const truncate = await call(g.url, 'DELETE', '/api/collections/post_stats/truncate', su.authStore.token)
      expect(truncate.status).toBe(400)
      expect(await su.collection('posts').getFullList()).toHaveLength(3)
    })

    it("reads each database's own SQL; a text value in a json field follows the database", async () => {
      const query =
        kind === 'sqlite'
          ? `SELECT id, total(views) AS t, json_group_array(title) AS titles,
               CAST(strftime('%Y', '2024-05-01') AS INTEGER) AS year, '123' AS digits, 'abc' AS word
             FROM posts GROUP BY id`
          : `SELECT id, sum(views) AS t, json_agg(title) AS titles,
               CAST(to_char(DATE '2024-05-01', 'YYYY') AS INTEGER) AS year, '123' AS digits, 'abc' AS word
             FROM posts GROUP BY id`
      const v = await createView('dialect_view', query)
      expect(v.fields.map((f: Json) => [f.name, f.type, f.onlyInt])).toEqual([
        ['id', 'text', undefined],
        ['t', 'number', false],
        ['titles', 'json', undefined],
        ['year', 'number', true],
        ['digits', 'json', undefined],
        ['word', 'json', undefined],
      ])
      const r = await su.collection('dialect_view').getOne(rec.p1)
      // SQLite reads text that is valid JSON as JSON (PocketBase); PostgreSQL keeps text a JSON string.
      expect(r).toMatchObject({
        t: 10,
        titles: ['First'],
        year: 2024,
        digits: kind === 'sqlite' ? 123 : '123',
        word: 'abc',
      })
      const digits = kind === 'sqlite' ? 'digits = 123' : 'digits = "123"'
      expect(
        await su.collection('dialect_view').getFullList({ filter: `${digits} && word = "abc"` }),
      ).toHaveLength(3)
      await su.collections.delete('dialect_view')

      // A JSON string stored in a json field reads back as that string on both databases.
      await su.collections.create({
        name: 'jsonbox',
        type: 'base',
        fields: [{ name: 'value', type: 'json' }],
      })
      const box = await su.collection('jsonbox').create({ value: '"123"' })
      expect((await su.collection('jsonbox').getOne(box.id)).value).toBe('123')
      await su.collections.delete('jsonbox')
    })

    it('answers 400, not 500, when the data makes a view query fail while reading', async () => {
      // Created fine (nothing is computed then); every read computes the value and fails.
      const bad = kind === 'sqlite' ? "json_extract(title, '$.a')" : 'CAST(title AS JSONB)'
      await createView('failing_view', `SELECT id, ${bad} AS bad FROM posts`, { listRule: '', viewRule: '' })
      const list = await call(g.url, 'GET', '/api/collections/failing_view/records', su.authStore.token)
      expect(list).toEqual({
        status: 400,
        body: { status: 400, message: 'Something went wrong while processing your request.', data: {} },
      })
      const one = await call(g.url, 'GET', `/api/collections/failing_view/records/${rec.p1}`)
      expect(one.status).toBe(400)
      const dry = await call(g.url, 'POST', '/api/collections/meta/dry-run-view', su.authStore.token, {
        query: `SELECT id, ${bad} AS bad FROM posts`,
      })
      expect(dry.status).toBe(400)
      expect(dry.body.data).toMatchObject({ query: { code: 'validation_invalid_view_query' } })
      await su.collections.delete('failing_view')
    })

    it.skipIf(kind !== 'postgres')(
      'answers 400, not 500, when a view made outside Galley blocks a change (PostgreSQL)',
      async () => {
        await su.collections.create({ name: 'ext', type: 'base', fields: [{ name: 'label', type: 'text' }] })
        const pgc = new pg.Client({ connectionString: store.dbUrl })
        await pgc.connect()
        try {
          await pgc.query('CREATE VIEW foreign_view AS SELECT label FROM ext')
          const fields = (await su.collections.getOne('ext')).fields as Json[]
          const drop = await call(g.url, 'PATCH', '/api/collections/ext', su.authStore.token, {
            fields: fields.filter((f) => f.name !== 'label'),
          })
          expect(drop.status).toBe(400)
          expect(drop.body.message).toMatch(/^Failed to update collection\. Raw error: .*depend/)
          const del = await call(g.url, 'DELETE', '/api/collections/ext', su.authStore.token)
          expect(del.status).toBe(400)
          expect(del.body.message).toMatch(/^Failed to delete collection\. Raw error: .*depend/)
          expect((await su.collections.getOne('ext')).fields).toHaveLength(2)
        } finally {
          await pgc.query('DROP VIEW IF EXISTS foreign_view')
          await pgc.end()
        }
        await su.collections.delete('ext')
      },
    )

    it('refuses invalid view queries with 400 and data.viewQuery, leaving nothing behind', async () => {
      const pad = (n: number) => {
        const head = "SELECT id, title FROM posts WHERE title != '"
        return `${head}${'x'.repeat(n - head.length - 1)}'`
      }
      const cases: [string, string, string, RegExp][] = [
        [
          'two statements',
          'SELECT id FROM posts; SELECT id FROM comments',
          'validation_invalid_view_query',
          /multiple statements/,
        ],
        [
          'an INSERT',
          "INSERT INTO posts (id) VALUES ('zzzzzzzzzzzzzzz')",
          'validation_invalid_view_query',
          /single SELECT/,
        ],
        ['a DELETE', 'DELETE FROM posts', 'validation_invalid_view_query', /single SELECT/],
        [
          'a DELETE in a CTE',
          'WITH d AS (DELETE FROM posts RETURNING id) SELECT id FROM d',
          'validation_invalid_view_query',
          /./,
        ],
        ['a * column', 'SELECT * FROM posts', 'validation_invalid_view_query', /wildcard/],
        ['a table.* column', 'SELECT p.id, p.* FROM posts p', 'validation_invalid_view_query', /wildcard/],
        [
          'no id column',
          'SELECT title FROM posts',
          'validation_invalid_view_query',
          /ROW_NUMBER\(\) OVER\(\)\) as id/,
        ],
        [
          'duplicated columns',
          'SELECT id, title, views AS title FROM posts',
          'validation_invalid_view_query',
          /duplicated column name "title"/,
        ],
        [
          'duplicated ids',
          'SELECT p.id, c.id FROM posts p JOIN comments c ON c.post = p.id',
          'validation_invalid_view_query',
          /duplicated column name "id"/,
        ],
        [
          'a reserved column name',
          'SELECT id, title AS expand FROM posts',
          'validation_invalid_view_query',
          /invalid column name "expand"/,
        ],
        ['a syntax error', 'SELECT id FROM posts WHERE', 'validation_invalid_view_query', /./],
        ['an unknown table', 'SELECT id FROM nosuch', 'validation_invalid_view_query', /nosuch/],
        ['an unknown column', 'SELECT id, nosuch FROM posts', 'validation_invalid_view_query', /nosuch/],
        ['an unterminated string', "SELECT id, 'x FROM posts", 'validation_invalid_view_query', /./],
        ['a blank query', '  ', 'validation_required', /Cannot be blank/],
        [
          'a NUL character',
          "SELECT id FROM posts WHERE title != '\u0000'",
          'validation_invalid_view_query',
          /NUL/,
        ],
        [
          `${MAX_VIEW_QUERY_LENGTH + 1} characters`,
          pad(MAX_VIEW_QUERY_LENGTH + 1),
          'validation_invalid_view_query',
          new RegExp(`no more than ${MAX_VIEW_QUERY_LENGTH}`),
        ],
      ]
      for (const [what, viewQuery, code, message] of cases) {
        const r = await postView('bad_view', viewQuery)
        expect(r.status, what).toBe(400)
        expect(r.body.message, what).toBe(CREATE_FAILED)
        const item = (r.body.data as Record<string, { code: string; message: string }>).viewQuery
        expect(item?.code, `${what}: ${JSON.stringify(r.body)}`).toBe(code)
        expect(item?.message, what).toMatch(message)
        expect(Object.keys(r.body.data as Json), what).toEqual(['viewQuery'])
      }
      expect(await su.collection('posts').getFullList()).toHaveLength(3)
      const atLimit = await postView('long_view', pad(MAX_VIEW_QUERY_LENGTH))
      expect(atLimit.status, JSON.stringify(atLimit.body)).toBe(200)
      await su.collections.delete('long_view')

      // other keys of a view
      const rules = await postView('bad_view', 'SELECT id FROM posts', {
        createRule: '',
        updateRule: '',
        deleteRule: '',
      })
      expect(rules.status).toBe(400)
      expect(rules.body.data).toEqual({
        createRule: { code: 'validation_nil_required', message: 'Must be null for view collections.' },
        updateRule: { code: 'validation_nil_required', message: 'Must be null for view collections.' },
        deleteRule: { code: 'validation_nil_required', message: 'Must be null for view collections.' },
      })
      const indexes = await postView('bad_view', 'SELECT id, title FROM posts', {
        indexes: ['CREATE INDEX idx_bad ON bad_view (title)'],
      })
      expect(indexes.status).toBe(400)
      expect(Object.keys(indexes.body.data as Json)).toEqual(['indexes'])
      // Rules are checked against the inferred fields.
      const unknownField = await postView('bad_view', 'SELECT id, title FROM posts', {
        listRule: 'views > 1',
      })
      expect(unknownField.status).toBe(400)
      expect(unknownField.body.data).toMatchObject({ listRule: { code: 'validation_invalid_rule' } })
      const knownField = await postView('ok_view', 'SELECT id, views FROM posts', { listRule: 'views > 1' })
      expect(knownField.status).toBe(200)
      await su.collections.delete('ok_view')

      const names = (await su.collections.getFullList()).map((c) => c.name)
      expect(names).not.toContain('bad_view')
      expect(await databaseViews(store)).toEqual(['post_stats'])
    })

    it('updates a view: a new query re-infers the fields, same-named fields keep their ids; renames', async () => {
      const titles = await createView('titles', 'SELECT id, title FROM posts', { listRule: '' })
      const titleId = titles.fields[1]!.id
      const updated = await su.collections.update('titles', {
        viewQuery:
          'WITH pub AS (SELECT id, title, views FROM posts WHERE published = TRUE) SELECT id, title, views FROM pub',
      })
      expect(updated.fields.map((f: Json) => f.name)).toEqual(['id', 'title', 'views'])
      expect(updated.fields[0]!.id).toBe(titles.fields[0]!.id)
      expect(updated.fields[1]!.id).toBe(titleId)
      expect(ids(await guest.collection('titles').getFullList({ sort: 'views' }))).toEqual([rec.p2, rec.p1])
      const renamed = await su.collections.update('titles', { name: 'titles_renamed' })
      expect(renamed.fields).toEqual(updated.fields)
      expect(await guest.collection('titles_renamed').getFullList()).toHaveLength(2)
      expect((await sdkFailure(guest.collection('titles').getList())).status).toBe(404)
      expect(await databaseViews(store)).toEqual(['post_stats', 'titles_renamed'])
      const bad = await call(g.url, 'PATCH', '/api/collections/titles_renamed', su.authStore.token, {
        viewQuery: 'SELECT title FROM posts',
      })
      expect(bad.status).toBe(400)
      expect(bad.body.data).toMatchObject({ viewQuery: { code: 'validation_invalid_view_query' } })
      expect(await guest.collection('titles_renamed').getFullList()).toHaveLength(2)
      await su.collections.delete('titles_renamed')
      expect(await databaseViews(store)).toEqual(['post_stats'])
    })

    it('rebuilds the views over a changed collection, and refuses changes that break one', async () => {
      const shelf = await su.collections.create({
        name: 'shelf',
        type: 'base',
        fields: [
          { name: 'label', type: 'text', max: 10 },
          { name: 'size', type: 'number' },
        ],
      })
      await su.collection('shelf').create({ label: 'a', size: 2 })
      const view = await createView('shelf_view', 'SELECT s.id, s.label FROM shelf s')
      const label = (c: Json) => (c.fields as Json[]).find((f) => f.name === 'label')!
      const fieldsOf = async () => (await su.collections.getOne('shelf')).fields as Json[]

      // adding a field and changing the options of a field the view reads: the view follows
      let fields = await fieldsOf()
      await su.collections.update('shelf', { fields: [...fields, { name: 'extra', type: 'text' }] })
      fields = (await fieldsOf()).map((f) => (f.name === 'label' ? { ...f, max: 20 } : f))
      await su.collections.update('shelf', { fields })
      const after = await su.collections.getOne('shelf_view')
      expect(label(after)).toMatchObject({ max: 20, id: label(view).id })
      expect(after.updated >= view.updated).toBe(true)
      expect(await su.collection('shelf_view').getFullList()).toHaveLength(1)

      // renaming or removing a field the view reads, or renaming the collection: 400 naming the view
      const renameField = await call(g.url, 'PATCH', '/api/collections/shelf', su.authStore.token, {
        fields: fields.map((f) => (f.name === 'label' ? { ...f, name: 'tag' } : f)),
      })
      expect(renameField.status).toBe(400)
      expect(renameField.body.message).toMatch(
        /^Failed to update collection\. It would break the view collection "shelf_view" \(.+\)\.$/,
      )
      expect(renameField.body.data).toEqual({})
      const removeField = await call(g.url, 'PATCH', '/api/collections/shelf', su.authStore.token, {
        fields: fields.filter((f) => f.name !== 'label'),
      })
      expect(removeField.status).toBe(400)
      expect(removeField.body.message).toMatch(/shelf_view/)
      const rename = await call(g.url, 'PATCH', '/api/collections/shelf', su.authStore.token, {
        name: 'shelves',
      })
      expect(rename.status).toBe(400)
      expect(rename.body.message).toMatch(/shelf_view/)
      // nothing changed
      expect((await fieldsOf()).map((f) => f.name)).toEqual(['id', 'label', 'size', 'extra'])
      expect(await su.collection('shelf_view').getFullList()).toEqual([
        expect.objectContaining({ label: 'a' }),
      ])
      // removing a field no view reads is fine
      await su.collections.update('shelf', { fields: fields.filter((f) => f.name !== 'size') })

      // deleting a collection a view reads: refused while the view exists
      const del = await call(g.url, 'DELETE', '/api/collections/shelf', su.authStore.token)
      expect(del).toEqual({
        status: 400,
        body: {
          status: 400,
          message: 'Failed to delete collection due to existing view references: shelf_view.',
          data: {},
        },
      })
      expect(shelf.id).toBe((await su.collections.getOne('shelf')).id)
      await su.collections.delete('shelf_view')
      await su.collections.delete('shelf')
      expect(await databaseViews(store)).toEqual(['post_stats'])
    })

    it('reads views over views, their fields and their ids as relations', async () => {
      const v = await createView(
        'stats_of_stats',
        'SELECT s.id, s.comments, s.shout, s.id AS stat FROM post_stats s WHERE s.comments > 0',
        { listRule: '' },
      )
      const byName = Object.fromEntries(v.fields.map((f: Json) => [f.name, f]))
      expect(byName.comments).toMatchObject({ type: 'number', onlyInt: true })
      expect(byName.shout).toMatchObject({ type: 'json' })
      expect(byName.stat).toMatchObject({ type: 'relation', collectionId: col.stats, maxSelect: 1 })
      const rows = await guest.collection('stats_of_stats').getFullList({ sort: '-comments' })
      expect(rows.map((r) => [r.id, r.comments, r.stat])).toEqual([
        [rec.p1, 2, rec.p1],
        [rec.p2, 1, rec.p2],
      ])
      // the view under it can be changed as long as what it reads stays
      await su.collections.update('post_stats', {
        viewQuery: STATS_QUERY.replace('p.meta', 'p.meta, 1 AS one'),
      })
      expect(await guest.collection('stats_of_stats').getFullList()).toHaveLength(2)
      const breaking = await call(g.url, 'PATCH', '/api/collections/post_stats', su.authStore.token, {
        viewQuery: 'SELECT id, title FROM posts',
      })
      expect(breaking.status).toBe(400)
      expect(breaking.body.message).toMatch(/stats_of_stats/)
      const blocked = await call(g.url, 'DELETE', '/api/collections/post_stats', su.authStore.token)
      expect(blocked.status).toBe(400)
      expect(blocked.body.message).toMatch(/stats_of_stats/)
      await su.collections.delete('stats_of_stats')
      expect(await databaseViews(store)).toEqual(['post_stats'])
    })

    it('imports views together with the collections they read, in any order', async () => {
      const imported = await call(g.url, 'PUT', '/api/collections/import', su.authStore.token, {
        collections: [
          {
            name: 'shelf_counts',
            type: 'view',
            viewQuery: 'SELECT b.id, b.title, count(b.id) AS n FROM book_titles b GROUP BY b.id, b.title',
          },
          { name: 'book_titles', type: 'view', viewQuery: 'SELECT id, title FROM books' },
          { name: 'books', type: 'base', fields: [{ name: 'title', type: 'text', max: 30 }], listRule: '' },
        ],
      })
      expect(imported.status, JSON.stringify(imported.body)).toBe(204)
      const counts = await su.collections.getOne('shelf_counts')
      expect(counts.fields.map((f: Json) => [f.name, f.type])).toEqual([
        ['id', 'text'],
        ['title', 'text'],
        ['n', 'number'],
      ])
      expect(counts.fields[1]).toMatchObject({ max: 30 })
      await su.collection('books').create({ title: 'Dune' })
      expect(await su.collection('shelf_counts').getFullList()).toEqual([
        expect.objectContaining({ title: 'Dune', n: 1 }),
      ])

      const broken = await call(g.url, 'PUT', '/api/collections/import', su.authStore.token, {
        collections: [
          { name: 'more_books', type: 'base', fields: [{ name: 'title', type: 'text' }] },
          { name: 'broken_view', type: 'view', viewQuery: 'SELECT title FROM more_books' },
        ],
      })
      expect(broken.status).toBe(400)
      expect(broken.body.message).toBe('Failed to import collections.')
      expect(broken.body.data).toMatchObject({
        collections: { 1: { viewQuery: { code: 'validation_invalid_view_query' } } },
      })
      const names = (await su.collections.getFullList()).map((c) => c.name)
      expect(names).not.toContain('more_books')
      expect(names).not.toContain('broken_view')
      // A rename the views could not follow one at a time goes through in one import.
      const books = await su.collections.getOne('books')
      const renamed = await call(g.url, 'PUT', '/api/collections/import', su.authStore.token, {
        collections: [
          { ...books, name: 'novels' },
          { name: 'book_titles', type: 'view', viewQuery: 'SELECT id, title FROM novels' },
        ],
      })
      expect(renamed.status, JSON.stringify(renamed.body)).toBe(204)
      expect(await su.collection('shelf_counts').getFullList()).toEqual([
        expect.objectContaining({ title: 'Dune', n: 1 }),
      ])
      for (const name of ['shelf_counts', 'book_titles', 'novels']) await su.collections.delete(name)
      expect(await databaseViews(store)).toEqual(['post_stats'])
    })

    it('dry-runs a view query: its fields and up to 10 sample records, saving nothing (§6.7)', async () => {
      const before = (await su.collections.getFullList()).length
      for (let i = 0; i < DRY_RUN_SAMPLE + 2; i++)
        await su.collection('comments').create({ post: rec.p3, body: `b${i}` })
      const path = '/api/collections/meta/dry-run-view'
      const r = await call(g.url, 'POST', path, su.authStore.token, {
        query: 'SELECT c.id, c.body, c.post FROM comments c ORDER BY c.body',
      })
      expect(r.status).toBe(200)
      const fields = r.body.fields as Json[]
      expect(fields.map((f) => [f.name, f.type])).toEqual([
        ['id', 'text'],
        ['body', 'text'],
        ['post', 'relation'],
      ])
      const sample = r.body.sample as Json[]
      expect(sample).toHaveLength(DRY_RUN_SAMPLE)
      expect(sample[0]).toEqual({
        collectionId: '',
        collectionName: '',
        id: expect.any(String),
        body: 'b0',
        post: rec.p3,
      })
      // the SDK's call
      const sdk = await su.send(path, {
        method: 'POST',
        body: { query: 'SELECT id, count(id) AS n FROM posts GROUP BY id' },
      })
      expect(sdk.sample).toHaveLength(3)
      expect(sdk.fields[1]).toMatchObject({ name: 'n', type: 'number', onlyInt: true })

      const refused = await call(g.url, 'POST', path, su.authStore.token, {
        query: 'SELECT title FROM posts',
      })
      expect(refused.status).toBe(400)
      expect(refused.body.data).toMatchObject({ query: { code: 'validation_invalid_view_query' } })
      const writes = await call(g.url, 'POST', path, su.authStore.token, { query: 'DELETE FROM posts' })
      expect(writes.status).toBe(400)
      const blank = await call(g.url, 'POST', path, su.authStore.token, {})
      expect(blank.status).toBe(400)
      expect(blank.body.data).toMatchObject({ query: { code: 'validation_required' } })
      const long = "SELECT id FROM posts WHERE title != '"
      const atLimit = `${long}${'x'.repeat(MAX_VIEW_QUERY_LENGTH - long.length - 1)}'`
      expect((await call(g.url, 'POST', path, su.authStore.token, { query: atLimit })).status).toBe(200)
      const over = await call(g.url, 'POST', path, su.authStore.token, { query: `${atLimit} ` })
      expect(over.status).toBe(400)
      expect(over.body.data).toMatchObject({ query: { code: 'validation_length_too_long' } })
      expect((await call(g.url, 'POST', path, undefined, { query: 'SELECT id FROM posts' })).status).toBe(401)
      const user = g.sdk()
      await user.collection('users').authWithPassword('u1@example.com', PASSWORD)
      expect(
        (await call(g.url, 'POST', path, user.authStore.token, { query: 'SELECT id FROM posts' })).status,
      ).toBe(403)
      expect((await su.collections.getFullList()).length).toBe(before)
      expect(await su.collection('posts').getFullList()).toHaveLength(3)
    })

    it('keeps views across a restart', async () => {
      await g.close()
      g = await startGalley(store)
      su = await g.asSuperuser()
      guest = g.sdk()
      expect(ids(await guest.collection('post_stats').getFullList({ sort: '-views' }))).toEqual([
        rec.p1,
        rec.p3,
        rec.p2,
      ])
      expect((await su.collections.getOne('post_stats')).id).toBe(col.stats)
    })
  })
}

/** Polls `check` until it holds; fails after `limitMs`. */
async function eventually(check: () => Promise<boolean>, what: string, limitMs = 3000): Promise<void> {
  const start = performance.now()
  while (!(await check())) {
    if (performance.now() - start > limitMs) throw new Error(`${what}: not seen within ${limitMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe.skipIf(!PG_URL)('view collections on one PostgreSQL database shared by two instances', () => {
  it('each instance sees the views the other creates and changes (caches reload)', async () => {
    const store = await createStore('postgres')
    const a = await startGalley(store)
    const b = await startGalley(store)
    try {
      const suA = await a.asSuperuser()
      const suB = await b.asSuperuser()
      await suA.collections.create({ name: 'notes', type: 'base', fields: [{ name: 'body', type: 'text' }] })
      await suA.collection('notes').create({ body: 'four' })
      await suA.collections.create({
        name: 'note_view',
        type: 'view',
        viewQuery: 'SELECT id, body FROM notes',
        listRule: '',
      })
      const list = (g: RunningGalley) => call(g.url, 'GET', '/api/collections/note_view/records')
      await eventually(async () => (await list(b)).status === 200, 'the view on B')
      expect((await list(b)).body.items).toEqual([expect.objectContaining({ body: 'four' })])

      await suB.collections.update('note_view', {
        viewQuery: 'SELECT id, body, CAST(length(body) AS INTEGER) AS size FROM notes',
      })
      await eventually(
        async () => ((await list(a)).body.items as Json[] | undefined)?.[0]?.size === 4,
        'the new field on A',
      )
      expect((await suA.collections.getOne('note_view')).fields.map((f: Json) => f.name)).toEqual([
        'id',
        'body',
        'size',
      ])
      // A change of the table under the view, made on A, is seen through the view on B.
      const fields = (await suA.collections.getOne('notes')).fields
      await suA.collections.update('notes', { fields: [...fields, { name: 'extra', type: 'number' }] })
      await suA.collection('notes').create({ body: 'seven!!', extra: 1 })
      expect(((await list(b)).body.items as Json[]).map((r) => r.size).sort()).toEqual([4, 7])
    } finally {
      await a.close()
      await b.close()
      await store.cleanup()
    }
  })
})

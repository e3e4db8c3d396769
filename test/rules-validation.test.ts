/**
 * Rules are compiled when a collection is saved (pocketbase-api.md §7.4 last bullet, PocketBase's
 * `checkRule`): unknown fields, bad `@collection` references and misplaced modifiers answer 400
 * `validation_invalid_rule` under the rule's key, for every rule slot (§7.1), on create, update and
 * import, against the schema as it will be after the save. On SQLite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import { call } from './helpers/rest.js'

type Json = Record<string, unknown>

const invalid = (raw: string) => ({
  code: 'validation_invalid_rule',
  message: `Invalid rule. Raw error: ${raw}.`,
})
const refused = (message: string, data: Json) => ({ status: 400, body: { status: 400, message, data } })
const CREATE = 'Failed to create collection.'
const UPDATE = 'Failed to update collection.'
const IMPORT = 'Failed to import collections.'

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`rules validated at collection save on ${kind}`, () => {
    let store: TestStore
    let running: RunningGalley
    let su = ''

    const api = (method: string, path: string, body?: unknown) => call(running.url, method, path, su, body)
    const createCollection = (body: Json) => api('POST', '/api/collections', body)
    const updateCollection = (name: string, body: Json) => api('PATCH', `/api/collections/${name}`, body)
    const importCollections = (collections: Json[], deleteMissing = false) =>
      api('PUT', '/api/collections/import', { collections, deleteMissing })

    beforeAll(async () => {
      store = await createStore(kind)
      running = await startGalley(store)
      su = (await running.asSuperuser()).authStore.token
      const authors = await createCollection({
        name: 'authors',
        type: 'base',
        fields: [
          { name: 'name', type: 'text' },
          { name: 'secret', type: 'text', hidden: true },
        ],
      })
      expect(authors.status).toBe(200)
      const posts = await createCollection({
        name: 'posts',
        type: 'base',
        fields: [
          { name: 'title', type: 'text' },
          { name: 'author', type: 'relation', collectionId: authors.body.id, maxSelect: 1 },
          { name: 'tags', type: 'select', values: ['a', 'b'], maxSelect: 2 },
        ],
      })
      expect(posts.status).toBe(200)
    })
    afterAll(async () => {
      await running?.close()
      await store?.cleanup()
    })

    describe('what a rule may name', () => {
      it('accepts its own new fields, relations, back-relations, hidden fields, @request.* and @collection.*', async () => {
        const r = await createCollection({
          name: 'reviews',
          type: 'base',
          fields: [
            { name: 'stars', type: 'number' },
            { name: 'note', type: 'text', hidden: true },
          ],
          listRule:
            'stars > 2 && note != "" && @request.auth.anything = 1 && @request.body.free:isset = false',
          viewRule: '@collection.posts.author.name ?= "ann" && @collection.authors.secret ?!= ""',
          createRule:
            '@request.query.page = "1" && @request.headers.x_token != "" && @request.method = "POST"',
          updateRule: 'stars:lower = "5" && @request.context = "default"',
          deleteRule: null,
        })
        expect(r.status).toBe(200)
        expect(
          (await updateCollection('authors', { listRule: 'posts_via_author.title ?= "x" && secret != ""' }))
            .status,
        ).toBe(200)
        expect(
          (await updateCollection('posts', { listRule: 'author.secret = "s" && tags:length > 1' })).status,
        ).toBe(200)
      })

      it('refuses unknown fields, paths and collections, under each rule key', async () => {
        expect(
          await createCollection({
            name: 'broken',
            type: 'base',
            fields: [{ name: 'title', type: 'text' }],
            listRule: 'nope = 1',
            viewRule: 'title.name = "x"',
            createRule: '@collection.missing.id != ""',
            updateRule: '@request.nope = 1',
            deleteRule: 'title = @collection.posts.nope',
          }),
        ).toEqual(
          refused(CREATE, {
            listRule: invalid('unknown field "nope" at 0'),
            viewRule: invalid('field "title" is not a relation at 0'),
            createRule: invalid('unknown collection in "@collection.missing.id" at 0'),
            updateRule: invalid('unknown field "@request.nope" at 0'),
            deleteRule: invalid('unknown field "nope" at 8'),
          }),
        )
        expect(await updateCollection('posts', { listRule: 'author.nope = "x"' })).toEqual(
          refused(UPDATE, { listRule: invalid('unknown field "nope" at 0') }),
        )
        expect((await api('GET', '/api/collections/broken')).status).toBe(404)
      })

      it('refuses modifiers on fields that cannot take them', async () => {
        expect(await updateCollection('posts', { listRule: 'title:each = "x"' })).toEqual(
          refused(UPDATE, {
            listRule: invalid('modifier ":each" needs a select, relation or file field, not "title" at 0'),
          }),
        )
        expect(await updateCollection('posts', { listRule: '@request.body.title:length > 1' })).toEqual(
          refused(UPDATE, {
            listRule: invalid('modifier ":length" needs a select, relation or file field at 0'),
          }),
        )
      })

      it('checks authRule, manageRule, and the MFA rule only while MFA is enabled', async () => {
        const base = { name: 'staff', type: 'auth', fields: [{ name: 'level', type: 'number' }] }
        expect(
          await createCollection({
            ...base,
            authRule: 'levl > 1',
            manageRule: 'level > 1 && @collection.nope.id = ""',
          }),
        ).toEqual(
          refused(CREATE, {
            authRule: invalid('unknown field "levl" at 0'),
            manageRule: invalid('unknown collection in "@collection.nope.id" at 13'),
          }),
        )
        const ok = await createCollection({
          ...base,
          authRule: 'level > 1',
          mfa: { enabled: false, rule: 'lvl > 1' },
        })
        expect(ok.status).toBe(200)
        expect(await updateCollection('staff', { otp: { enabled: true }, mfa: { enabled: true } })).toEqual(
          refused(UPDATE, { mfa: { rule: invalid('unknown field "lvl" at 0') } }),
        )
        const enabled = await updateCollection('staff', {
          otp: { enabled: true },
          mfa: { enabled: true, rule: 'level > 2' },
        })
        expect(enabled.status).toBe(200)
      })

      it('system collections keep compiling rules', async () => {
        expect(await updateCollection('users', { authRule: 'verifed = true' })).toEqual(
          refused(UPDATE, { authRule: invalid('unknown field "verifed" at 0') }),
        )
        expect((await updateCollection('users', { authRule: 'verified = true' })).status).toBe(200)
        expect((await updateCollection('users', { authRule: '' })).status).toBe(200)
      })
    })

    describe('fields that go away', () => {
      it("removing or renaming a field the collection's own rules name is refused until the rules change too", async () => {
        const c = await createCollection({
          name: 'drafts',
          type: 'base',
          fields: [
            { name: 'title', type: 'text' },
            { name: 'body', type: 'text' },
          ],
          listRule: 'title != ""',
        })
        expect(c.status).toBe(200)
        const fields = c.body.fields as Json[]
        const without = fields.filter((f) => f.name !== 'title')
        expect(await updateCollection('drafts', { fields: without })).toEqual(
          refused(UPDATE, { listRule: invalid('unknown field "title" at 0') }),
        )
        const renamed = fields.map((f) => (f.name === 'title' ? { ...f, name: 'heading' } : f))
        expect(await updateCollection('drafts', { fields: renamed })).toEqual(
          refused(UPDATE, { listRule: invalid('unknown field "title" at 0') }),
        )
        const both = await updateCollection('drafts', { fields: renamed, listRule: 'heading != ""' })
        expect(both.status).toBe(200)
      })
    })

    describe('rules of other collections', () => {
      const broken = (message: string, rules: string) =>
        refused(`${message} Rules of other collections would break: ${rules}.`, {})

      it('a change that would break them is refused, naming them; once they change it goes through', async () => {
        const shelves = await createCollection({
          name: 'shelves',
          type: 'base',
          fields: [{ name: 'label', type: 'text' }],
        })
        expect(shelves.status).toBe(200)
        const books = await createCollection({
          name: 'books',
          type: 'base',
          fields: [{ name: 'shelf', type: 'relation', collectionId: shelves.body.id, maxSelect: 1 }],
          listRule: 'shelf.label != ""',
        })
        expect(books.status).toBe(200)
        const audits = await createCollection({
          name: 'audits',
          type: 'base',
          viewRule: '@collection.shelves.label ?= "x"',
        })
        expect(audits.status).toBe(200)

        const noLabel = (shelves.body.fields as Json[]).filter((f) => f.name !== 'label')
        expect(await updateCollection('shelves', { fields: noLabel })).toEqual(
          broken(
            UPDATE,
            'books.listRule (unknown field "label" at 0), audits.viewRule (unknown field "label" at 0)',
          ),
        )
        expect(await updateCollection('shelves', { name: 'racks' })).toEqual(
          broken(UPDATE, 'audits.viewRule (unknown collection in "@collection.shelves.label" at 0)'),
        )
        expect(await api('DELETE', '/api/collections/audits')).toEqual({ status: 204, body: undefined })
        // books' relation keeps shelves from being deleted; without audits the rename goes through
        expect((await updateCollection('shelves', { name: 'racks' })).status).toBe(200)
        expect(await updateCollection('racks', { fields: noLabel })).toEqual(
          broken(UPDATE, 'books.listRule (unknown field "label" at 0)'),
        )
        expect((await updateCollection('books', { listRule: 'shelf.id != ""' })).status).toBe(200)
        expect((await updateCollection('racks', { fields: noLabel })).status).toBe(200)
      })

      it('deleting a collection a rule names through @collection is refused', async () => {
        expect((await createCollection({ name: 'tags', type: 'base' })).status).toBe(200)
        expect(
          (await createCollection({ name: 'notes', type: 'base', listRule: '@collection.tags.id ?!= ""' }))
            .status,
        ).toBe(200)
        expect(await api('DELETE', '/api/collections/tags')).toEqual(
          broken(
            'Failed to delete collection.',
            'notes.listRule (unknown collection in "@collection.tags.id" at 0)',
          ),
        )
        expect((await updateCollection('notes', { listRule: '' })).status).toBe(200)
        expect((await api('DELETE', '/api/collections/tags')).status).toBe(204)
      })
    })

    describe('import', () => {
      it('validates against the imported set: new collections may name each other', async () => {
        const r = await importCollections([
          {
            id: 'imp_teams00001',
            name: 'teams',
            type: 'base',
            fields: [{ name: 'title', type: 'text' }],
            listRule: '@collection.players.team.title ?= title',
          },
          {
            id: 'imp_players001',
            name: 'players',
            type: 'base',
            fields: [
              { name: 'nick', type: 'text' },
              { name: 'team', type: 'relation', collectionId: 'imp_teams00001', maxSelect: 1 },
            ],
            listRule: 'team.title != "" && nick != ""',
          },
        ])
        expect(r.status).toBe(204)
      })

      it('reports a rule naming what the import removes, at the collection index', async () => {
        const current = (await api('GET', '/api/collections?perPage=100')).body.items as Json[]
        const players = current.find((c) => c.name === 'players')!
        const kept = current.filter((c) => c.name !== 'teams' && c.name !== 'players')
        const changed = {
          ...players,
          fields: (players.fields as Json[]).filter((f) => f.name !== 'team'),
          listRule: '@collection.teams.id != ""',
        }
        expect(await importCollections([...kept, changed], true)).toEqual(
          refused(IMPORT, {
            collections: {
              [kept.length]: { listRule: invalid('unknown collection in "@collection.teams.id" at 0') },
            },
          }),
        )
        expect((await api('GET', '/api/collections/teams')).status).toBe(200)
      })
    })
  })
}

/**
 * `?fields=` (pocketbase-api.md §5.3) over HTTP on SQLite and PostgreSQL: picking on records, list
 * envelopes, expanded relations and auth responses, the `:excerpt` modifier, and invalid input
 * answered with 400 before anything runs (PocketBase sends 200 with an empty body there).
 */
import type PocketBase from 'pocketbase'
import { ClientResponseError } from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_FIELDS_LENGTH } from '../src/http/fields-picker.js'
import { OPEN, rel, text } from './helpers/fields.js'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'

type Json = Record<string, unknown>

const PASSWORD = 'fields password 123'
const BODY = '<h1>Título</h1><p>Ünïcode <b>text</b> that goes on and on</p><script>alert(1)</script>'

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`fields on ${kind}`, () => {
    let store: TestStore
    let g: RunningGalley
    let su: PocketBase
    const ids: Record<string, string> = {}

    async function call(
      method: string,
      path: string,
      body?: unknown,
    ): Promise<{ status: number; text: string; json: Json | undefined }> {
      const res = await fetch(`${g.url}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      const text = await res.text()
      return { status: res.status, text, json: text === '' ? undefined : (JSON.parse(text) as Json) }
    }

    beforeAll(async () => {
      store = await createStore(kind)
      g = await startGalley(store)
      su = await g.asSuperuser()
      const writers = await su.collections.create({
        name: 'writers',
        type: 'base',
        fields: [text('name'), { name: 'bio', type: 'editor' }],
        ...OPEN,
      })
      await su.collections.create({
        name: 'articles',
        type: 'base',
        fields: [
          text('title'),
          { name: 'body', type: 'editor' },
          { name: 'views', type: 'number' },
          rel('author', writers.id),
        ],
        ...OPEN,
      })
      await su.collections.update('users', { ...OPEN })
      const w = await su.collection('writers').create({ name: 'Ann', bio: '<p>Writes <i>a lot</i></p>' })
      const a = await su.collection('articles').create({ title: 'Hello', body: BODY, views: 7, author: w.id })
      await su.collection('articles').create({ title: 'Bye', body: 'plain', views: 1 })
      await su
        .collection('users')
        .create({ email: 'u@example.com', password: PASSWORD, passwordConfirm: PASSWORD, name: 'U' })
      ids.writer = w.id
      ids.article = a.id
    })

    afterAll(async () => {
      await g?.close()
      await store?.cleanup()
    })

    it('picks keys of each list item and keeps the envelope', async () => {
      const list = await su.collection('articles').getList(1, 10, { fields: 'id,title', sort: 'title' })
      expect(list).toEqual({
        page: 1,
        perPage: 10,
        totalItems: 2,
        totalPages: 1,
        items: [
          { id: expect.any(String), title: 'Bye' },
          { id: ids.article, title: 'Hello' },
        ],
      })
    })

    it('excerpts HTML by code points, with and without ellipsis; non-strings pass unchanged', async () => {
      const r = await su.collection('articles').getOne(ids.article!, {
        fields: 'body:excerpt(20,true),views:excerpt(1),title:excerpt(100)',
      })
      expect(r).toEqual({ body: 'Título Ünïcode text...', views: 7, title: 'Hello' })
      const all = await su.collection('articles').getOne(ids.article!, { fields: '*,body:excerpt(6)' })
      expect(all.body).toBe('Título')
      expect(all.collectionName).toBe('articles')
    })

    it('reaches into expanded records, modifiers included', async () => {
      const r = await su.collection('articles').getFirstListItem('title = "Hello"', {
        expand: 'author',
        fields: 'title,expand.author.name,expand.author.bio:excerpt(6,true)',
      })
      expect(r).toEqual({ title: 'Hello', expand: { author: { name: 'Ann', bio: 'Writes...' } } })
    })

    it('applies to auth responses and create/update responses', async () => {
      const auth = await call('POST', '/api/collections/users/auth-with-password?fields=token,record.email', {
        identity: 'u@example.com',
        password: PASSWORD,
      })
      expect(auth.status).toBe(200)
      expect(Object.keys(auth.json!).sort()).toEqual(['record', 'token'])
      expect(auth.json!.record).toEqual({ email: 'u@example.com' })
      const created = await call('POST', '/api/collections/articles/records?fields=title', { title: 'New' })
      expect(created).toMatchObject({ status: 200, json: { title: 'New' } })
    })

    it('uses the first of repeated `fields` parameters', async () => {
      const r = await call(
        'GET',
        `/api/collections/articles/records/${ids.article}?fields=title&fields=views`,
      )
      expect(r.json).toEqual({ title: 'Hello' })
    })

    it('leaves error responses whole', async () => {
      const r = await call('GET', '/api/collections/articles/records/missing?fields=id')
      expect(r).toMatchObject({
        status: 404,
        json: { status: 404, message: "The requested resource wasn't found.", data: {} },
      })
    })

    it('answers 400 for an unknown or malformed modifier, before a write runs', async () => {
      const bad = await call(
        'GET',
        `/api/collections/articles/records?fields=${encodeURIComponent('title:foo')}`,
      )
      expect(bad).toMatchObject({
        status: 400,
        json: { status: 400, message: 'Invalid "fields" parameter: unknown modifier "foo".', data: {} },
      })
      const sdk = await su
        .collection('articles')
        .getList(1, 1, { fields: 'body:excerpt(0)' })
        .catch((e: unknown) => e)
      expect(sdk).toBeInstanceOf(ClientResponseError)
      expect((sdk as ClientResponseError).status).toBe(400)
      const write = await call(
        'POST',
        `/api/collections/articles/records?fields=${encodeURIComponent('title:excerpt(')}`,
        {
          title: 'never',
        },
      )
      expect(write.status).toBe(400)
      expect(await su.collection('articles').getFullList({ filter: 'title = "never"' })).toEqual([])
    })

    it(`answers 400 past ${MAX_FIELDS_LENGTH} characters`, async () => {
      const at = `id${','.repeat(MAX_FIELDS_LENGTH - 2)}`
      expect((await call('GET', `/api/collections/articles/records?fields=${at}`)).status).toBe(200)
      const over = await call('GET', `/api/collections/articles/records?fields=${at},`)
      expect(over.json).toEqual({
        status: 400,
        message: `Invalid "fields" parameter: longer than ${MAX_FIELDS_LENGTH} characters.`,
        data: {},
      })
    })
  })
}

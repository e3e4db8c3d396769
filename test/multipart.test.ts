/**
 * multipart/form-data and urlencoded bodies (pocketbase-api.md §1.2, §3.7, Appendix C.2) over HTTP,
 * through the SDK and raw fetch, on SQLite and PostgreSQL: value inference, repeated keys,
 * `@jsonPayload`, the same routes working as with JSON, file parts kept under their file field
 * (test/files.test.ts has the rest of files), malformed bodies and the limits.
 */
import type PocketBase from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_BODY_BYTES } from '../src/lib/index.js'
import { MAX_FORM_VALUES_BYTES, MAX_MULTIPART_FILES, MAX_MULTIPART_PARTS } from '../src/http/multipart.js'
import {
  createStore,
  DB_KINDS,
  startGalley,
  SU_EMAIL,
  type RunningGalley,
  type TestStore,
} from './helpers/galley.js'

type Json = Record<string, unknown>

const BOUNDARY = 'galleyTestBoundary9xQ'

interface Part {
  name: string
  value: string | Buffer
  filename?: string
}

/** A multipart body written by hand, so its exact bytes (and size) are known. */
function multipart(parts: readonly Part[]): Buffer {
  const chunks: Buffer[] = []
  for (const p of parts) {
    const file = p.filename === undefined ? '' : `; filename="${p.filename}"\r\nContent-Type: text/plain`
    chunks.push(
      Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${p.name}"${file}\r\n\r\n`),
    )
    chunks.push(Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value))
    chunks.push(Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`))
  return Buffer.concat(chunks)
}

/** The size of a body holding `parts` plus one more part `name` whose value has `n` bytes. */
const sizeWith = (parts: readonly Part[], extra: Omit<Part, 'value'>, n: number) =>
  multipart([...parts, { ...extra, value: '' }]).length + n

async function send(
  url: string,
  body: Buffer | string,
  opts: { method?: string; type?: string; token?: string; chunked?: boolean } = {},
): Promise<{ status: number; body: Json }> {
  const headers: Record<string, string> = {
    'content-type': opts.type ?? `multipart/form-data; boundary=${BOUNDARY}`,
  }
  if (opts.token) headers.authorization = opts.token
  // Chunked: no Content-Length, so the limit is met while reading.
  const payload = opts.chunked ? new Blob([body]).stream() : body
  const init = { method: opts.method ?? 'POST', headers, body: payload, duplex: 'half' }
  const res = await fetch(url, init as RequestInit)
  const text = await res.text()
  const json = text === '' ? {} : (JSON.parse(text) as Json)
  if (res.status >= 400) expect(json.status).toBe(res.status)
  return { status: res.status, body: json }
}

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`multipart and urlencoded bodies on ${kind}`, () => {
    let store: TestStore
    let g: RunningGalley
    let su: PocketBase
    let records: string

    beforeAll(async () => {
      store = await createStore(kind)
      g = await startGalley(store)
      su = await g.asSuperuser()
      await su.collections.create({
        name: 'posts',
        type: 'base',
        fields: [
          { name: 'title', type: 'text' },
          { name: 'code', type: 'text' },
          { name: 'views', type: 'number' },
          { name: 'active', type: 'bool' },
          { name: 'labels', type: 'select', maxSelect: 3, values: ['a', 'b', '3'] },
          { name: 'meta', type: 'json' },
          { name: 'documents', type: 'file', maxSelect: 5, maxSize: 1_000_000 },
        ],
        listRule: '',
        viewRule: '',
        createRule: '',
        updateRule: '',
        deleteRule: '',
      })
      records = `${g.url}/api/collections/posts/records`
    })
    afterAll(async () => {
      await g?.close()
      await store?.cleanup()
    })

    const count = async () => (await su.collection('posts').getList(1, 1)).totalItems

    it('creates through the SDK from FormData: inferred values, repeated keys, @jsonPayload (C.2)', async () => {
      const form = new FormData()
      form.append('title', 'Hello')
      form.append('code', '007')
      form.append('views', '3')
      form.append('active', 'true')
      form.append('labels', 'a')
      form.append('labels', 'b')
      form.append('@jsonPayload', JSON.stringify({ meta: { x: 1, n: '5' }, title: 'from json' }))
      form.append('@jsonPayload', JSON.stringify({ labels: ['3'] }))
      const r = await g.sdk().collection('posts').create(form)
      expect(r).toMatchObject({
        title: 'from json',
        code: '007',
        views: 3,
        active: true,
        labels: ['3'],
        meta: { x: 1, n: '5' },
      })
      expect(await su.collection('posts').getOne(r.id)).toMatchObject({ views: 3, meta: { x: 1, n: '5' } })
    })

    it('updates with modifiers sent as form values', async () => {
      const r = await su.collection('posts').create({ title: 'count me', views: 10, labels: ['a'] })
      const form = new FormData()
      form.append('views+', '5')
      form.append('labels+', 'b')
      form.append('active', 'false')
      const u = await g.sdk().collection('posts').update(r.id, form)
      expect(u).toMatchObject({ views: 15, labels: ['a', 'b'], active: false })
    })

    it('keeps a file part under its field, with the other values of the form', async () => {
      const r = await g
        .sdk()
        .collection('posts')
        .create({ title: 'with file', meta: { a: 1 }, documents: new File(['hi'], 'a.txt') })
      expect(r).toMatchObject({ title: 'with file', meta: { a: 1 } })
      expect(r.documents).toEqual([expect.stringMatching(/^a[a-z0-9]{10}_[a-z0-9]{10}\.txt$/)])
    })

    it('works on other routes unchanged: settings, collections and password auth', async () => {
      const token = su.authStore.token
      const settings = await send(
        `${g.url}/api/settings`,
        multipart([{ name: '@jsonPayload', value: JSON.stringify({ meta: { appName: 'Form app' } }) }]),
        { method: 'PATCH', token },
      )
      expect(settings.status).toBe(200)
      expect((settings.body.meta as Json).appName).toBe('Form app')

      const created = await send(
        `${g.url}/api/collections`,
        multipart([
          { name: 'name', value: 'notes' },
          { name: 'type', value: 'base' },
          { name: '@jsonPayload', value: JSON.stringify({ fields: [{ name: 'body', type: 'text' }] }) },
        ]),
        { token },
      )
      expect(created.status).toBe(200)
      expect((created.body.fields as Json[]).map((f) => f.name)).toContain('body')

      const auth = await send(
        `${g.url}/api/collections/_superusers/auth-with-password`,
        multipart([
          { name: 'identity', value: SU_EMAIL },
          { name: 'password', value: 'correct horse battery' },
        ]),
      )
      expect(auth.status).toBe(200)
      expect(typeof auth.body.token).toBe('string')
    })

    it('reads urlencoded bodies with the same inference and @jsonPayload', async () => {
      const body = new URLSearchParams([
        ['title', 'encoded'],
        ['views', '7'],
        ['labels', 'a'],
        ['labels', 'b'],
        ['@jsonPayload', JSON.stringify({ meta: ['x'] })],
      ])
      const res = await send(records, body.toString(), { type: 'application/x-www-form-urlencoded' })
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ title: 'encoded', views: 7, labels: ['a', 'b'], meta: ['x'] })
    })

    it('answers malformed bodies with a 400 and keeps serving', async () => {
      const before = await count()
      const good = multipart([{ name: 'title', value: 'never stored' }])
      const cases: [string, Buffer | string, string][] = [
        ['no boundary', good, 'multipart/form-data'],
        ['another boundary', good, 'multipart/form-data; boundary=somethingElse'],
        ['truncated', good.subarray(0, good.length - 10), `multipart/form-data; boundary=${BOUNDARY}`],
        ['not multipart at all', 'title=x', `multipart/form-data; boundary=${BOUNDARY}`],
      ]
      for (const [what, body, type] of cases) {
        const res = await send(records, body, { type })
        expect([what, res.status]).toEqual([what, 400])
        expect(res.body.message).toMatch(/^Failed to read the submitted data/)
        expect(res.body.data).toEqual({})
      }
      for (const payload of ['{bad json', '[1,2]', '"text"']) {
        const res = await send(records, multipart([{ name: '@jsonPayload', value: payload }]))
        expect([payload, res.status]).toEqual([payload, 400])
      }
      expect(await count()).toBe(before)
      expect((await send(records, good)).status).toBe(200)
    })

    it('treats an empty multipart body as {}', async () => {
      const res = await fetch(records, {
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
        body: '',
      })
      expect(res.status).toBe(200)
    })

    // The limits are the parser's, not the database's: checked once.
    describe.skipIf(kind !== 'sqlite')('limits', () => {
      it(`holds the whole body to the route's limit (${MAX_BODY_BYTES} bytes): at it 200, past it 413`, async () => {
        // A file part of no file field is read and dropped: only the body limit holds it.
        const parts: Part[] = [{ name: 'title', value: 'big' }]
        const file = { name: 'notafield', filename: 'big.txt' }
        const n = MAX_BODY_BYTES - sizeWith(parts, file, 0)
        const at = multipart([...parts, { ...file, value: Buffer.alloc(n, 120) }])
        expect(at.length).toBe(MAX_BODY_BYTES)
        const ok = await send(records, at)
        expect(ok.status).toBe(200)
        const over = multipart([...parts, { ...file, value: Buffer.alloc(n + 1, 120) }])
        for (const chunked of [false, true]) {
          const res = await send(records, over, { chunked })
          expect([chunked, res.status, res.body.message]).toEqual([chunked, 413, 'Request entity too large.'])
        }
        const chunkedAt = await send(records, at, { chunked: true })
        expect(chunkedAt.status).toBe(200)
      })

      it(`allows ${MAX_FORM_VALUES_BYTES} bytes of values and refuses one more with a 413`, async () => {
        // An unknown key is ignored by records create, so the big value costs nothing but reading.
        const at = await send(
          records,
          multipart([
            { name: 'title', value: 'x' },
            { name: 'ignored', value: Buffer.alloc(MAX_FORM_VALUES_BYTES - 1, 120) },
          ]),
        )
        expect(at.status).toBe(200)
        const over = await send(
          records,
          multipart([
            { name: 'title', value: 'xy' },
            { name: 'ignored', value: Buffer.alloc(MAX_FORM_VALUES_BYTES - 1, 120) },
          ]),
        )
        expect([over.status, over.body.message]).toEqual([
          413,
          `Form values may total at most ${MAX_FORM_VALUES_BYTES} bytes.`,
        ])
      })

      it(`allows ${MAX_MULTIPART_PARTS} parts and refuses one more with a 413`, async () => {
        const parts = Array.from({ length: MAX_MULTIPART_PARTS }, (_, i) => ({ name: `k${i}`, value: 'v' }))
        parts[0] = { name: 'title', value: 'many parts' }
        expect((await send(records, multipart(parts))).status).toBe(200)
        const over = await send(records, multipart([...parts, { name: 'one', value: 'more' }]))
        expect([over.status, over.body.message]).toEqual([
          413,
          `A multipart body may have at most ${MAX_MULTIPART_PARTS} parts.`,
        ])
      })

      it(`allows ${MAX_MULTIPART_FILES} files (too many for the field) and refuses one more with a 413`, async () => {
        const files = Array.from({ length: MAX_MULTIPART_FILES }, (_, i) => ({
          name: `documents`,
          value: 'x',
          filename: `f${i}.txt`,
        }))
        const at = await send(records, multipart(files))
        expect([at.status, at.body.message]).toEqual([400, 'Failed to create record.'])
        expect((at.body.data as Json).documents).toMatchObject({ code: 'validation_too_many_files' })
        const over = await send(
          records,
          multipart([...files, { name: 'documents', value: 'x', filename: 'z.txt' }]),
        )
        expect([over.status, over.body.message]).toEqual([
          413,
          `A multipart body may have at most ${MAX_MULTIPART_FILES} files.`,
        ])
      })
    })
  })
}

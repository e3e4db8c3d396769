/**
 * Uploads inside a batch (issue 6; pocketbase-api.md §12, §10.4) on SQLite and PostgreSQL: the
 * SDK's multipart batch maps `requests.N.<field>` parts to request N, a batch that fails after an
 * upload leaves no file behind, a committed one keeps all of its files and removes the files it
 * made obsolete (thumbs too) right after the commit, and each file meets its own field's limits.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type PocketBase from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BOUNDARY, multipart, streamUpload, walk } from './helpers/files.js'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import { sdkFailure as failure } from './helpers/sdk-failure.js'

type Json = Record<string, unknown>
type Rec = { id: string; collectionId: string; collectionName: string; [k: string]: unknown }

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
)
const file = (text: string | Buffer, name: string) =>
  new File([typeof text === 'string' ? text : new Uint8Array(text)], name)

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`batch uploads on ${kind}`, () => {
    let store: TestStore
    let g: RunningGalley
    let su: PocketBase
    let albumsId: string
    let notesId: string
    let storage: string

    beforeAll(async () => {
      store = await createStore(kind)
      g = await startGalley(store)
      su = await g.asSuperuser()
      await su.settings.update({ batch: { enabled: true, maxRequests: 10, timeout: 10 } })
      const rules = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' }
      albumsId = (
        await su.collections.create({
          name: 'albums',
          type: 'base',
          fields: [
            { name: 'title', type: 'text', required: true },
            { name: 'photos', type: 'file', maxSelect: 5, maxSize: 1000 },
            { name: 'cover', type: 'file', maxSelect: 1, mimeTypes: ['image/png'] },
          ],
          ...rules,
        })
      ).id
      // a field of the same name with a larger limit: the stream allows the larger, each field its own
      notesId = (
        await su.collections.create({
          name: 'notes',
          type: 'base',
          fields: [{ name: 'photos', type: 'file', maxSelect: 2, maxSize: 2000 }],
          ...rules,
        })
      ).id
      storage = join(store.dir, 'storage')
    })
    afterAll(async () => {
      await g?.close()
      await store?.cleanup()
    })

    const files = () => walk(storage)
    const temps = () => readdirSync(join(store.dir, 'upload_tmp'))
    const count = async (c: string) => (await su.collection(c).getFullList()).length
    /** POST /api/batch with a hand-written multipart body. */
    const rawBatch = async (body: Buffer) => {
      const res = await fetch(`${g.url}/api/batch`, {
        method: 'POST',
        headers: {
          'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
          authorization: su.authStore.token,
        },
        body,
      })
      return { status: res.status, body: (await res.json()) as Json }
    }

    it('maps requests.N.<field> parts to their requests: creates, appends and upserts with files', async () => {
      const batch = su.createBatch()
      batch
        .collection('albums')
        .create({ title: 'a', photos: [file('one', 'one.txt'), file('two', 'two.txt')] })
      batch.collection('notes').create({ photos: file('note', 'note.txt') })
      batch.collection('albums').upsert({ id: 'upsertedalbum01', title: 'u', cover: file(PNG, 'c.png') })
      const [a, n, u] = (await batch.send()).map((r) => r.body as Rec)
      expect(a!.photos).toEqual([
        expect.stringMatching(/^one_[a-z0-9]{10}\.txt$/),
        expect.stringMatching(/^two_[a-z0-9]{10}\.txt$/),
      ])
      expect(u!.id).toBe('upsertedalbum01')
      const expected = [
        ...(a!.photos as string[]).map((p) => `${albumsId}/${a!.id}/${p}`),
        `${notesId}/${n!.id}/${(n!.photos as string[])[0]}`,
        `${albumsId}/${u!.id}/${u!.cover as string}`,
      ]
      expect(files()).toEqual(expected.sort())
      const served = await fetch(g.sdk().files.getURL(a!, (a!.photos as string[])[1]!))
      expect(await served.text()).toBe('two')

      // files+ and the upsert's update path, in one batch
      const more = su.createBatch()
      more.collection('albums').update(a!.id, { 'photos+': file('three', 'three.txt') })
      more.collection('albums').upsert({ id: u!.id, title: 'u2', 'photos+': [file('p', 'ppp.txt')] })
      const [a2, u2] = (await more.send()).map((r) => r.body as Rec)
      expect(a2!.photos).toHaveLength(3)
      expect(u2!.photos).toEqual([expect.stringMatching(/^ppp_[a-z0-9]{10}\.txt$/)])
      expect(u2!.cover).toBe(u!.cover)
      for (const r of [a2!, u2!])
        for (const name of [...(r.photos as string[]), ...(r.cover ? [r.cover as string] : [])])
          expect(readFileSync(join(storage, r.collectionId, r.id, name)).length).toBeGreaterThan(0)
      expect(temps()).toEqual([])
    })

    it('leaves no file behind when the batch fails after an upload', async () => {
      const before = files()
      const albums = await count('albums')
      const batch = su.createBatch()
      batch.collection('albums').create({ title: 'stored first', photos: [file('x', 'x.txt')] })
      batch.collection('notes').create({ photos: [file('y', 'y.txt')] })
      batch.collection('albums').create({ photos: [file('z', 'z.txt')] }) // no title: fails
      const f = await failure(batch.send())
      expect(f.status).toBe(400)
      expect(f.message).toBe('Batch transaction failed.')
      expect(Object.keys(f.data.requests as Json)).toEqual(['2'])
      expect(((f.data.requests as Json)['2'] as Json).response).toMatchObject({
        status: 400,
        data: { title: { code: 'validation_required' } },
      })
      expect(await count('albums')).toBe(albums)
      expect(files()).toEqual(before)
      expect(temps()).toEqual([])
    })

    it('removes the files a committed batch made obsolete (and their thumbs) right after the commit', async () => {
      const pb = g.sdk()
      const keep = await pb.collection('albums').create<Rec>({
        title: 'keep',
        photos: [file('k1', 'k1.txt'), file('k2', 'k2.txt')],
        cover: file(PNG, 'c.png'),
      })
      const gone = await pb.collection('albums').create<Rec>({ title: 'gone', photos: [file('g', 'g.txt')] })
      // a thumb of the cover, to go with it
      expect((await fetch(pb.files.getURL(keep, keep.cover as string, { thumb: '100x100' }))).status).toBe(
        200,
      )
      expect(files().filter((p) => p.includes(`thumbs_${keep.cover}`))).toHaveLength(1)
      const [k1, k2] = keep.photos as string[]

      const batch = su.createBatch()
      batch.collection('albums').update(keep.id, { 'photos-': [k1], cover: file(PNG, 'new.png') })
      batch.collection('albums').delete(gone.id)
      const [updated] = (await batch.send()).map((r) => r.body as Rec)
      // no sweep ran: the batch itself removed them
      expect(files().filter((p) => p.startsWith(`${albumsId}/${keep.id}/`))).toEqual(
        [k2!, updated!.cover as string].map((n) => `${albumsId}/${keep.id}/${n}`).sort(),
      )
      expect(files().some((p) => p.startsWith(`${albumsId}/${gone.id}/`))).toBe(false)
    })

    it('keeps the files a failed batch would have made obsolete', async () => {
      const pb = g.sdk()
      const r = await pb.collection('albums').create<Rec>({ title: 'stays', photos: [file('s', 's.txt')] })
      const before = files()
      const batch = su.createBatch()
      batch.collection('albums').update(r.id, { photos: [file('new', 'new.txt')] })
      batch.collection('albums').delete(r.id)
      batch.collection('albums').update('nosuchrecord00', { title: 'x' })
      const f = await failure(batch.send())
      expect(f.status).toBe(400)
      expect(((f.data.requests as Json)['2'] as Json).response).toMatchObject({ status: 404 })
      expect(files()).toEqual(before)
      const served = await fetch(pb.files.getURL(r, (r.photos as string[])[0]!))
      expect(await served.text()).toBe('s')
    })

    it("checks each file against its own field's maxSize and mimeTypes, and cuts a part past every limit off", async () => {
      const albums = await count('albums')
      const before = files()
      // 1001 bytes: under notes.photos's 2000 (so read), over albums.photos's 1000
      const over = su.createBatch()
      over.collection('albums').create({ title: 'big', photos: [file('x'.repeat(1001), 'big.txt')] })
      const f = await failure(over.send())
      expect(((f.data.requests as Json)['0'] as Json).response).toMatchObject({
        data: { photos: { code: 'validation_file_size_limit', params: { maxSize: 1000 } } },
      })
      // at the limit it is taken
      const at = su.createBatch()
      at.collection('albums').create({ title: 'at', photos: [file('x'.repeat(1000), 'at.txt')] })
      const [created] = await at.send()
      expect(((created!.body as Rec).photos as string[]).length).toBe(1)
      // 2001 bytes: past every photos field's limit, refused while streaming
      const past = su.createBatch()
      past.collection('notes').create({ photos: [file('x'.repeat(2001), 'past.txt')] })
      const p = await failure(past.send())
      expect(p.message).toBe('Batch transaction failed.')
      expect(((p.data.requests as Json)['0'] as Json).response).toMatchObject({
        data: { photos: { code: 'validation_file_size_limit', params: { maxSize: 2000 } } },
      })
      // mimeTypes on the content: a text file named .png
      const fake = su.createBatch()
      fake.collection('albums').create({ title: 'fake', cover: file('not a png', 'c.png') })
      const m = await failure(fake.send())
      expect(((m.data.requests as Json)['0'] as Json).response).toMatchObject({
        data: { cover: { code: 'validation_invalid_mime_type' } },
      })
      expect(await count('albums')).toBe(albums + 1)
      expect(files().filter((x) => !before.includes(x))).toHaveLength(1)
      expect(temps()).toEqual([])
    })

    it('cuts a 50 MB batch file part off at the largest limit of its field name, early', async () => {
      const before = files()
      const upload = streamUpload(g.url, '/api/batch', 'requests.0.photos', 50 * 1024 * 1024)
      const res = await upload.done
      const seen = JSON.stringify({ status: res.status, sent: res.sent, body: res.body.slice(0, 300) })
      expect(res.status, seen).toBe(400)
      expect(JSON.parse(res.body), seen).toMatchObject({
        message: 'Batch transaction failed.',
        data: { requests: { 0: { response: { data: { photos: { params: { maxSize: 2000 } } } } } } },
      })
      // read up to about the limit plus socket buffers, far from 50 MB
      expect(res.sent, seen).toBeLessThan(16 * 1024 * 1024)
      expect(files()).toEqual(before)
      expect(temps()).toEqual([])
    })

    it('takes requests[N].<field> too, @jsonPayload last or first, and drops parts of no request', async () => {
      const payload = JSON.stringify({
        requests: [
          { method: 'POST', url: '/api/collections/albums/records', body: { title: 'raw' } },
          { method: 'POST', url: '/api/collections/notes/records', body: {} },
        ],
      })
      const body = multipart([
        { name: 'requests[0].photos', value: 'bracket', filename: 'bracket.txt' },
        { name: 'requests.1.photos+', value: 'plus', filename: 'plus.txt' },
        { name: 'requests.7.photos', value: 'nobody', filename: 'nobody7.txt' },
        { name: 'requests.x.photos', value: 'nobody', filename: 'nobodyx.txt' },
        { name: 'requests.0.unknown', value: 'dropped', filename: 'unknown.txt' },
        { name: '@jsonPayload', value: payload },
      ])
      const res = await rawBatch(body)
      expect(res.status).toBe(200)
      const [a, n] = (res.body as unknown as { body: Rec }[]).map((r) => r.body)
      expect(a!.photos).toEqual([expect.stringMatching(/^bracket_[a-z0-9]{10}\.txt$/)])
      expect(n!.photos).toEqual([expect.stringMatching(/^plus_[a-z0-9]{10}\.txt$/)])
      expect(files().filter((p) => p.includes(a!.id) || p.includes(n!.id))).toHaveLength(2)
      expect(files().some((p) => /\/(nobody7|nobodyx|unknown)_[a-z0-9]{10}\.txt$/.test(p))).toBe(false)
      expect(temps()).toEqual([])
      // the same with the payload first
      const first = await rawBatch(
        multipart([
          { name: '@jsonPayload', value: payload },
          { name: 'requests.0.photos', value: 'first', filename: 'first.txt' },
        ]),
      )
      expect(first.status).toBe(200)
      expect(((first.body as unknown as { body: Rec }[])[0]!.body.photos as string[])[0]).toMatch(/^first_/)
    })
  })
}

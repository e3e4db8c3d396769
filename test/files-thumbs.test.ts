/**
 * Thumbnails (issue 6; pocketbase-api.md §10.1) on SQLite and PostgreSQL, through the `pocketbase`
 * SDK's `files.getURL(record, name, { thumb })`: every size format gives an image of exactly the
 * size PocketBase's gives (read back with sharp), crops keep the top, centre or bottom, sizes not
 * listed and non-images serve the original, thumbs are stored as `thumbs_<name>/<size>_<name>`
 * beside the file and served from there, a decompression bomb serves the original, and thumbs go
 * with their file (update, delete, orphan sweep).
 */
import { existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import type PocketBase from 'pocketbase'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sweepOrphanFiles } from '../src/files/index.js'
import { walk } from './helpers/files.js'
import { startS3, type LocalS3 } from './helpers/s3.js'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'

type Rec = { id: string; collectionId: string; collectionName: string; [k: string]: unknown }

const RED = { r: 255, g: 0, b: 0 }
const GREEN = { r: 0, g: 255, b: 0 }
const BLUE = { r: 0, g: 0, b: 255 }

/** A `w`×`h` image in three horizontal bands, red over green over blue, in `format`. */
async function bands(w: number, h: number, format: 'png' | 'jpeg' | 'gif' | 'webp'): Promise<Buffer> {
  const band = Math.floor(h / 3)
  const layer = (color: typeof RED, top: number, height: number) => ({
    input: { create: { width: w, height, channels: 3 as const, background: color } },
    top,
    left: 0,
  })
  return sharp({ create: { width: w, height: h, channels: 3, background: GREEN } })
    .composite([layer(RED, 0, band), layer(BLUE, h - band, band)])
    .toFormat(format)
    .toBuffer()
}

/** The colour at (x, y) of an encoded image. */
async function pixel(img: Buffer, x: number, y: number) {
  const { data, info } = await sharp(img).removeAlpha().raw().toBuffer({ resolveWithObject: true })
  const i = (y * info.width + x) * info.channels
  return { r: data[i]!, g: data[i + 1]!, b: data[i + 2]! }
}
const near = (a: typeof RED, b: typeof RED) =>
  Math.abs(a.r - b.r) < 40 && Math.abs(a.g - b.g) < 40 && Math.abs(a.b - b.b) < 40

const THUMBS = ['50x30', '50x30t', '50x30b', '50x30f', '0x40', '40x0', '40x40f', '5000x5000', '1x9999']

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`thumbnails on ${kind}`, () => {
    let store: TestStore
    let g: RunningGalley
    let su: PocketBase
    let picsId: string
    let storage: string

    beforeAll(async () => {
      store = await createStore(kind)
      g = await startGalley(store)
      su = await g.asSuperuser()
      const pics = await su.collections.create({
        name: 'pics',
        type: 'base',
        fields: [
          { name: 'image', type: 'file', maxSelect: 1, maxSize: 2_000_000, thumbs: THUMBS },
          { name: 'doc', type: 'file', maxSelect: 1, thumbs: ['50x30'] },
        ],
        listRule: '',
        viewRule: '',
        createRule: '',
        updateRule: '',
        deleteRule: '',
      })
      picsId = pics.id
      storage = join(store.dir, 'storage')
    })
    afterAll(async () => {
      await g?.close()
      await store?.cleanup()
    })

    const upload = (img: Buffer, name: string, extra: Record<string, unknown> = {}) =>
      g
        .sdk()
        .collection('pics')
        .create<Rec>({ image: new File([new Uint8Array(img)], name), ...extra })
    const thumb = async (r: Rec, size: string, field = 'image') => {
      const res = await fetch(g.sdk().files.getURL(r, r[field] as string, { thumb: size }))
      const body = Buffer.from(await res.arrayBuffer())
      return {
        res,
        body,
        meta: await sharp(body)
          .metadata()
          .catch(() => ({ width: 0, height: 0, format: 'none' })),
      }
    }

    it('gives each size format the size PocketBase gives (200x120 original)', async () => {
      const r = await upload(await bands(200, 120, 'png'), 'wide.png')
      const expected: [string, number, number][] = [
        ['100x100', 100, 100], // always allowed
        ['50x30', 50, 30],
        ['50x30t', 50, 30],
        ['50x30b', 50, 30],
        ['50x30f', 50, 30], // 200x120 fits 50x30 exactly
        ['40x40f', 40, 24], // fit inside, aspect kept
        ['0x40', 67, 40], // width from the aspect
        ['40x0', 40, 24], // height from the aspect
      ]
      for (const [size, w, h] of expected) {
        const { res, meta } = await thumb(r, size)
        expect(res.status, size).toBe(200)
        expect([meta.width, meta.height, meta.format], size).toEqual([w, h, 'png'])
        expect(res.headers.get('content-type')).toBe('image/png')
        expect(res.headers.get('content-disposition')).toBe(
          `inline; filename="${size}_${r.image}"; filename*=UTF-8''${size}_${r.image}`,
        )
        expect(res.headers.get('x-content-type-options')).toBe('nosniff')
        expect(res.headers.get('content-security-policy')).toContain('sandbox')
      }
      // stored beside the file, as PocketBase lays them out
      expect(walk(join(storage, picsId, r.id))).toEqual(
        [r.image as string, ...expected.map(([s]) => `thumbs_${r.image}/${s}_${r.image}`)].sort(),
      )
    })

    it('crops to the centre, the top or the bottom, and fits without cropping (a tall original)', async () => {
      // 60x300: red over green over blue, 100 px each
      const r = await upload(await bands(60, 300, 'png'), 'tall.png')
      expect(near(await pixel((await thumb(r, '50x30')).body, 25, 15), GREEN)).toBe(true)
      const top = (await thumb(r, '50x30t')).body
      expect(near(await pixel(top, 25, 2), RED) && near(await pixel(top, 25, 27), RED)).toBe(true)
      const bottom = (await thumb(r, '50x30b')).body
      expect(near(await pixel(bottom, 25, 2), BLUE) && near(await pixel(bottom, 25, 27), BLUE)).toBe(true)
      // fit: the whole image, 6x30, all three bands
      const fit = await thumb(r, '50x30f')
      expect([fit.meta.width, fit.meta.height]).toEqual([6, 30])
      expect(near(await pixel(fit.body, 3, 1), RED) && near(await pixel(fit.body, 3, 28), BLUE)).toBe(true)
      // a small original is not enlarged by a fit
      const small = await upload(await bands(20, 12, 'png'), 'small.png')
      const fitSmall = await thumb(small, '40x40f')
      expect([fitSmall.meta.width, fitSmall.meta.height]).toEqual([20, 12])
    })

    it('keeps JPEG and GIF, and makes WebP thumbs PNG', async () => {
      for (const [format, out] of [
        ['jpeg', 'jpeg'],
        ['gif', 'gif'],
        ['webp', 'png'],
      ] as const) {
        const r = await upload(await bands(90, 90, format), `img.${format}`)
        const { res, meta } = await thumb(r, '50x30')
        expect(res.status).toBe(200)
        expect([meta.width, meta.height, meta.format], format).toEqual([50, 30, out])
        expect(res.headers.get('content-type')).toBe(`image/${out}`)
      }
    })

    it('serves the original for a size not listed, a malformed size and a non-image', async () => {
      const img = await bands(200, 120, 'png')
      const r = await upload(img, 'orig.png', { doc: new File(['just text'], 'notes.txt') })
      for (const size of ['60x60', '50x31', '0x0', 'abc', '50x30x', '-1x5', '50X30']) {
        const { res, body } = await thumb(r, size)
        expect(res.status, size).toBe(200)
        expect(body.equals(img), size).toBe(true)
      }
      // listed on the field, but a text file has no thumbs
      const doc = await thumb(r, '50x30', 'doc')
      expect(doc.res.status).toBe(200)
      expect(doc.body.toString()).toBe('just text')
      expect(doc.res.headers.get('content-type')).toBe('text/plain; charset=utf-8')
      // no thumb was stored for any of them
      expect(walk(join(storage, picsId, r.id))).toEqual([r.doc, r.image].sort())
    })

    it('serves the original for sizes past the cap, a corrupt image and a decompression bomb', async () => {
      // listed, but 5000x5000 is past the dimension cap, and 1x9999 past it too
      const img = await bands(200, 120, 'png')
      const r = await upload(img, 'capped.png')
      for (const size of ['5000x5000', '1x9999']) {
        const { res, body } = await thumb(r, size)
        expect([res.status, body.equals(img)], size).toEqual([200, true])
      }
      // a PNG signature followed by garbage
      const corrupt = Buffer.concat([img.subarray(0, 40), Buffer.alloc(500, 7)])
      const bad = await upload(corrupt, 'corrupt.png')
      const res = await fetch(g.sdk().files.getURL(bad, bad.image as string, { thumb: '50x30' }))
      expect(res.status).toBe(200)
      expect(Buffer.from(await res.arrayBuffer()).equals(corrupt)).toBe(true)
      // 10,000 x 10,000 pixels in a few hundred kilobytes
      const bomb = await sharp({ create: { width: 10_000, height: 10_000, channels: 3, background: '#fff' } })
        .png({ compressionLevel: 9 })
        .toBuffer()
      expect(bomb.length).toBeLessThan(2_000_000)
      const b = await upload(bomb, 'bomb.png')
      const rssBefore = process.memoryUsage().rss
      const bombRes = await fetch(g.sdk().files.getURL(b, b.image as string, { thumb: '100x100' }))
      const body = Buffer.from(await bombRes.arrayBuffer())
      expect(bombRes.status).toBe(200)
      expect(body.equals(bomb)).toBe(true)
      // nothing decoded: no 100 MB pixel buffer in this process (the server runs in it)
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(80 * 1024 * 1024)
      for (const rec of [r, bad, b]) expect(walk(join(storage, picsId, rec.id))).toEqual([rec.image])
    })

    it('stores a thumb once and serves it from storage afterwards', async () => {
      const r = await upload(await bands(200, 120, 'png'), 'once.png')
      const path = join(storage, picsId, r.id, `thumbs_${r.image}`, `50x30_${r.image}`)
      const results = await Promise.all(Array.from({ length: 8 }, () => thumb(r, '50x30')))
      for (const { res, meta } of results)
        expect([res.status, meta.width, meta.height]).toEqual([200, 50, 30])
      const stored = readFileSync(path)
      for (const { body } of results) expect(body.equals(stored)).toBe(true)
      const mtime = statSync(path).mtimeMs
      const again = await thumb(r, '50x30')
      expect(again.body.equals(stored)).toBe(true)
      expect(statSync(path).mtimeMs).toBe(mtime)
      // ETag and conditional GET work on the thumb as on any file
      const etag = again.res.headers.get('etag')!
      const cached = await fetch(g.sdk().files.getURL(r, r.image as string, { thumb: '50x30' }), {
        headers: { 'if-none-match': etag },
      })
      expect(cached.status).toBe(304)
      // no temporary file of the store left beside it
      expect(readdirSync(join(storage, picsId, r.id, `thumbs_${r.image}`))).toEqual([`50x30_${r.image}`])
    })

    it('removes thumbs with their file: replaced, deleted with the record, or swept', async () => {
      const pb = g.sdk()
      const r = await upload(await bands(200, 120, 'png'), 'gone.png')
      await thumb(r, '50x30')
      await thumb(r, '100x100')
      const folder = join(storage, picsId, r.id)
      expect(walk(folder)).toHaveLength(3)
      const replaced = await pb
        .collection('pics')
        .update<Rec>(r.id, { image: new File([new Uint8Array(await bands(90, 90, 'png'))], 'new.png') })
      expect(walk(folder)).toEqual([replaced.image])
      await thumb(replaced, '50x30')
      await pb.collection('pics').delete(r.id)
      expect(existsSync(folder)).toBe(false)

      // the sweep keeps thumbs of referenced files and removes those of files no record has
      const kept = await upload(await bands(200, 120, 'png'), 'kept.png')
      await thumb(kept, '50x30')
      const fileStore = g.galley.records.fileStore!
      const orphan = `${picsId}/${kept.id}/thumbs_orphan_abcdefghij.png/50x30_orphan_abcdefghij.png`
      await fileStore.put(orphan, Readable.from([Buffer.from('x')]))
      // a thumb write cut short by a crash leaves the store's temporary file: swept as well
      const crashed = join(storage, picsId, kept.id, `thumbs_${kept.image}`, '.tmp_crashedwrite')
      writeFileSync(crashed, 'half a thumb')
      utimesSync(crashed, new Date(Date.now() - 1000), new Date(Date.now() - 1000))
      const swept = await sweepOrphanFiles(g.galley.database, g.galley.collections, fileStore, undefined, 0)
      expect(swept.removed).toEqual([orphan])
      expect(swept.temps).toBe(1)
      expect(existsSync(crashed)).toBe(false)
      expect(walk(join(storage, picsId, kept.id))).toEqual(
        [kept.image as string, `thumbs_${kept.image}/50x30_${kept.image}`].sort(),
      )
    })
  })
}

// The thumbs go through the FileStore: on S3 (s3rver) as on disk, once each, removed with their file.
describe('thumbnails on S3 storage', () => {
  let s3: LocalS3
  let store: TestStore
  let g: RunningGalley
  const bucket = 'thumbs-bucket'

  beforeAll(async () => {
    s3 = await startS3()
    await s3.createBucket(bucket)
    store = await createStore('sqlite')
    g = await startGalley(store)
    const su = await g.asSuperuser()
    await su.settings.update({ s3: s3.config(bucket) })
    await su.collections.create({
      name: 'pics',
      type: 'base',
      fields: [{ name: 'image', type: 'file', maxSelect: 1, thumbs: ['50x30b'] }],
      listRule: '',
      viewRule: '',
      createRule: '',
      updateRule: '',
      deleteRule: '',
    })
  })
  afterAll(async () => {
    await g?.close()
    await store?.cleanup()
    await s3?.close()
  })

  it('stores the thumb as an object beside the file, serves it, and removes it with the file', async () => {
    const pb = g.sdk()
    const r = await pb
      .collection('pics')
      .create<Rec>({ image: new File([new Uint8Array(await bands(200, 120, 'png'))], 'on_s3.png') })
    const prefix = `${r.collectionId}/${r.id}/`
    for (const size of ['50x30b', '100x100', '50x30b']) {
      const res = await fetch(pb.files.getURL(r, r.image as string, { thumb: size }))
      const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata()
      expect([res.status, meta.width, meta.height], size).toEqual([
        200,
        ...size.split(/x|b/).map(Number).slice(0, 2),
      ])
    }
    expect(await s3.keys(bucket, prefix)).toEqual(
      [r.image as string, ...['100x100', '50x30b'].map((s) => `thumbs_${r.image}/${s}_${r.image}`)]
        .map((k) => prefix + k)
        .sort(),
    )
    // nothing on the local disk
    expect(walk(join(store.dir, 'storage'))).toEqual([])
    const replaced = await pb
      .collection('pics')
      .update<Rec>(r.id, { image: new File([new Uint8Array(await bands(90, 90, 'png'))], 'next.png') })
    expect(await s3.keys(bucket, prefix)).toEqual([prefix + (replaced.image as string)])
  })
})

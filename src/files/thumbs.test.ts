import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import sharp from 'sharp'
import { afterAll, describe, expect, it } from 'vitest'
import { LocalFileStore } from './local-store.js'
import { parseThumbSize, thumbDimensions, ThumbGenerator } from './thumbs.js'

const dir = mkdtempSync(join(tmpdir(), 'galley-thumbs-'))
const store = new LocalFileStore(join(dir, 'storage'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const image = (w: number, h: number) =>
  sharp({ create: { width: w, height: h, channels: 3, background: '#08f' } })
    .png()
    .toBuffer()

async function stored(key: string, w: number, h: number): Promise<Buffer> {
  const img = await image(w, h)
  await store.put(key, Readable.from([img]))
  return img.subarray(0, 64)
}

describe('thumb sizes', () => {
  it('parses PocketBase sizes and refuses anything else', () => {
    expect(parseThumbSize('100x50t')).toEqual({ width: 100, height: 50, mode: 't' })
    expect(parseThumbSize('0x50')).toEqual({ width: 0, height: 50, mode: 'center' })
    for (const bad of ['0x0', '10x', 'x10', '10x10z', '10X10', ' 10x10', '1234567890x1'])
      expect(parseThumbSize(bad), bad).toBeUndefined()
  })

  it('computes the output of each format', () => {
    const size = (s: string) => parseThumbSize(s)!
    expect(thumbDimensions(size('50x30'), 200, 120)).toEqual({ width: 50, height: 30 })
    expect(thumbDimensions(size('0x40'), 200, 120)).toEqual({ width: 67, height: 40 })
    expect(thumbDimensions(size('40x0'), 200, 120)).toEqual({ width: 40, height: 24 })
    expect(thumbDimensions(size('40x40f'), 200, 120)).toEqual({ width: 40, height: 24 })
    expect(thumbDimensions(size('400x400f'), 200, 120)).toEqual({ width: 200, height: 120 })
  })
})

describe('ThumbGenerator', () => {
  it('generates a thumb once for concurrent first requests, then serves the stored one', async () => {
    const thumbs = new ThumbGenerator()
    const head = await stored('c/r1/a.png', 300, 200)
    const keys = await Promise.all(
      Array.from({ length: 10 }, () => thumbs.thumb(store, 'c/r1/a.png', head, '50x50')),
    )
    expect(new Set(keys)).toEqual(new Set(['c/r1/thumbs_a.png/50x50_a.png']))
    expect(thumbs.generated).toBe(1)
    expect(await thumbs.thumb(store, 'c/r1/a.png', head, '50x50')).toBe('c/r1/thumbs_a.png/50x50_a.png')
    expect(thumbs.generated).toBe(1)
    // another instance (a second server process) finds it stored
    const other = new ThumbGenerator()
    expect(await other.thumb(store, 'c/r1/a.png', head, '50x50')).toBe('c/r1/thumbs_a.png/50x50_a.png')
    expect(other.generated).toBe(0)
  })

  it('runs at most `concurrency` generations, and serves the original when the queue is full', async () => {
    const thumbs = new ThumbGenerator({ concurrency: 1, maxQueue: 1 })
    const head = await stored('c/r2/b.png', 400, 400)
    const sizes = ['10x10', '20x20', '30x30', '40x40']
    const keys = await Promise.all(sizes.map((s) => thumbs.thumb(store, 'c/r2/b.png', head, s)))
    // one runs, one waits, the other two are refused at once
    expect(keys.filter((k) => k !== undefined)).toHaveLength(2)
    expect(thumbs.generated).toBe(2)
    expect((await store.list('c/r2/')).length).toBe(3)
  })

  it('serves the original to a request that waited past maxWaitMs, and stores the thumb all the same', async () => {
    const thumbs = new ThumbGenerator({ maxWaitMs: 0 })
    const head = await stored('c/r4/w.png', 300, 300)
    expect(await thumbs.thumb(store, 'c/r4/w.png', head, '20x20')).toBeUndefined()
    const key = 'c/r4/thumbs_w.png/20x20_w.png'
    for (let i = 0; i < 200 && !(await store.stat(key)); i++) await new Promise((r) => setTimeout(r, 25))
    expect(await store.stat(key)).toBeDefined()
    expect(await thumbs.thumb(store, 'c/r4/w.png', head, '20x20')).toBe(key)
    expect(thumbs.generated).toBe(1)
  })

  it('refuses originals past the pixel, byte and output limits without storing anything', async () => {
    const head = await stored('c/r3/big.png', 2000, 2000)
    expect(
      await new ThumbGenerator({ maxInputPixels: 3_999_999 }).thumb(store, 'c/r3/big.png', head, '10x10'),
    ).toBeUndefined()
    expect(
      await new ThumbGenerator({ maxInputBytes: 10 }).thumb(store, 'c/r3/big.png', head, '10x10'),
    ).toBeUndefined()
    expect(
      await new ThumbGenerator({ maxDimension: 99 }).thumb(store, 'c/r3/big.png', head, '100x10'),
    ).toBeUndefined()
    expect(
      await new ThumbGenerator({ maxOutputPixels: 99 }).thumb(store, 'c/r3/big.png', head, '10x10'),
    ).toBeUndefined()
    expect(await store.list('c/r3/')).toEqual(['c/r3/big.png'])
    // at the limits themselves it is made
    const atLimit = new ThumbGenerator({ maxInputPixels: 4_000_000, maxDimension: 100, maxOutputPixels: 100 })
    expect(await atLimit.thumb(store, 'c/r3/big.png', head, '10x10')).toBe(
      'c/r3/thumbs_big.png/10x10_big.png',
    )
  })
})

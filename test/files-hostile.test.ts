/**
 * A hostile corpus against record files (issue 6; pocketbase-api.md §10; RELIABILITY) on SQLite
 * and PostgreSQL: traversal, NUL, very long, unicode/RTL and CRLF filenames; polyglots whose
 * declared type and extension lie (HTML/JS named .png, a GIF+ZIP "GIFAR", SVG declared as PNG);
 * SVG and XML with script; zero-byte, oversize (limit and limit+1) and a 10,000 x 10,000 PNG
 * requested as a thumb. Every answer is a 200 or a 4xx in PocketBase's error shape, never a 5xx;
 * nothing is stored outside `<dir>/storage`; every download is checked header by header: nosniff,
 * the sandbox CSP, a Content-Disposition no name can split, and active content only as attachment.
 */
import { existsSync, readdirSync } from 'node:fs'
import { request } from 'node:http'
import { dirname, join } from 'node:path'
import type PocketBase from 'pocketbase'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FILE_CSP } from '../src/http/routes/files.js'
import { STORED_NAME } from '../src/records/index.js'
import { BOUNDARY, multipart, walk, type Part } from './helpers/files.js'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'

type Json = Record<string, unknown>
const MAX = 2_000_000

/** Types a browser may run or render as a document: never inline. */
const ACTIVE = /^(image\/svg\+xml|text\/html|text\/xml|application\/xml|text\/javascript|text\/css)/
const PNG_SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

/** A GET over a raw socket: status, every header line as sent, and the body. */
function rawGet(url: string): Promise<{ status: number; headers: [string, string][]; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const h: [string, string][] = []
        for (let i = 0; i < res.rawHeaders.length; i += 2)
          h.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!])
        resolve({ status: res.statusCode ?? 0, headers: h, body: Buffer.concat(chunks) })
      })
    })
    req.on('error', reject)
    req.end()
  })
}

/** Every header a served file must carry, and what its type allows. */
function checkDownload(res: { status: number; headers: [string, string][] }, what: string) {
  const names = res.headers.map(([n]) => n.toLowerCase())
  const get = (n: string) => res.headers.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v)
  expect(res.status, what).toBeLessThan(500)
  // nothing any name could have injected
  expect(
    names.filter((n) => !/^[a-z-]+$/.test(n)),
    what,
  ).toEqual([])
  for (const n of ['set-cookie', 'x-evil', 'location', 'refresh']) expect(names, what).not.toContain(n)
  if (res.status !== 200 && res.status !== 206) return
  expect(get('x-content-type-options'), what).toEqual(['nosniff'])
  expect(get('content-security-policy'), what).toEqual([FILE_CSP])
  const disposition = get('content-disposition')
  expect(disposition, what).toHaveLength(1)
  expect(disposition[0], what).toMatch(
    /^(inline|attachment); filename="[\x20-\x21\x23-\x5b\x5d-\x7e]*"; filename\*=UTF-8''[A-Za-z0-9%._~!-]*$/,
  )
  const type = get('content-type')[0] ?? ''
  if (ACTIVE.test(type) || type.startsWith('application/octet-stream'))
    expect(disposition[0], `${what}: ${type}`).toMatch(/^attachment;/)
}

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`hostile files on ${kind}`, () => {
    let store: TestStore
    let g: RunningGalley
    let su: PocketBase
    let cid: string
    let storage: string

    beforeAll(async () => {
      store = await createStore(kind)
      g = await startGalley(store)
      su = await g.asSuperuser()
      cid = (
        await su.collections.create({
          name: 'hostile',
          type: 'base',
          fields: [
            { name: 'any', type: 'file', maxSelect: 1, maxSize: MAX, thumbs: ['50x50'] },
            { name: 'pngs', type: 'file', maxSelect: 1, maxSize: MAX, mimeTypes: ['image/png'] },
          ],
          listRule: '',
          viewRule: '',
          createRule: '',
          updateRule: '',
          deleteRule: '',
        })
      ).id
      storage = join(store.dir, 'storage')
    })
    afterAll(async () => {
      await g?.close()
      await store?.cleanup()
    })

    /** Creates a record from a hand-written multipart body; its status and JSON. */
    const post = async (parts: Part[]) => {
      const res = await fetch(`${g.url}/api/collections/hostile/records`, {
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
        body: multipart(parts),
      })
      const body = (await res.json()) as Json
      expect(res.status, JSON.stringify(body)).toBeLessThan(500)
      if (res.status >= 400) expect(Object.keys(body).sort()).toEqual(['data', 'message', 'status'])
      return { status: res.status, body }
    }
    const upload = (value: string | Buffer, filename: string, type?: string, field = 'any') =>
      post([{ name: field, value, filename, ...(type ? { type } : {}) }])
    const fileUrl = (id: string, name: string, query = '') =>
      `${g.url}/api/files/hostile/${encodeURIComponent(id)}/${encodeURIComponent(name)}${query}`
    /** Downloads a stored file (checked), optionally as a thumb. */
    const download = async (id: string, name: string, query = '') => {
      const res = await rawGet(fileUrl(id, name, query))
      checkDownload(res, `${name}${query}`)
      return { ...res, type: res.headers.find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '' }
    }

    it('stores traversal, NUL, long, unicode/RTL and CRLF names only as normalized names in the record folder', async () => {
      const names = [
        '../../x.txt',
        '..\\..\\x.txt',
        '/etc/passwd',
        'C:\\Windows\\win.ini',
        'a\u0000b.txt',
        `${'a'.repeat(10_000)}.txt`,
        `${'\u00e9'.repeat(400)}.txt`,
        'report\u202Etxt.exe',
        '\u0645\u0644\u0641.txt',
        '\u202E\u2066../../evil\u2069.txt',
        '..',
        '.',
        '%2e%2e%2f%2e%2e%2fx.txt',
        'name\r\nX-Evil: 1.txt',
        'q"uote\\d.txt',
        'trailing.',
        `x.${'e'.repeat(300)}`,
      ]
      const refused: string[] = []
      for (const filename of names) {
        const r = await upload(`content of ${JSON.stringify(filename).slice(0, 20)}`, filename)
        const what = JSON.stringify(filename).slice(0, 60)
        if (r.status !== 200) {
          // a name that is no file name leaves the part a plain value: a 400, never a crash
          expect(r.status, what).toBe(400)
          expect((r.body.data as Json).any, what).toMatchObject({ code: 'validation_invalid_file' })
          refused.push(filename)
          continue
        }
        const name = r.body.any as string
        expect(name, what).toMatch(STORED_NAME)
        expect(name, what).not.toMatch(/\.\.|[/\\\0\r\n]/)
        expect(existsSync(join(storage, cid, String(r.body.id), name)), what).toBe(true)
        const res = await download(String(r.body.id), name)
        expect(res.status, what).toBe(200)
      }
      // `.` and `..` are reduced to no name by the multipart reader (a path's last segment)
      expect(refused).toEqual(['..', '.'])
      for (const p of walk(storage)) {
        const [c, rid, name, ...rest] = p.split('/')
        expect([c, rest]).toEqual([cid, []])
        expect(rid).toMatch(/^\w+$/)
        expect(name).toMatch(STORED_NAME)
      }
      // nothing beside or above the data directory
      expect(
        readdirSync(store.dir).filter((n) => !/^(storage|upload_tmp|data\.db.*|auxiliary\.db.*)$/.test(n)),
      ).toEqual([])
      for (const n of ['x.txt', 'passwd', 'win.ini', 'evil.txt'])
        expect(existsSync(join(dirname(store.dir), n)), n).toBe(false)
    })

    it('refuses traversal through the download URL: 404, never a file outside the record', async () => {
      const r = await upload('inside', 'inside.txt')
      const id = String(r.body.id)
      const paths = [
        `/api/files/hostile/${id}/..%2f..%2f..%2fdata.db`,
        `/api/files/hostile/${id}/..%5c..%5cdata.db`,
        `/api/files/hostile/..%2f..%2f/${r.body.any as string}`,
        `/api/files/..%2fstorage/${id}/${r.body.any as string}`,
        `/api/files/hostile/${id}/${r.body.any as string}%00.png`,
        `/api/files/hostile/${id}/%2e%2e`,
        `/api/files/hostile/${id}/thumbs_${r.body.any as string}`,
        `/api/files/${cid}/${id}/thumbs_x/50x50_x.png`,
      ]
      for (const p of paths) {
        const res = await rawGet(`${g.url}${p}`)
        expect(res.status, p).toBe(404)
        expect(JSON.parse(res.body.toString()), p).toMatchObject({ status: 404 })
      }
      // a thumb size that is a path is no size: the original
      const t = await download(id, r.body.any as string, '?thumb=../../../data.db')
      expect([t.status, t.body.toString()]).toEqual([200, 'inside'])
    })

    it('serves polyglots by their content, active ones as attachments, and refuses them where a type is required', async () => {
      const html = '<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>'
      const gifar = Buffer.concat([
        Buffer.from(
          'GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;',
          'latin1',
        ),
        Buffer.from('PK\x03\x04\x14\x00\x00\x00\x08\x00META-INF/MANIFEST.MF', 'latin1'),
      ])
      const svg = '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
      const cases: [string, string | Buffer, string, string, RegExp][] = [
        // what, bytes, filename, declared type, expected served type
        ['HTML named .png', html, 'photo.png', 'image/png', /^text\/html/],
        ['JS named .png', 'alert(document.domain)//', 'pic.png', 'image/png', /^text\/plain/],
        ['JS named .js', 'alert(1)', 'app.js', 'image/png', /^text\/javascript/],
        ['GIFAR named .jar', gifar, 'applet.jar', 'image/gif', /^image\/gif$/],
        ['SVG with script', svg, 'logo.svg', 'image/svg+xml', /^image\/svg\+xml$/],
        ['SVG declared PNG', svg, 'logo.png', 'image/png', /^image\/svg\+xml$/],
        [
          'XHTML',
          `<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>`,
          'x.xhtml',
          'text/plain',
          /^text\/xml/,
        ],
        [
          'PNG then HTML',
          Buffer.concat([PNG_SIG, Buffer.from(html)]),
          'mixed.html',
          'text/html',
          /^image\/png$/,
        ],
        [
          'binary named .txt',
          Buffer.from([0, 1, 2, 3, 0xfe, 0xff]),
          'bin.txt',
          'text/plain',
          /^application\/octet-stream$/,
        ],
      ]
      for (const [what, bytes, filename, type, expected] of cases) {
        const r = await upload(bytes, filename, type)
        expect(r.status, what).toBe(200)
        const res = await download(String(r.body.id), r.body.any as string)
        expect(res.type, what).toMatch(expected)
        expect(res.body.equals(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes)), what).toBe(true)
        const thumb = await download(String(r.body.id), r.body.any as string, '?thumb=50x50')
        expect(thumb.status, what).toBe(200)
        if (what === 'GIFAR named .jar') {
          // a real GIF: its thumb is a new GIF of the size, without the archive appended to it
          const meta = await sharp(thumb.body).metadata()
          expect([meta.format, meta.width, meta.height]).toEqual(['gif', 50, 50])
          expect(thumb.body.includes('PK\x03\x04')).toBe(false)
        } else expect(thumb.body.equals(res.body), what).toBe(true) // no image: the same checked original
        // download=1 is always an attachment
        const forced = await download(String(r.body.id), r.body.any as string, '?download=1')
        expect(forced.headers.find(([k]) => k.toLowerCase() === 'content-disposition')?.[1], what).toMatch(
          /^attachment;/,
        )
      }
      // a field that takes only PNGs takes none of the liars
      for (const [what, bytes, filename, type] of cases) {
        if (what === 'PNG then HTML') continue
        const r = await upload(bytes, filename, type, 'pngs')
        expect(r.status, what).toBe(400)
        expect((r.body.data as Json).pngs, what).toMatchObject({ code: 'validation_invalid_mime_type' })
      }
    })

    it('keeps a zero-byte file, and refuses one byte over maxSize with nothing stored', async () => {
      const empty = await upload(Buffer.alloc(0), 'empty.png', 'image/png')
      expect(empty.status).toBe(200)
      const res = await download(String(empty.body.id), empty.body.any as string)
      expect([res.status, res.body.length]).toEqual([200, 0])
      const thumb = await download(String(empty.body.id), empty.body.any as string, '?thumb=50x50')
      expect([thumb.status, thumb.body.length]).toEqual([200, 0])

      const before = walk(storage)
      const over = await upload(Buffer.alloc(MAX + 1, 1), 'over.bin')
      expect(over.status).toBe(400)
      expect((over.body.data as Json).any).toMatchObject({ code: 'validation_file_size_limit' })
      expect(walk(storage)).toEqual(before)
      expect(readdirSync(join(store.dir, 'upload_tmp'))).toEqual([])
      const at = await upload(Buffer.alloc(MAX, 1), 'at.bin')
      expect(at.status).toBe(200)
    })

    it('serves a 10,000 x 10,000 PNG bomb as it is when asked for a thumb, storing no thumb', async () => {
      const bomb = await sharp({ create: { width: 10_000, height: 10_000, channels: 3, background: '#000' } })
        .png({ compressionLevel: 9 })
        .toBuffer()
      expect(bomb.length).toBeLessThan(MAX)
      const r = await upload(bomb, 'bomb.png', 'image/png', 'pngs')
      expect(r.status).toBe(200)
      const id = String(r.body.id)
      const name = r.body.pngs as string
      for (const size of ['100x100', '50x50', '100x100f', '0x100']) {
        const res = await download(id, name, `?thumb=${size}`)
        expect(res.status, size).toBe(200)
        expect(res.type).toBe('image/png')
        expect(res.body.equals(bomb), size).toBe(true)
      }
      expect(walk(join(storage, cid, id))).toEqual([name])
    })
  })
}

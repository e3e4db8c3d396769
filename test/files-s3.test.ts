/**
 * Record files on S3-compatible storage (issue 6; pocketbase-api.md §10, §11, §13.2) against a real
 * local S3 server (s3rver) started here, on SQLite and PostgreSQL: with the `pocketbase` SDK, files
 * created, added and removed land in the bucket under the local layout
 * (`<collectionId>/<recordId>/<filename>`) and nothing on disk; downloads stream from S3 with Range
 * and ETag; protected files; record deletes remove their objects; the orphan sweep works on the
 * bucket; `settings.s3` switches the store live (a download in flight finishes on its store); a
 * dead or stalled endpoint gives a prompt 503 in the usual shape; `POST /api/settings/test/s3`.
 */
import { createHash, randomBytes } from 'node:crypto'
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs'
import { request } from 'node:http'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join, relative, sep } from 'node:path'
import type PocketBase from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { S3_LIMITS, S3FileStore, sweepOrphanFiles, type S3Limits } from '../src/files/index.js'
import { isGalleyError } from '../src/lib/index.js'
import type { S3Config } from '../src/settings/index.js'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import { startS3, type LocalS3 } from './helpers/s3.js'
import { sdkFailure as failure } from './helpers/sdk-failure.js'

type Json = Record<string, unknown>

const MIB = 1024 * 1024
/** Every rule open to anyone. */
const OPEN = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' }
/** How long a dead endpoint may take to give its error (connect refused, three tries). */
const PROMPT_MS = 5000
/** How long a settings change may take to reach another instance. */
const PROPAGATION_MS = 2000

/** Every file under `root`, as paths relative to it with `/`. */
function walk(root: string): string[] {
  if (!existsSync(root)) return []
  const out: string[] = []
  for (const e of readdirSync(root, { withFileTypes: true, recursive: true }))
    if (e.isFile()) out.push(relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
  return out.sort()
}

/** A loopback port with no listener (it had one a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  await new Promise<void>((r) => server.close(() => r()))
  return port
}

/** A TCP server that accepts connections and never answers (a stalled endpoint). */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((s) => {
    sockets.add(s)
    s.on('error', () => undefined)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy()
        server.close(() => r())
      }),
  }
}

const timed = async <T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> => {
  const start = performance.now()
  const value = await run()
  return { value, ms: performance.now() - start }
}

let s3: LocalS3
beforeAll(async () => {
  s3 = await startS3()
})
afterAll(async () => {
  await s3?.close()
})

describe('a stalled S3 endpoint', () => {
  let silent: Awaited<ReturnType<typeof silentServer>>
  beforeAll(async () => {
    silent = await silentServer()
  })
  afterAll(() => silent?.close())

  const stalledStore = (limits: Partial<S3Limits>) =>
    new S3FileStore(
      { ...s3.config('galley-stalled'), endpoint: `http://127.0.0.1:${silent.port}` },
      { tempDir: tmpdir(), limits: { ...S3_LIMITS, connectMs: 500, ...limits } },
    )
  const expect503 = async (store: S3FileStore, run: () => Promise<unknown>) => {
    try {
      const { value: err, ms } = await timed(() => run().catch((e: unknown) => e))
      expect(isGalleyError(err) && err.status).toBe(503)
      return ms
    } finally {
      store.retire()
    }
  }

  it('fails each try at its response limit, as a 503 GalleyError, instead of hanging', async () => {
    const store = stalledStore({ responseMs: 400, attempts: 2, deadlineMs: 5000 })
    // two tries of 400 ms and a backoff: well under two seconds
    expect(await expect503(store, () => store.stat('c/r/a.txt'))).toBeLessThan(2000)
    const again = stalledStore({ responseMs: 400, attempts: 2, deadlineMs: 5000 })
    expect(await expect503(again, () => again.list('c/'))).toBeLessThan(2000)
  })

  it('ends a call at its deadline, whatever its tries would take', async () => {
    // ten tries of 400 ms would take over four seconds; the deadline ends it at 600 ms
    const store = stalledStore({ responseMs: 400, attempts: 10, deadlineMs: 600 })
    expect(await expect503(store, () => store.open('c/r/a.txt'))).toBeLessThan(1500)
  })
})

describe('the S3 store with a large file', () => {
  const bucket = `galley-large-${randomBytes(3).toString('hex')}`
  let dir: string
  beforeAll(async () => {
    await s3.createBucket(bucket)
    dir = mkdtempSync(join(tmpdir(), 'galley-s3-large-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('puts and reads back 128 MiB streamed, with peak RSS growth under half of it', async () => {
    const total = 128 * MIB
    const path = join(dir, 'large.bin')
    const chunk = randomBytes(MIB)
    const sentHash = createHash('sha256')
    const fd = openSync(path, 'w')
    for (let i = 0; i < total / MIB; i++) {
      writeSync(fd, chunk)
      sentHash.update(chunk)
    }
    closeSync(fd)
    const store = new S3FileStore(s3.config(bucket), { tempDir: dir })
    const rssBefore = process.memoryUsage().rss
    let peak = rssBefore
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5)
    try {
      await store.putFile('c/r/large.bin', path)
      expect((await store.stat('c/r/large.bin'))?.size).toBe(total)
      const gotHash = createHash('sha256')
      let got = 0
      for await (const part of await store.open('c/r/large.bin')) {
        gotHash.update(part as Buffer)
        got += (part as Buffer).length
      }
      expect(got).toBe(total)
      expect(gotHash.digest('hex')).toBe(sentHash.digest('hex'))
      await store.deletePrefix('c/')
    } finally {
      clearInterval(sampler)
      store.retire()
    }
    // a file held in memory either way adds 128 MiB (measured: about 165 MiB); streamed, 25 to 40
    expect(peak - rssBefore).toBeLessThan(64 * MIB)
  })
})

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`record files on S3 (s3rver) on ${kind}`, () => {
    let store: TestStore
    let g: RunningGalley
    let su: PocketBase
    let docsId: string
    let notesId: string
    const bucket = `galley-${kind}-${randomBytes(3).toString('hex')}`
    const backups = `${bucket}-bak`

    beforeAll(async () => {
      await s3.createBucket(bucket)
      await s3.createBucket(backups)
      store = await createStore(kind)
      g = await startGalley(store)
      su = await g.asSuperuser()
      const docs = await su.collections.create({
        name: 'docs',
        type: 'base',
        fields: [
          { name: 'owner', type: 'text' },
          { name: 'files', type: 'file', maxSelect: 5, maxSize: 10 * MIB },
          { name: 'secret', type: 'file', maxSelect: 1, protected: true },
          { name: 'huge', type: 'file', maxSelect: 1, maxSize: 128 * MIB },
        ],
        ...OPEN,
        viewRule: "owner = 'public' || (owner != '' && owner = @request.auth.id)",
      })
      docsId = docs.id
      const notes = await su.collections.create({
        name: 'notes',
        type: 'base',
        fields: [
          { name: 'doc', type: 'relation', collectionId: docsId, cascadeDelete: true, maxSelect: 1 },
          { name: 'attachment', type: 'file', maxSelect: 1 },
        ],
        ...OPEN,
      })
      notesId = notes.id
      await su.settings.update({ s3: s3.config(bucket) })
    })
    afterAll(async () => {
      await g?.close()
      await store?.cleanup()
    })

    const disk = () => walk(join(store.dir, 'storage'))
    const objects = (prefix?: string) => s3.keys(bucket, prefix)
    const fileUrl = (c: string, id: string, name: string) => `${g.url}/api/files/${c}/${id}/${name}`
    const useS3 = (config: Partial<S3Config>) => su.settings.update({ s3: config })

    it('creates with files from FormData into the bucket, under the local layout, and serves them', async () => {
      const form = new FormData()
      form.append('owner', 'public')
      form.append('files', new Blob(['hello s3']), 'Hello.txt')
      form.append('files', new Blob(['second']), 'second.txt')
      const r = await g.sdk().collection('docs').create(form)
      const [a, b] = r.files as string[]
      expect(a).toMatch(/^hello_[a-z0-9]{10}\.txt$/)
      expect(await objects(`${docsId}/${r.id}/`)).toEqual([a, b].map((n) => `${docsId}/${r.id}/${n}`).sort())
      expect((await s3.read(bucket, `${docsId}/${r.id}/${a}`)).toString()).toBe('hello s3')
      // nothing went to the local disk, and no temporary upload is left
      expect(disk()).toEqual([])
      expect(walk(join(store.dir, 'upload_tmp'))).toEqual([])

      const res = await fetch(g.sdk().files.getURL(r, a!))
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('hello s3')
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8')
      expect(res.headers.get('content-length')).toBe('8')
      expect(res.headers.get('content-security-policy')).toContain('sandbox')

      // a zero-byte file too
      const empty = await g
        .sdk()
        .collection('docs')
        .create({ owner: 'public', files: [new File([], 'empty.txt')] })
      const emptyName = (empty.files as string[])[0]!
      expect((await s3.read(bucket, `${docsId}/${empty.id}/${emptyName}`)).length).toBe(0)
      const got = await fetch(fileUrl('docs', empty.id, emptyName))
      expect([got.status, got.headers.get('content-length'), await got.text()]).toEqual([200, '0', ''])
    })

    it('adds and removes files with files+ and files-, the bucket following', async () => {
      const pb = g.sdk()
      const r = await pb.collection('docs').create({ owner: 'public', files: [new File(['one'], 'one.txt')] })
      const [one] = r.files as string[]
      const added = await pb.collection('docs').update(r.id, { 'files+': new File(['two'], 'two.txt') })
      const two = (added.files as string[])[1]!
      expect(added.files).toEqual([one, expect.stringMatching(/^two_\w{10}\.txt$/)])
      expect(await objects(`${docsId}/${r.id}/`)).toEqual(
        [one, two].map((n) => `${docsId}/${r.id}/${n}`).sort(),
      )

      const removed = await pb.collection('docs').update(r.id, { 'files-': [one] })
      expect(removed.files).toEqual([two])
      expect(await objects(`${docsId}/${r.id}/`)).toEqual([`${docsId}/${r.id}/${two}`])
      const gone = await fetch(fileUrl('docs', r.id, one!))
      expect([gone.status, ((await gone.json()) as Json).status]).toEqual([404, 404])
      expect(await (await fetch(fileUrl('docs', r.id, two))).text()).toBe('two')
    })

    it('streams a large file both ways, with byte ranges, ETag and 304', async () => {
      const big = randomBytes(6 * MIB)
      const r = await g
        .sdk()
        .collection('docs')
        .create({ owner: 'public', files: [new File([big], 'big.bin')] })
      const name = (r.files as string[])[0]!
      expect((await s3.read(bucket, `${docsId}/${r.id}/${name}`)).equals(big)).toBe(true)

      const full = await fetch(fileUrl('docs', r.id, name))
      expect(full.headers.get('content-length')).toBe(String(big.length))
      expect(Buffer.from(await full.arrayBuffer()).equals(big)).toBe(true)
      const etag = full.headers.get('etag')!
      expect(etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/)
      expect(full.headers.get('last-modified')).not.toBeNull()

      const part = await fetch(fileUrl('docs', r.id, name), { headers: { range: 'bytes=3000000-3000009' } })
      expect(part.status).toBe(206)
      expect(part.headers.get('content-range')).toBe(`bytes 3000000-3000009/${big.length}`)
      expect(Buffer.from(await part.arrayBuffer()).equals(big.subarray(3000000, 3000010))).toBe(true)
      const tail = await fetch(fileUrl('docs', r.id, name), { headers: { range: 'bytes=-5' } })
      expect(Buffer.from(await tail.arrayBuffer()).equals(big.subarray(big.length - 5))).toBe(true)
      const bad = await fetch(fileUrl('docs', r.id, name), { headers: { range: `bytes=${big.length}-` } })
      expect([bad.status, bad.headers.get('content-range')]).toEqual([416, `bytes */${big.length}`])
      await bad.arrayBuffer()

      const cached = await fetch(fileUrl('docs', r.id, name), { headers: { 'if-none-match': etag } })
      expect(cached.status).toBe(304)
      // the same ETag on the next request: it comes from the object, not from the request
      expect((await fetch(fileUrl('docs', r.id, name), { method: 'HEAD' })).headers.get('etag')).toBe(etag)
    })

    // The transport and the store, not the database: once.
    it.skipIf(kind !== 'sqlite')(
      'takes a 30 MiB multipart upload into S3 and serves the same bytes back',
      async () => {
        // (a request body is capped at 32 MiB: MAX_BODY_BYTES)
        const total = 30 * MIB
        const boundary = 'galleyS3Boundary'
        const head = Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="owner"\r\n\r\npublic\r\n` +
            `--${boundary}\r\nContent-Disposition: form-data; name="huge"; filename="huge.bin"\r\n` +
            `Content-Type: application/octet-stream\r\n\r\n`,
        )
        const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
        const chunk = randomBytes(64 * 1024)
        const sentHash = createHash('sha256')
        const created = await new Promise<{ status: number; body: Json }>((resolve, reject) => {
          const req = request(
            `${g.url}/api/collections/docs/records`,
            { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } },
            (res) => {
              let text = ''
              res.on('data', (d: Buffer) => (text += d.toString()))
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Json }))
            },
          )
          req.on('error', reject)
          let sent = 0
          const pump = () => {
            while (sent < total) {
              sent += chunk.length
              sentHash.update(chunk)
              if (!req.write(chunk)) return void req.once('drain', pump)
            }
            req.end(tail)
          }
          req.write(head)
          pump()
        })
        expect(created.status, JSON.stringify(created.body)).toBe(200)
        const id = created.body.id as string
        const name = created.body.huge as string
        const res = await fetch(fileUrl('docs', id, name))
        expect(res.headers.get('content-length')).toBe(String(total))
        const gotHash = createHash('sha256')
        let got = 0
        for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
          gotHash.update(part)
          got += part.length
        }
        expect(got).toBe(total)
        expect(gotHash.digest('hex')).toBe(sentHash.digest('hex'))
        expect(walk(join(store.dir, 'upload_tmp'))).toEqual([])
      },
      60_000,
    )

    it('serves a protected file only with a file token whose record may view it', async () => {
      await su.collection('users').create({
        email: `alice-${kind}@example.com`,
        password: 'password123',
        passwordConfirm: 'password123',
      })
      const alice = g.sdk()
      await alice.collection('users').authWithPassword(`alice-${kind}@example.com`, 'password123')
      const r = await su.collection('docs').create({
        owner: alice.authStore.record!.id,
        secret: new File(['closed'], 'closed.txt'),
      })
      const secret = r.secret as string
      expect(await objects(`${docsId}/${r.id}/`)).toEqual([`${docsId}/${r.id}/${secret}`])
      const without = await fetch(fileUrl('docs', r.id, secret))
      expect([without.status, ((await without.json()) as Json).status]).toEqual([404, 404])
      const token = await alice.files.getToken()
      const withToken = await fetch(alice.files.getURL(r, secret, { token }))
      expect([withToken.status, await withToken.text()]).toEqual([200, 'closed'])
    })

    it('removes the objects of a deleted record, cascades included', async () => {
      const pb = g.sdk()
      const doc = await pb.collection('docs').create({ owner: 'public', files: new File(['d'], 'd.txt') })
      const note = await pb.collection('notes').create({ doc: doc.id, attachment: new File(['n'], 'n.txt') })
      expect(await objects(`${docsId}/${doc.id}/`)).toHaveLength(1)
      expect(await objects(`${notesId}/${note.id}/`)).toHaveLength(1)
      await pb.collection('docs').delete(doc.id)
      expect(await objects(`${docsId}/${doc.id}/`)).toEqual([])
      expect(await objects(`${notesId}/${note.id}/`)).toEqual([])
    })

    it('deletes a folder of more than 1000 objects (several list pages and delete batches)', async () => {
      const prefix = `${docsId}/manyobjects1234/`
      const names = Array.from({ length: 1005 }, (_, i) => `${prefix}f${i}_abcdefghij.txt`)
      for (let i = 0; i < names.length; i += 50)
        await Promise.all(names.slice(i, i + 50).map((k) => s3.write(bucket, k, Buffer.from('x'))))
      const fileStore = g.galley.records.fileStore!
      expect(await fileStore.list(prefix)).toHaveLength(1005)
      // a listing walks a bounded number of pages: two pages here, one more than allowed
      const onePage = new S3FileStore(s3.config(bucket), {
        tempDir: tmpdir(),
        limits: { ...S3_LIMITS, listPages: 1 },
      })
      try {
        const cut = await onePage.list(prefix).catch((e: unknown) => e)
        expect(isGalleyError(cut) && cut.status).toBe(503)
      } finally {
        onePage.retire()
      }
      await fileStore.deletePrefix(prefix)
      expect(await fileStore.list(prefix)).toEqual([])
    })

    it('sweeps orphan objects from the bucket and keeps referenced ones', async () => {
      const r = await g
        .sdk()
        .collection('docs')
        .create({ owner: 'public', files: new File(['kept'], 'kept.txt') })
      const kept = (r.files as string[])[0]!
      await s3.write(bucket, `${docsId}/${r.id}/orphan_abcdefghij.txt`, Buffer.from('orphan'))
      await s3.write(bucket, `${docsId}/nosuchrecord123/gone_abcdefghij.txt`, Buffer.from('gone'))
      const fileStore = g.galley.records.fileStore!
      expect(fileStore).toBeInstanceOf(S3FileStore)
      const sweep = (graceMs?: number) =>
        sweepOrphanFiles(g.galley.database, g.galley.collections, fileStore, undefined, graceMs)

      // young objects are left alone: they may belong to a write still in flight
      expect((await sweep()).removed).toEqual([])
      expect((await sweep(0)).removed.sort()).toEqual(
        [`${docsId}/${r.id}/orphan_abcdefghij.txt`, `${docsId}/nosuchrecord123/gone_abcdefghij.txt`].sort(),
      )
      expect(await objects(`${docsId}/${r.id}/`)).toEqual([`${docsId}/${r.id}/${kept}`])
      expect(await objects(`${docsId}/nosuchrecord123/`)).toEqual([])
      expect((await fetch(fileUrl('docs', r.id, kept))).status).toBe(200)
    })

    it('switches between S3 and the local disk live; a download in flight finishes on its store', async () => {
      const pb = g.sdk()
      const onS3 = await pb
        .collection('docs')
        .create({ owner: 'public', files: new File(['on s3'], 's.txt') })
      const big = randomBytes(8 * MIB)
      const large = await pb
        .collection('docs')
        .create({ owner: 'public', files: new File([big], 'large.bin') })
      const s3Name = (onS3.files as string[])[0]!
      const largeName = (large.files as string[])[0]!

      // a slow download: first bytes read, then the store changes under it and another request
      // already runs on the new one (S3's file is not found on the disk)
      let during = 0
      const download = new Promise<Buffer>((resolve, reject) => {
        const req = request(fileUrl('docs', large.id, largeName), (res) => {
          const chunks: Buffer[] = []
          res.once('data', (first: Buffer) => {
            chunks.push(first)
            res.pause()
            useS3({ enabled: false })
              .then(() => fetch(fileUrl('docs', onS3.id, s3Name)))
              .then((other) => {
                during = other.status
                res.on('data', (c: Buffer) => chunks.push(c))
                res.resume()
              })
              .catch(reject)
          })
          res.on('end', () => resolve(Buffer.concat(chunks)))
          res.on('error', reject)
        })
        req.on('error', reject)
        req.end()
      })
      expect((await download).equals(big)).toBe(true)
      expect(during).toBe(404)

      // now on the local disk: new files go there, S3's are not found (nothing is moved, as in PocketBase)
      const onDisk = await pb
        .collection('docs')
        .create({ owner: 'public', files: new File(['on disk'], 'd.txt') })
      const diskName = (onDisk.files as string[])[0]!
      expect(disk()).toEqual([`${docsId}/${onDisk.id}/${diskName}`])
      expect(await objects(`${docsId}/${onDisk.id}/`)).toEqual([])
      expect(await (await fetch(fileUrl('docs', onDisk.id, diskName))).text()).toBe('on disk')
      expect((await fetch(fileUrl('docs', onS3.id, s3Name))).status).toBe(404)

      // and back: the same keys, so S3's files are served again
      await useS3(s3.config(bucket))
      expect(await (await fetch(fileUrl('docs', onS3.id, s3Name))).text()).toBe('on s3')
      expect((await fetch(fileUrl('docs', onDisk.id, diskName))).status).toBe(404)
    })

    // Two instances over one PostgreSQL database: the switch reaches the other one through the
    // settings reload (LISTEN/NOTIFY), with no restart.
    it.skipIf(kind !== 'postgres')('switches the store on another instance too', async () => {
      const other = await startGalley(store, { superuser: false })
      try {
        const until = async (enabled: boolean) => {
          const start = performance.now()
          while (other.galley.settings.get().s3.enabled !== enabled) {
            if (performance.now() - start > PROPAGATION_MS) throw new Error('settings did not propagate')
            await new Promise((r) => setTimeout(r, 50))
          }
        }
        const create = async (text: string) => {
          const r = await other
            .sdk()
            .collection('docs')
            .create({ owner: 'public', files: new File([text], 'o.txt') })
          return `${docsId}/${r.id}/${(r.files as string[])[0]}`
        }
        await useS3({ enabled: false })
        await until(false)
        const local = await create('local on b')
        expect(disk()).toContain(local)
        await useS3(s3.config(bucket))
        await until(true)
        const remote = await create('s3 on b')
        expect(await objects(remote)).toEqual([remote])
        expect(disk()).not.toContain(remote)
        // and the first instance serves it from the bucket
        expect(await (await fetch(`${g.url}/api/files/${remote}`)).text()).toBe('s3 on b')
      } finally {
        await other.close()
      }
    })

    it('answers promptly with a 503 in the usual shape when the endpoint is dead, and recovers', async () => {
      const pb = g.sdk()
      const r = await pb.collection('docs').create({ owner: 'public', files: new File(['alive'], 'a.txt') })
      const name = (r.files as string[])[0]!
      const total = (await su.collection('docs').getList(1, 1)).totalItems
      await useS3({ endpoint: `http://127.0.0.1:${await closedPort()}` })
      try {
        const down = await timed(() => fetch(fileUrl('docs', r.id, name)))
        expect(down.value.status).toBe(503)
        expect(await down.value.json()).toEqual({
          status: 503,
          message: 'The file storage is unavailable. Please try again later.',
          data: {},
        })
        expect(down.ms).toBeLessThan(PROMPT_MS)

        const up = await timed(() =>
          failure(pb.collection('docs').create({ owner: 'public', files: new File(['lost'], 'l.txt') })),
        )
        expect(up.value).toMatchObject({ status: 503, data: {} })
        expect(up.ms).toBeLessThan(PROMPT_MS)
        // the failed create left no record and no temporary upload
        expect((await su.collection('docs').getList(1, 1)).totalItems).toBe(total)
        expect(walk(join(store.dir, 'upload_tmp'))).toEqual([])

        const test = await timed(() => failure(su.settings.testS3('storage')))
        expect(test.value.status).toBe(400)
        expect(test.value.message).toMatch(/^Failed to test the S3 filesystem\. Raw error: \n.*ECONNREFUSED/s)
        expect(test.ms).toBeLessThan(PROMPT_MS)
      } finally {
        await useS3(s3.config(bucket))
      }
      expect(await (await fetch(fileUrl('docs', r.id, name))).text()).toBe('alive')
    })

    it('tests the storage and backups S3 settings as PocketBase (superusers only)', async () => {
      await su.settings.testS3('storage')
      // the test file is written, listed and removed
      expect((await objects()).filter((k) => k.startsWith('pb_settings_test_'))).toEqual([])

      const off = await failure(su.settings.testS3('backups'))
      expect(off).toEqual({
        status: 400,
        message: 'Failed to test the S3 filesystem. Raw error: \nS3 storage filesystem is not enabled.',
        data: {},
      })
      await su.settings.update({ backups: { s3: s3.config(backups) } })
      await su.settings.testS3('backups')
      expect(await s3.keys(backups)).toEqual([])
      await su.settings.update({ backups: { s3: { ...s3.config('no-such-bucket-here'), enabled: true } } })
      const missing = await failure(su.settings.testS3('backups'))
      expect(missing.status).toBe(400)
      expect(missing.message).toContain('NoSuchBucket')
      // (s3rver checks the access key; it does not check V4 signatures, so not the secret)
      await su.settings.update({ backups: { s3: { ...s3.config(backups), accessKey: 'NOT-S3RVER' } } })
      const denied = await failure(su.settings.testS3('backups'))
      expect(denied.status).toBe(400)
      expect(denied.message).toContain('InvalidAccessKeyId (HTTP 403)')
      // the test of storage is not the test of backups
      await su.settings.testS3('storage')

      const post = (body: unknown, token = su.authStore.token) =>
        fetch(`${g.url}/api/settings/test/s3`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: token } : {}) },
          body: JSON.stringify(body),
        }).then(async (res) => [res.status, (await res.json()) as Json] as const)
      expect(await post({})).toEqual([
        400,
        {
          status: 400,
          message: 'Failed to test the S3 filesystem.',
          data: { filesystem: { code: 'validation_required', message: 'Cannot be blank.' } },
        },
      ])
      const [status, body] = await post({ filesystem: 'elsewhere' })
      expect([status, (body.data as Json).filesystem]).toEqual([
        400,
        expect.objectContaining({ code: 'validation_in_invalid' }),
      ])
      expect((await post({ filesystem: 'storage' }, ''))[0]).toBe(401)
      const user = g.sdk()
      await user.collection('users').authWithPassword(`alice-${kind}@example.com`, 'password123')
      expect((await post({ filesystem: 'storage' }, user.authStore.token))[0]).toBe(403)
      // the secrets are never returned
      const shown = await su.settings.getAll()
      expect(shown.s3).not.toHaveProperty('secret')
      expect(shown.backups.s3).not.toHaveProperty('secret')
    })
  })
}

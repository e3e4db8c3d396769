/**
 * Crash safety of record files (issue 6; RELIABILITY) on SQLite and PostgreSQL: a Galley process
 * (the compiled CLI, `npm run build` first) is killed with SIGKILL in the middle of a large
 * streaming upload while small uploads and a batch that fails after its upload are in flight.
 * Afterwards every file a record references is there and served, and the orphan sweep, run
 * explicitly, leaves exactly the referenced files: no unreferenced stored file, no temporary upload.
 */
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import PocketBase from 'pocketbase'
import { afterAll, describe, expect, it } from 'vitest'
import { sweepOrphanFiles } from '../src/files/index.js'
import { streamUpload, walk } from './helpers/files.js'
import {
  createStore,
  DB_KINDS,
  startGalley,
  SU_EMAIL,
  SU_PASSWORD,
  type RunningGalley,
  type TestStore,
} from './helpers/galley.js'
import { runCli, startServe, type GalleyProcess } from './helpers/process.js'

type Rec = { id: string; collectionId: string; collectionName: string; [k: string]: unknown }
const MIB = 1024 * 1024
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

function client(url: string): PocketBase {
  const pb = new PocketBase(url)
  pb.autoCancellation(false)
  return pb
}

/** The largest temporary upload now in `dir`, in bytes (0 when there is none). */
function largestTemp(dir: string): number {
  let max = 0
  for (const name of readdirSync(dir)) {
    const size = statSync(join(dir, name), { throwIfNoEntry: false })?.size ?? 0
    max = Math.max(max, size)
  }
  return max
}

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`record files survive SIGKILL on ${kind}`, () => {
    let store: TestStore
    let server: GalleyProcess | undefined
    let g: RunningGalley | undefined

    afterAll(async () => {
      await server?.stop('SIGKILL')
      await g?.close()
      await store?.cleanup()
    })

    it('keeps every referenced file through a kill mid-upload, and the sweep removes the rest', async () => {
      store = await createStore(kind)
      const dbArgs = ['--dir', store.dir, ...(store.dbUrl ? ['--db', store.dbUrl] : [])]
      expect((await runCli(['superuser', 'upsert', SU_EMAIL, SU_PASSWORD, ...dbArgs])).code).toBe(0)
      server = await startServe(dbArgs)
      const su = client(server.url)
      await su.collection('_superusers').authWithPassword(SU_EMAIL, SU_PASSWORD)
      await su.settings.update({ batch: { enabled: true, maxRequests: 10, timeout: 10 } })
      await su.collections.create({
        name: 'vault',
        type: 'base',
        fields: [
          { name: 'title', type: 'text', required: true },
          { name: 'docs', type: 'file', maxSelect: 3 },
          { name: 'big', type: 'file', maxSelect: 1, maxSize: 200 * MIB },
        ],
        listRule: '',
        viewRule: '',
        createRule: '',
        updateRule: '',
        deleteRule: '',
      })
      const storage = join(store.dir, 'storage')
      const uploadDir = join(store.dir, 'upload_tmp')
      const pb = client(server.url)

      // records with files, committed before the crash
      for (let i = 0; i < 5; i++)
        await pb.collection('vault').create({
          title: `kept ${i}`,
          docs: [new File([`doc ${i} a`], `a${i}.txt`), new File([`doc ${i} b`], `b${i}.txt`)],
        })
      const committed = walk(storage)
      expect(committed).toHaveLength(10)

      // a batch that fails after its upload leaves nothing behind
      const batch = su.createBatch()
      batch.collection('vault').create({ title: 'in batch', docs: [new File(['batch'], 'batch.txt')] })
      batch.collection('vault').create({ docs: [new File(['no title'], 'nt.txt')] })
      await expect(batch.send()).rejects.toMatchObject({ status: 400 })
      expect(walk(storage)).toEqual(committed)

      // ---- the crash: a 150 MB upload streaming, small creates and a batch in flight ----
      const upload = streamUpload(server.url, '/api/collections/vault/records', 'big', 150 * MIB)
      const deadline = Date.now() + 20_000
      while (largestTemp(uploadDir) < 2 * MIB && Date.now() < deadline) await pause(20)
      expect(largestTemp(uploadDir)).toBeGreaterThanOrEqual(2 * MIB)
      const inFlight = Array.from({ length: 10 }, (_, i) =>
        pb
          .collection('vault')
          .create({ title: `racing ${i}`, docs: [new File([`racing ${i}`], `r${i}.txt`)] })
          .then(
            () => 'created',
            () => 'lost',
          ),
      )
      const racingBatch = su.createBatch()
      racingBatch.collection('vault').create({ title: 'rb', docs: [new File(['rb'], 'rb.txt')] })
      racingBatch.collection('vault').update('nosuchrecord00', { title: 'x' })
      const batchOutcome = racingBatch.send().then(
        () => 'committed',
        () => 'failed',
      )
      await pause(5)
      expect(await server.stop('SIGKILL')).toBeNull()
      server = undefined
      upload.stop()
      await upload.done
      const outcomes = await Promise.all(inFlight)
      expect(await batchOutcome).toBe('failed')
      // the killed upload's partial temporary file is what the crash left
      const tempsAfterCrash = readdirSync(uploadDir)
      expect(tempsAfterCrash.length).toBeGreaterThanOrEqual(1)
      expect(upload.sent()).toBeLessThan(150 * MIB)

      // ---- afterwards: every referenced file is there; the sweep removes everything else ----
      g = await startGalley(store)
      const records = await g.sdk().collection('vault').getFullList<Rec>()
      const referenced = records.flatMap((r) =>
        [...(r.docs as string[]), ...(r.big ? [r.big as string] : [])].map(
          (n) => `${r.collectionId}/${r.id}/${n}`,
        ),
      )
      expect(records.filter((r) => String(r.title).startsWith('kept'))).toHaveLength(5)
      // every racing create that answered is there; the big upload and the batch are not
      expect(records.filter((r) => String(r.title).startsWith('racing')).length).toBeGreaterThanOrEqual(
        outcomes.filter((o) => o === 'created').length,
      )
      expect(records.some((r) => r.big)).toBe(false)
      expect(records.some((r) => r.title === 'rb')).toBe(false)
      const stored = walk(storage)
      for (const key of referenced) expect(stored).toContain(key)
      for (const r of records)
        for (const name of r.docs as string[]) {
          const res = await fetch(g.sdk().files.getURL(r, name))
          expect(res.status).toBe(200)
          expect((await res.text()).length).toBeGreaterThan(0)
        }

      const fileStore = g.galley.records.fileStore!
      const swept = await sweepOrphanFiles(g.galley.database, g.galley.collections, fileStore, uploadDir, 0)
      expect(swept.temps).toBe(tempsAfterCrash.length)
      expect(walk(storage)).toEqual([...referenced].sort())
      expect(readdirSync(uploadDir)).toEqual([])
      // orphans the crash left (a create stored but not committed) are exactly what was removed
      expect(swept.removed.sort()).toEqual(stored.filter((k) => !referenced.includes(k)))
    }, 90_000)
  })
}

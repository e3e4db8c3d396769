/**
 * Record files and the schema (issue 6; pocketbase-api.md §10.1) on SQLite and PostgreSQL: a
 * deleted collection's storage folder (files and thumbs) is removed once the deletion committed,
 * and a deletion that fails removes nothing; files of view records are served from the record the
 * view's field reads (through joins, aliases and views over views), thumbs included.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type PocketBase from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { walk } from './helpers/files.js'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'

type Rec = { id: string; collectionId: string; collectionName: string; [k: string]: unknown }

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
)
const RULES = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' }

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`files and the schema on ${kind}`, () => {
    let store: TestStore
    let g: RunningGalley
    let su: PocketBase
    let storage: string

    beforeAll(async () => {
      store = await createStore(kind)
      g = await startGalley(store)
      su = await g.asSuperuser()
      storage = join(store.dir, 'storage')
    })
    afterAll(async () => {
      await g?.close()
      await store?.cleanup()
    })

    const withFiles = async (name: string) => {
      const c = await su.collections.create({
        name,
        type: 'base',
        fields: [{ name: 'file', type: 'file', maxSelect: 1 }],
        ...RULES,
      })
      const records: Rec[] = []
      for (let i = 0; i < 3; i++)
        records.push(
          await su.collection(name).create<Rec>({ file: new File([new Uint8Array(PNG)], `f${i}.png`) }),
        )
      // a thumb too
      const thumb = await fetch(
        su.files.getURL(records[0]!, records[0]!.file as string, { thumb: '100x100' }),
      )
      expect(thumb.status).toBe(200)
      return { id: c.id, records }
    }

    it("removes a deleted collection's storage folder, thumbs included, and nothing else", async () => {
      const gone = await withFiles('gone')
      const kept = await withFiles('kept')
      expect(walk(join(storage, gone.id))).toHaveLength(4)
      await su.collections.delete('gone')
      expect(existsSync(join(storage, gone.id))).toBe(false)
      expect(walk(join(storage, kept.id))).toHaveLength(4)
      for (const r of kept.records)
        expect((await fetch(su.files.getURL(r, r.file as string))).status).toBe(200)
    })

    it('keeps the files when the deletion fails', async () => {
      const target = await withFiles('target')
      await su.collections.create({
        name: 'pointer',
        type: 'base',
        fields: [{ name: 'to', type: 'relation', collectionId: target.id, maxSelect: 1 }],
      })
      await expect(su.collections.delete('target')).rejects.toMatchObject({ status: 400 })
      expect(walk(join(storage, target.id))).toHaveLength(4)
      // once nothing refers to it, the deletion goes through and its files with it
      await su.collections.delete('pointer')
      await su.collections.delete('target')
      expect(existsSync(join(storage, target.id))).toBe(false)
    })

    it('removes the folders of collections an import deletes', async () => {
      const dropped = await withFiles('dropped')
      const all = await su.collections.getFullList()
      await su.collections.import(
        all.filter((c) => c.name !== 'dropped'),
        true,
      )
      expect(existsSync(join(storage, dropped.id))).toBe(false)
      expect(walk(storage).every((p) => !p.startsWith(`${dropped.id}/`))).toBe(true)
    })

    it("serves a view record's files from the record its field reads, through aliases, joins and views", async () => {
      const src = await su.collections.create({
        name: 'src',
        type: 'base',
        fields: [
          { name: 'title', type: 'text' },
          { name: 'single', type: 'file', maxSelect: 1, thumbs: ['20x10'] },
          { name: 'many', type: 'file', maxSelect: 3 },
          { name: 'secret', type: 'file', maxSelect: 1, protected: true },
        ],
        ...RULES,
      })
      await su.collections.create({
        name: 'owners',
        type: 'base',
        fields: [{ name: 'src', type: 'relation', collectionId: src.id, maxSelect: 1 }],
        ...RULES,
      })
      const view = (name: string, viewQuery: string, viewRule = '') =>
        su.collections.create({ name, type: 'view', viewQuery, listRule: viewRule, viewRule })
      // signed-in viewers only: its protected file needs a file token
      await view('v1', 'SELECT id, title, single, many AS gallery, secret FROM src', "@request.auth.id != ''")
      await view('v2', 'SELECT id, gallery AS pics FROM v1')
      await view('joined', 'SELECT o.id AS id, s.single AS img FROM owners o JOIN src s ON o.src = s.id')

      const png = (n: number) => new File([new Uint8Array(PNG)], `p${n}.png`)
      const a = await su.collection('src').create<Rec>({
        title: 'a',
        single: png(1),
        many: [new File(['m1'], 'm1.txt'), new File(['m2'], 'm2.txt')],
        secret: new File(['hush'], 'hush.txt'),
      })
      const b = await su.collection('src').create<Rec>({ title: 'b', single: png(2) })
      const owner = await su.collection('owners').create<Rec>({ src: a.id })
      const pb = g.sdk()
      const get = async (r: Rec, name: string, thumb?: string) => {
        const res = await fetch(pb.files.getURL(r, name, thumb ? { thumb } : {}))
        return { status: res.status, body: Buffer.from(await res.arrayBuffer()) }
      }

      const v1 = await su.collection('v1').getOne<Rec>(a.id)
      expect(v1.collectionName).toBe('v1')
      expect(await get(v1, v1.single as string)).toEqual({ status: 200, body: PNG })
      const gallery = v1.gallery as string[]
      expect(gallery).toEqual(a.many)
      expect((await get(v1, gallery[1]!)).body.toString()).toBe('m2')
      // a thumb of a view's file is made and stored beside the source file
      const thumb = await get(v1, v1.single as string, '20x10')
      expect(thumb.status).toBe(200)
      expect(thumb.body.equals(PNG)).toBe(false)
      expect(existsSync(join(storage, src.id, a.id, `thumbs_${a.single}`, `20x10_${a.single}`))).toBe(true)
      // a view over a view, and a view whose id is another collection's
      const v2 = await pb.collection('v2').getOne<Rec>(a.id)
      expect((await get(v2, (v2.pics as string[])[0]!)).body.toString()).toBe('m1')
      const joined = await pb.collection('joined').getOne<Rec>(owner.id)
      expect(joined.img).toBe(a.single)
      expect(await get(joined, joined.img as string)).toEqual({ status: 200, body: PNG })

      // only the view record's own files: b's file through a's view record is a 404
      expect((await get(v1, b.single as string)).status).toBe(404)
      expect((await get(joined, b.single as string)).status).toBe(404)
      // a protected field stays protected through the view
      expect((await get(v1, v1.secret as string)).status).toBe(404)
      const token = await su.files.getToken()
      const res = await fetch(pb.files.getURL(v1, v1.secret as string, { token }))
      expect([res.status, await res.text()]).toEqual([200, 'hush'])
      // nothing is stored under the views' ids
      for (const name of ['v1', 'v2', 'joined']) {
        const c = await su.collections.getOne(name)
        expect(existsSync(join(storage, c.id))).toBe(false)
      }
    })
  })
}

/**
 * Record files and the schema (issue 6; pocketbase-api.md §10.1) on SQLite and PostgreSQL: a
 * deleted collection's storage folder (files and thumbs) is removed once the deletion committed,
 * and a deletion that fails removes nothing.
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
  })
}

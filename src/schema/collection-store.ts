import type { Executor, GalleyDialect } from '../db/index.js'
import type { Collection } from './collection.js'

/** Reads and writes the `_collections` table; the collection JSON lives in its `data` column. */
export async function readCollections(ex: Executor): Promise<Collection[]> {
  const rows = await ex
    .selectFrom('_collections')
    .select(['data'])
    .orderBy('created')
    .orderBy('name')
    .execute()
  return rows.map((r) => JSON.parse(String(r.data)) as Collection)
}

export async function insertCollection(ex: Executor, d: GalleyDialect, c: Collection): Promise<void> {
  await ex
    .insertInto('_collections')
    .values({
      id: c.id,
      name: c.name,
      type: c.type,
      system: d.encode('bool', c.system),
      data: JSON.stringify(c),
      created: c.created,
      updated: c.updated,
    })
    .execute()
}

export async function updateCollectionRow(ex: Executor, d: GalleyDialect, c: Collection): Promise<void> {
  await ex
    .updateTable('_collections')
    .set({
      name: c.name,
      type: c.type,
      system: d.encode('bool', c.system),
      data: JSON.stringify(c),
      updated: c.updated,
    })
    .where('id', '=', c.id)
    .execute()
}

export async function deleteCollectionRow(ex: Executor, id: string): Promise<void> {
  await ex.deleteFrom('_collections').where('id', '=', id).execute()
}

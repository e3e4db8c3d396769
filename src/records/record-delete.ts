import { sql } from 'kysely'
import type { Database, Executor } from '../db/index.js'
import { badRequest } from '../lib/index.js'
import { columnKind, type Collection, type CollectionService } from '../schema/index.js'
import type { FileChanges } from './record-write.js'
import type { RecordRow } from './serialize.js'

/** A record a delete changed besides its own (the records service's `RecordChange`). */
export interface CascadeChange {
  readonly collection: Collection
  readonly action: 'delete' | 'update'
  readonly row: RecordRow
}

const REQUIRED_REFERENCE =
  'Failed to delete record. Make sure that the record is not part of a required relation reference.'
/** Cascades deeper than this are refused rather than followed (a guard against runaway chains). */
export const MAX_CASCADE_DEPTH = 32
const AUTH_BOOKKEEPING = ['_externalAuths', '_mfas', '_otps', '_authOrigins']

/**
 * Deletes `row` of `c` inside the caller's transaction with PocketBase's relation semantics (§3.5):
 * every relation pointing at it loses the id; a referencing record left empty is deleted when the
 * field cascades, and the whole delete fails when the field is required. The folders of deleted
 * records with file fields go to `files.obsoletePrefixes`, removed by the owner after the commit.
 * The other records it changes go to `changes` (realtime): each one cascaded away as a delete, each
 * one that lost the id as an update, in the order they happened.
 */
export async function deleteRecord(
  trx: Executor,
  database: Database,
  collections: CollectionService,
  c: Collection,
  row: RecordRow,
  depth = 0,
  visited = new Set<string>(),
  files?: FileChanges,
  changes?: CascadeChange[],
): Promise<void> {
  const key = `${c.id}/${String(row.id)}`
  if (visited.has(key)) return
  visited.add(key)
  if (depth > MAX_CASCADE_DEPTH) throw badRequest('Failed to delete record: the cascade is too deep.')
  const d = database.dialect
  const id = String(row.id)

  for (const other of collections.all()) {
    if (other.type === 'view') continue
    for (const f of other.fields) {
      if (f.type !== 'relation' || f.collectionId !== c.id) continue
      const kind = columnKind(f)
      const refs = (await trx
        .selectFrom(other.name)
        .selectAll()
        .where(
          kind === 'jsonArray'
            ? d.jsonArrayContains(sql.ref(f.name), id)
            : sql<boolean>`${sql.ref(f.name)} = ${id}`,
        )
        .execute()) as RecordRow[]
      for (const ref of refs) {
        if (other.id === c.id && String(ref.id) === id) continue
        const current = d.decode(kind, ref[f.name])
        const rest = Array.isArray(current) ? current.filter((v) => v !== id) : current === id ? '' : current
        const empty = Array.isArray(rest) ? rest.length === 0 : rest === ''
        if (empty && f.cascadeDelete) {
          const before = visited.size
          await deleteRecord(trx, database, collections, other, ref, depth + 1, visited, files, changes)
          if (visited.size > before) changes?.push({ collection: other, action: 'delete', row: ref })
          continue
        }
        if (empty && f.required) throw badRequest(REQUIRED_REFERENCE)
        const updated = (await trx
          .updateTable(other.name)
          .set({ [f.name]: d.encode(kind, rest) })
          .where('id', '=', ref.id as string)
          .returningAll()
          .executeTakeFirst()) as RecordRow | undefined
        // the row as stored now (an earlier step of this cascade may have changed it too)
        if (updated) changes?.push({ collection: other, action: 'update', row: updated })
      }
    }
  }
  if (c.type === 'auth') {
    for (const name of AUTH_BOOKKEEPING) {
      if (!collections.find(name)) continue
      await trx.deleteFrom(name).where('collectionRef', '=', c.id).where('recordRef', '=', id).execute()
    }
  }
  await trx.deleteFrom(c.name).where('id', '=', id).execute()
  if (c.fields.some((f) => f.type === 'file')) files?.obsoletePrefixes.push(`${c.id}/${id}/`)
}

import type { Collection } from '../schema/index.js'

/** `CREATE UNIQUE INDEX [IF NOT EXISTS] name ON table (col [COLLATE x] [ASC|DESC])`, any quoting. */
const SINGLE_UNIQUE =
  /^\s*CREATE\s+UNIQUE\s+INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?\S+\s+ON\s+\S+\s*\(\s*[`"[]?(\w+)[`"\]]?(?:\s+COLLATE\s+\w+)?(?:\s+(?:ASC|DESC))?\s*\)/i

/**
 * Whether `field` has a single-column UNIQUE index, which makes its back-relation single-valued
 * (PocketBase `dbutils.FindSingleColumnUniqueIndex`; a partial index counts too).
 */
export function hasSingleColumnUniqueIndex(collection: Collection, field: string): boolean {
  const lower = field.toLowerCase()
  return collection.indexes.some((text) => SINGLE_UNIQUE.exec(text)?.[1]?.toLowerCase() === lower)
}

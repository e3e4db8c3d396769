/** Field and rule definitions for collections created through the SDK in tests. */
type Json = Record<string, unknown>

export const text = (name: string, extra: Json = {}) => ({ name, type: 'text', ...extra })

/** A relation field, single unless `extra` says `maxSelect`. */
export const rel = (name: string, collectionId: string, extra: Json = {}) => ({
  name,
  type: 'relation',
  collectionId,
  maxSelect: 1,
  ...extra,
})

/** Every rule public. */
export const OPEN = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' }
/** Every rule superusers-only. */
export const LOCKED = { listRule: null, viewRule: null, createRule: null, updateRule: null, deleteRule: null }

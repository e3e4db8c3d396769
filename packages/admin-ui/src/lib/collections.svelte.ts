import type { CollectionModel } from 'pocketbase'
import { toServerError } from './errors'
import { pb } from './pb'

/** The collections of the sidebar, reloaded after every schema change. */
export const schema = $state<{ list: CollectionModel[]; error: string; loaded: boolean }>({
  list: [],
  error: '',
  loaded: false,
})

export async function loadCollections(): Promise<void> {
  try {
    schema.list = await pb.collections.getFullList({ sort: 'name', batch: 500 })
    schema.error = ''
  } catch (err) {
    schema.error = toServerError(err).message
  } finally {
    schema.loaded = true
  }
}

export function findCollection(idOrName: string): CollectionModel | undefined {
  return schema.list.find((c) => c.id === idOrName || c.name === idOrName)
}

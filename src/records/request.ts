import type { RequestContext } from '../rules/index.js'
import { SUPERUSERS_COLLECTION_NAME } from '../schema/index.js'

/** Superusers bypass every rule and see hidden fields. */
export function isSuperuserRequest(request: RequestContext): boolean {
  return request.auth?.collection.name === SUPERUSERS_COLLECTION_NAME
}

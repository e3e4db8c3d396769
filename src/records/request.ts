import type { RequestContext } from '../rules/index.js'

export const SUPERUSERS = '_superusers'

/** Superusers bypass every rule and see hidden fields. */
export function isSuperuserRequest(request: RequestContext): boolean {
  return request.auth?.collection.name === SUPERUSERS
}

import type { FastifyRequest } from 'fastify'
import { isSuperuser } from '../auth/index.js'
import { forbidden, type GalleyError } from '../lib/index.js'
import { SUPERUSERS_COLLECTION_ID, SUPERUSERS_COLLECTION_NAME } from '../schema/index.js'
import type { SettingsService } from '../settings/index.js'
import { normalizeIp } from './client-ip.js'

/** The routes that sign a record in with its credentials; `{c}` names the collection. */
const SIGN_IN_ROUTES = new Set([
  '/api/collections/:c/auth-with-password',
  '/api/collections/:c/auth-with-otp',
  '/api/collections/:c/auth-with-oauth2',
])

const MESSAGE = 'Superusers are not allowed to access the API from this IP address.'

/**
 * `settings.superuserIPs` (§1.4, §8.2): when the list is not empty, a superuser token used from
 * another address and a superuser sign-in from another address are refused with 403. Both
 * sides are normalized (`::ffff:10.0.0.1` is `10.0.0.1`). An empty list allows every address.
 */
export function superuserIpCheck(settings: SettingsService) {
  return (req: FastifyRequest): GalleyError | undefined => {
    const list = settings.get().superuserIPs
    if (list.length === 0) return undefined
    if (!isSuperuser(req.actor) && !isSuperuserSignIn(req)) return undefined
    const ip = req.clientIp
    return list.some((entry) => normalizeIp(entry) === ip) ? undefined : forbidden(MESSAGE)
  }
}

function isSuperuserSignIn(req: FastifyRequest): boolean {
  if (req.method !== 'POST' || !SIGN_IN_ROUTES.has(req.routeOptions.url ?? '')) return false
  const c = (req.params as { c?: unknown } | undefined)?.c
  return c === SUPERUSERS_COLLECTION_NAME || c === SUPERUSERS_COLLECTION_ID
}

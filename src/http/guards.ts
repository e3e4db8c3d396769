import type { FastifyRequest } from 'fastify'
import { isSuperuser, type Actor } from '../auth/index.js'
import { forbidden, unauthorized } from '../lib/index.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated auth record, or undefined for a guest (invalid tokens are ignored, §1.4). */
    actor: Actor | undefined
  }
}

/** 401 for guests, 403 for records that are not superusers (Appendix E). */
export function requireSuperuser(req: FastifyRequest): Actor {
  if (!req.actor) throw unauthorized()
  if (!isSuperuser(req.actor)) throw forbidden('The authorized record is not allowed to perform this action.')
  return req.actor
}

import type { FastifyInstance } from 'fastify'
import { badRequest, fieldError, isJsonObject, type FieldError } from '../../lib/index.js'
import { CHECKABLE_RULE_KEYS, type CheckableRuleKey, type CollectionService } from '../../schema/index.js'
import { requireSuperuser } from '../guards.js'

/**
 * The body limit of a check: a draft of MAX_FIELDS fields with long options and a MAX_RULE_LENGTH
 * rule fits many times over; anything larger is a 413 before it is read.
 */
export const RULE_CHECK_BODY_LIMIT = 1024 * 1024

const MESSAGE = 'Failed to check the rule.'

/**
 * Galley's own rule check for the dashboard's rule editor (superusers only):
 * `POST /api/galley/rules/check` `{ collection, rule, kind? }` → 200 `{ ok: true }` or 200
 * `{ ok: false, message, position? }`, the rule resolved exactly as saving `collection` with it in
 * the slot `kind` (default `listRule`) would resolve it (CollectionService.checkRule). A body that is
 * not that shape is a 400 with `data.collection`, `data.rule` or `data.kind`.
 */
export function ruleCheckRoutes(collections: CollectionService) {
  return async (app: FastifyInstance): Promise<void> => {
    // Before the body is read: guests and other records get 401/403 whatever they send.
    app.addHook('onRequest', async (req) => {
      requireSuperuser(req)
    })
    app.post('/api/galley/rules/check', { bodyLimit: RULE_CHECK_BODY_LIMIT }, async (req) => {
      const body = isJsonObject(req.body) ? req.body : {}
      const problems: Record<string, FieldError> = {}
      const { collection, rule, kind = 'listRule' } = body
      if (!isJsonObject(collection))
        problems.collection = fieldError('validation_required', 'A collection object is required.')
      if (typeof rule !== 'string')
        problems.rule = fieldError('validation_required', 'A rule text is required.')
      if (typeof kind !== 'string' || !(CHECKABLE_RULE_KEYS as readonly string[]).includes(kind))
        problems.kind = fieldError(
          'validation_in_invalid',
          `Must be one of ${CHECKABLE_RULE_KEYS.join(', ')}.`,
        )
      if (Object.keys(problems).length > 0 || !isJsonObject(collection) || typeof rule !== 'string')
        throw badRequest(MESSAGE, problems)
      return collections.checkRule(collection, rule, kind as CheckableRuleKey)
    })
  }
}

import { TOKEN_KINDS, type Collection } from './collection.js'

const BASE_KEYS = [
  'id',
  'name',
  'type',
  'system',
  'fields',
  'indexes',
  'listRule',
  'viewRule',
  'createRule',
  'updateRule',
  'deleteRule',
  'created',
  'updated',
] as const

const AUTH_KEYS = [
  'authRule',
  'manageRule',
  'authAlert',
  'oauth2',
  'passwordAuth',
  'mfa',
  'otp',
  'authToken',
  'passwordResetToken',
  'emailChangeToken',
  'verificationToken',
  'fileToken',
  'verificationTemplate',
  'resetPasswordTemplate',
  'confirmEmailChangeTemplate',
] as const

/** The collection JSON of the API (§6.2): only the keys of its type, and no secret ever. */
export function collectionToJSON(c: Collection): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const k of BASE_KEYS) out[k] = structuredClone(c[k])
  if (c.type === 'view') out.viewQuery = c.viewQuery ?? ''
  if (c.type === 'auth') {
    for (const k of AUTH_KEYS) out[k] = structuredClone(c[k])
    for (const k of TOKEN_KINDS) {
      const t = out[k] as { duration: number; secret?: string } | undefined
      if (t) out[k] = { duration: t.duration }
    }
    const oauth2 = out.oauth2 as { providers?: Record<string, unknown>[] } | undefined
    if (oauth2?.providers)
      oauth2.providers = oauth2.providers.map(({ clientSecret: _secret, ...rest }) => rest)
  }
  return out
}

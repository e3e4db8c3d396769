/** The collection model, shaped exactly like PocketBase's collection JSON (pocketbase-api.md §6.2). */

export type CollectionType = 'base' | 'auth' | 'view'
export const COLLECTION_TYPES: readonly CollectionType[] = ['base', 'auth', 'view']

/** A field: common keys plus the options of its type (Appendix D). */
export interface Field {
  id: string
  name: string
  type: string
  system: boolean
  hidden: boolean
  presentable: boolean
  help?: string
  [option: string]: unknown
}

export interface EmailTemplate {
  subject: string
  body: string
}

/** A token kind's settings; `secret` is write-only (never serialized). */
export interface TokenConfig {
  duration: number
  secret: string
}

export interface OAuth2Provider {
  name: string
  clientId: string
  clientSecret: string
  authURL: string
  tokenURL: string
  userInfoURL: string
  displayName: string
  pkce: boolean | null
  extra: Record<string, unknown> | null
}

/** The OAuth2 providers Galley implements (auth/oauth2/providers.ts); other names are refused. */
export const OAUTH2_PROVIDER_NAMES: readonly string[] = [
  'apple',
  'discord',
  'github',
  'gitlab',
  'google',
  'microsoft',
  'oidc',
  'oidc2',
  'oidc3',
]

export interface AuthOptions {
  authRule: string | null
  manageRule: string | null
  authAlert: { enabled: boolean; emailTemplate: EmailTemplate }
  oauth2: {
    enabled: boolean
    mappedFields: { id: string; name: string; username: string; avatarURL: string }
    providers: OAuth2Provider[]
  }
  passwordAuth: { enabled: boolean; identityFields: string[] }
  mfa: { enabled: boolean; duration: number; rule: string }
  otp: { enabled: boolean; duration: number; length: number; emailTemplate: EmailTemplate }
  authToken: TokenConfig
  passwordResetToken: TokenConfig
  emailChangeToken: TokenConfig
  verificationToken: TokenConfig
  fileToken: TokenConfig
  verificationTemplate: EmailTemplate
  resetPasswordTemplate: EmailTemplate
  confirmEmailChangeTemplate: EmailTemplate
}

export const TOKEN_KINDS = [
  'authToken',
  'passwordResetToken',
  'emailChangeToken',
  'verificationToken',
  'fileToken',
] as const
export type TokenKind = (typeof TOKEN_KINDS)[number]

export const RULE_KEYS = ['listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule'] as const
export type RuleKey = (typeof RULE_KEYS)[number]

export interface BaseCollection {
  id: string
  name: string
  type: CollectionType
  system: boolean
  fields: Field[]
  indexes: string[]
  listRule: string | null
  viewRule: string | null
  createRule: string | null
  updateRule: string | null
  deleteRule: string | null
  created: string
  updated: string
}

/** A stored collection. Auth collections carry `AuthOptions`; view collections `viewQuery`. */
export interface Collection extends BaseCollection, Partial<AuthOptions> {
  viewQuery?: string
}

export type AuthCollection = Collection & AuthOptions

export function isAuthCollection(c: Collection): c is AuthCollection {
  return c.type === 'auth'
}

export function findField(c: Collection, name: string): Field | undefined {
  const lower = name.toLowerCase()
  return c.fields.find((f) => f.name.toLowerCase() === lower)
}

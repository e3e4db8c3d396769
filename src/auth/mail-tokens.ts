import type { Executor } from '../db/index.js'
import { fieldError, type FieldError } from '../lib/index.js'
import type { RecordRow } from '../records/index.js'
import { isAuthCollection, type AuthCollection, type CollectionService } from '../schema/index.js'
import { peekClaims, signToken, verifyToken, type TokenClaims } from './tokens.js'

/** The token types the mail flows send (§8.1). */
export type MailTokenType = 'verification' | 'passwordReset' | 'emailChange'

/** Which of the collection's token settings signs each type. */
const SETTINGS = {
  verification: 'verificationToken',
  passwordReset: 'passwordResetToken',
  emailChange: 'emailChangeToken',
} as const satisfies Record<MailTokenType, keyof AuthCollection>

/** Longest token read: ours are a few hundred characters; longer input is refused unparsed. */
export const MAX_MAIL_TOKEN_LENGTH = 4096

/**
 * A `type` token for `row` of `c` carrying its current email (and `extra` claims), signed with the
 * record's tokenKey and the collection's secret for that type, so a new tokenKey (password or email
 * change) voids it.
 */
export function signMailToken(
  c: AuthCollection,
  row: RecordRow,
  type: MailTokenType,
  extra: Record<string, string> = {},
): Promise<string> {
  const settings = c[SETTINGS[type]]
  const claims: TokenClaims = {
    id: String(row.id),
    collectionId: c.id,
    type,
    email: String(row.email ?? ''),
    ...extra,
  }
  return signToken(claims, String(row.tokenKey) + settings.secret, settings.duration)
}

const invalidToken = () => fieldError('validation_invalid_token', 'Invalid or expired token.')

/** A checked token: the stored record it signs for, and its verified claims. */
export interface TokenRecord {
  readonly row: RecordRow
  readonly claims: TokenClaims
}

export interface TokenLookup {
  readonly collections: CollectionService
  findById(c: AuthCollection, id: string, ex?: Executor): Promise<RecordRow | undefined>
}

/**
 * The record a mail token of `type` stands for, as PocketBase's `FindAuthRecordByToken`: the claims
 * name the collection and record, whose tokenKey and secret must verify the signature and expiry;
 * then the token must belong to `c`. Otherwise the `data.token` error to report. `ex` reads the
 * record inside a transaction (a confirm re-checks there, after taking its lock).
 */
export async function recordForToken(
  lookup: TokenLookup,
  c: AuthCollection,
  token: string,
  type: MailTokenType,
  ex?: Executor,
): Promise<TokenRecord | FieldError> {
  if (token.length > MAX_MAIL_TOKEN_LENGTH) return invalidToken()
  const peeked = peekClaims(token)
  if (!peeked || peeked.type !== type) return invalidToken()
  const tc = lookup.collections.find(peeked.collectionId)
  if (!tc || !isAuthCollection(tc) || tc.id !== peeked.collectionId) return invalidToken()
  const row = await lookup.findById(tc, peeked.id, ex)
  if (!row) return invalidToken()
  const claims = await verifyToken(token, String(row.tokenKey) + tc[SETTINGS[type]].secret, type)
  if (!claims || claims.id !== row.id || claims.collectionId !== tc.id) return invalidToken()
  if (tc.id !== c.id)
    return fieldError(
      'validation_token_collection_mismatch',
      'The provided token is for different auth collection.',
    )
  return { row, claims }
}

export const isTokenRecord = (v: TokenRecord | FieldError): v is TokenRecord => 'row' in v

import {
  badRequest,
  FixedWindowCounter,
  fieldError,
  forbidden,
  GalleyError,
  isGalleyError,
  randomString,
  unauthorized,
  ValidationErrors,
  type ErrorData,
  type FieldError,
  type WindowLimit,
} from '../lib/index.js'
import { recordToJSON, type RecordChange, type RecordRow } from '../records/index.js'
import type { RequestContext } from '../rules/index.js'
import { findField, type AuthCollection } from '../schema/index.js'
import type { MailKind, MailTemplate } from '../mail/index.js'
import { SUPERUSERS, type Actor } from './actor.js'
import type { AuthService } from './auth-service.js'
import { cannotBeBlank, checkEmail, checkPassword, readForm, VALIDATION_ERROR } from './mail-form.js'
import {
  isTokenRecord,
  recordForToken,
  signMailToken,
  type MailTokenType,
  type TokenLookup,
  type TokenRecord,
} from './mail-tokens.js'
import { discardPendingFactors } from './otp.js'
import { peekClaims } from './tokens.js'
import { sendTestEmail } from './mail-test-email.js'
import { verifyPassword } from './password.js'
import { MAX_THROTTLE_KEYS, ResendThrottle } from './resend-throttle.js'

/**
 * Email-change requests per record (Galley; PocketBase has no limit): each may send a mail to any
 * address and says whether an address is registered, so a signed-in user gets 5 an hour.
 */
export const EMAIL_CHANGE_LIMIT: WindowLimit = { max: 5, windowMs: 60 * 60 * 1000 }

const isVerified = (row: RecordRow) => row.verified === true || row.verified === 1
const throttleKey = (c: AuthCollection, row: RecordRow) => `${c.id}/${String(row.id)}`

/**
 * Verification, password reset and email change (§8.10), and the settings' test email (§13.2).
 *
 * Requests answer 204 whether or not the email is known: the mail goes out in the background and
 * the known path only adds a token signature (HMAC) and a template render to the same lookup, so
 * neither the answer nor its timing tells which addresses have accounts. Confirms check the token
 * (signature with the record's current tokenKey, type, collection), then write through the records
 * service as the server itself (no API rule applies, as in PocketBase), so field validation,
 * password hashing and tokenKey rotation are the records layer's. A confirm that changes the
 * password or email re-checks its token under a per-record lock in the writing transaction: two
 * concurrent uses of one token cannot both succeed; the same transaction drops the record's pending
 * OTPs and MFA steps.
 */
export class MailFlows {
  readonly #auth: AuthService
  readonly #verificationSent = new ResendThrottle()
  readonly #resetSent = new ResendThrottle()
  readonly #emailChanges = new FixedWindowCounter(MAX_THROTTLE_KEYS)

  constructor(auth: AuthService) {
    this.#auth = auth
  }

  /** What token checks read; `deps` is set after this object is built (AuthService's field). */
  get #lookup(): TokenLookup {
    return {
      collections: this.#auth.deps.collections,
      findById: (c, id, ex) => this.#auth.findById(c, id, ex),
    }
  }

  async requestVerification(c: AuthCollection, body: unknown): Promise<void> {
    if (c.name === SUPERUSERS) throw badRequest('All superusers are verified by default.')
    const row = await this.#recordByEmail(c, body)
    if (!row || isVerified(row) || !this.#verificationSent.take(throttleKey(c, row))) return
    await this.#send(c, row, 'verification', c.verificationTemplate, row.email)
  }

  async confirmVerification(c: AuthCollection, body: unknown): Promise<void> {
    const { token } = readForm(body, ['token'])
    const found = await this.#tokenRecord(c, token, 'verification')
    if (!isTokenRecord(found)) throw badRequest(VALIDATION_ERROR, { token: found })
    if (isVerified(found.row)) return
    if (c.passwordAuth.enabled) return this.#save(c, found.row, { verified: true })
    // As PocketBase (§8.10): with password auth off, a password set before the address was proven
    // (by whoever registered it) must not be usable once password auth is turned on. The new
    // password rotates tokenKey, so this token is then spent.
    const password = randomPassword(c)
    await this.#saveWithToken(c, token, 'verification', () => ({
      verified: true,
      password,
      passwordConfirm: password,
    }))
  }

  async requestPasswordReset(c: AuthCollection, body: unknown): Promise<void> {
    if (!c.passwordAuth.enabled)
      throw badRequest('The collection is not configured to allow password authentication.')
    const row = await this.#recordByEmail(c, body)
    if (!row || !this.#resetSent.take(throttleKey(c, row))) return
    await this.#send(c, row, 'passwordReset', c.resetPasswordTemplate, row.email)
  }

  async confirmPasswordReset(c: AuthCollection, body: unknown): Promise<void> {
    const form = readForm(body, ['token', 'password', 'passwordConfirm'])
    const errors = new ValidationErrors()
    checkPassword(form.password, errors, 'password')
    if (form.passwordConfirm === '') errors.add(['passwordConfirm'], cannotBeBlank())
    const found = await this.#tokenRecord(c, form.token, 'passwordReset')
    if (!isTokenRecord(found)) errors.add(['token'], found)
    errors.throwIfAny(VALIDATION_ERROR)
    // The new password rotates tokenKey: every auth token and this reset token stop working.
    const row = await this.#saveWithToken(c, form.token, 'passwordReset', ({ row, claims }) => ({
      password: form.password,
      passwordConfirm: form.passwordConfirm,
      // Whoever reads mail at the record's address proved it, unless the email changed since.
      ...(!isVerified(row) && claims.email === row.email ? { verified: true } : {}),
    }))
    this.#resetSent.forget(throttleKey(c, row))
  }

  async requestEmailChange(c: AuthCollection, actor: Actor | undefined, body: unknown): Promise<void> {
    if (!actor) throw unauthorized()
    if (actor.collection.id !== c.id)
      throw forbidden(`The request requires auth record from ${c.name} collection.`)
    if (c.name === SUPERUSERS) throw badRequest('All superusers can change their emails directly.')
    const { newEmail } = readForm(body, ['newEmail'])
    const errors = new ValidationErrors()
    checkEmail(c, newEmail, errors, 'newEmail')
    const row = actor.record
    if (errors.empty && newEmail === row.email)
      errors.add(
        ['newEmail'],
        fieldError('validation_not_in_invalid', 'The new email must be different from the old one.'),
      )
    // Each request may mail any address, and tells whether an address is taken: bounded per record.
    if (errors.empty && !this.#emailChanges.take(throttleKey(c, row), EMAIL_CHANGE_LIMIT))
      throw new GalleyError('RATE_LIMITED')
    if (errors.empty && (await this.#emailTaken(c, newEmail, row)))
      errors.add(['newEmail'], fieldError('validation_invalid_new_email', 'Invalid new email address.'))
    errors.throwIfAny(VALIDATION_ERROR)
    await this.#send(c, row, 'emailChange', c.confirmEmailChangeTemplate, newEmail, { newEmail })
  }

  async confirmEmailChange(c: AuthCollection, body: unknown): Promise<void> {
    const form = readForm(body, ['token', 'password'])
    const errors = new ValidationErrors()
    checkPassword(form.password, errors, 'password')
    const tokenRecord = await this.#tokenRecord(c, form.token, 'emailChange')
    const found = isTokenRecord(tokenRecord) ? tokenRecord : undefined
    if (!found) errors.add(['token'], tokenRecord as FieldError)
    const newEmail = typeof found?.claims.newEmail === 'string' ? found.claims.newEmail : ''
    if (found && newEmail === '')
      errors.add(['token'], fieldError('validation_invalid_token_claims', 'Missing newEmail token claim.'))
    else if (found && (await this.#emailTaken(c, newEmail, found.row)))
      errors.add(['token'], emailTakenError())
    // The current password is the re-authentication an email change needs (checked last: hashing).
    if (found && errors.empty) {
      if (!(await verifyPassword(String(found.row.password ?? ''), form.password)))
        errors.add(['password'], invalidPasswordError())
    } else if (form.password !== '' && !errors.data.password) {
      // As PocketBase: without a usable token there is no password to match (no hashing spent).
      errors.add(['password'], invalidPasswordError())
    }
    errors.throwIfAny(VALIDATION_ERROR)
    try {
      await this.#saveWithToken(c, form.token, 'emailChange', () => ({ email: newEmail, verified: true }))
    } catch (err) {
      const data = isGalleyError(err) ? (err.data.email as FieldError | undefined) : undefined
      if (data?.code === 'validation_not_unique')
        throw badRequest(VALIDATION_ERROR, { token: emailTakenError() }, err)
      throw err
    }
  }

  /** `POST /api/settings/test/email` (§13.2): sends now and reports any failure. */
  sendTestEmail(body: unknown): Promise<void> {
    return sendTestEmail(this.#auth.deps, body)
  }

  /** The record a request form's `email` names, after validating it; undefined when none. */
  async #recordByEmail(c: AuthCollection, body: unknown): Promise<RecordRow | undefined> {
    const { email } = readForm(body, ['email'])
    const errors = new ValidationErrors()
    checkEmail(c, email, errors, 'email')
    errors.throwIfAny(VALIDATION_ERROR)
    return this.#auth.findByIdentity(c, 'email', email)
  }

  async #emailTaken(c: AuthCollection, email: string, self: RecordRow): Promise<boolean> {
    const other = await this.#auth.findByIdentity(c, 'email', email)
    return other !== undefined && other.id !== self.id
  }

  /** Signs the token and renders the mail on the response path (cheap); sending is background work. */
  async #send(
    c: AuthCollection,
    row: RecordRow,
    type: MailTokenType,
    template: MailTemplate,
    to: unknown,
    extra: Record<string, string> = {},
  ): Promise<void> {
    const token = await signMailToken(c, row, type, extra)
    const { mail, database } = this.#auth.deps
    const record = recordToJSON(database.dialect, c, row, { showEmail: true })
    mail.sendInBackground(MAIL_KINDS[type], mail.render(template, String(to), { token, record }))
  }

  /**
   * The record `token` stands for, or the `data.token` problem: blank, invalid (§8.1 checks), another
   * collection's, and for verification a missing or different email claim.
   */
  async #tokenRecord(
    c: AuthCollection,
    token: string,
    type: MailTokenType,
  ): Promise<TokenRecord | FieldError> {
    if (token === '') return cannotBeBlank()
    const found = await recordForToken(this.#lookup, c, token, type)
    if (!isTokenRecord(found) || type !== 'verification') return found
    const email = found.claims.email
    if (typeof email !== 'string' || email === '')
      return fieldError('validation_invalid_token_claims', 'Missing email token claim.')
    if (email !== found.row.email)
      return fieldError(
        'validation_token_email_mismatch',
        "The record email doesn't match with the requested token claims.",
      )
    return found
  }

  /**
   * Under a lock on the record, re-checks `token` against the record as it now stands (a concurrent
   * confirm may have rotated its tokenKey) and saves what `changes` computes from it, in one
   * transaction that also drops the record's pending OTPs and MFA steps (every such change is a
   * new password or email). Returns the record as it was before.
   */
  async #saveWithToken(
    c: AuthCollection,
    token: string,
    type: MailTokenType,
    changes: (found: TokenRecord) => Record<string, unknown>,
  ): Promise<RecordRow> {
    const { database, records } = this.#auth.deps
    // the write is announced (realtime) once the transaction has committed
    return records.transaction(async (trx, committed) => {
      await database.dialect.lockKey(trx, `mail-token:${c.id}/${peekClaims(token)?.id ?? ''}`)
      const found = await recordForToken(this.#lookup, c, token, type, trx)
      if (!isTokenRecord(found)) throw badRequest(VALIDATION_ERROR, { token: found })
      await this.#save(c, found.row, changes(found), trx, committed)
      await discardPendingFactors(trx, c, String(found.row.id))
      return found.row
    })
  }

  /**
   * Saves `body` on the record through the records service as the server (superuser context: no
   * rule, email and verified writable); its validation errors come back in the flow's message.
   */
  async #save(
    c: AuthCollection,
    row: RecordRow,
    body: Record<string, unknown>,
    trx?: Parameters<AuthService['findById']>[2],
    committed?: RecordChange[],
  ): Promise<void> {
    const { records, collections } = this.#auth.deps
    const request: RequestContext = {
      auth: { collection: collections.get(SUPERUSERS), record: {} },
      method: 'PATCH',
      headers: {},
      query: {},
      body: {},
      context: 'default',
    }
    try {
      await records.update(c, String(row.id), body, request, { executor: trx, changes: committed })
    } catch (err) {
      if (isGalleyError(err) && err.status === 400 && Object.keys(err.data).length > 0)
        throw badRequest(VALIDATION_ERROR, err.data as ErrorData, err)
      throw err
    }
  }
}

const MAIL_KINDS: Record<MailTokenType, MailKind> = {
  verification: 'verification',
  passwordReset: 'password-reset',
  emailChange: 'email-change',
}

/** A random password of 30 characters, or as many as the collection's password field bounds allow. */
function randomPassword(c: AuthCollection): string {
  const f = findField(c, 'password')
  const min = Number(f?.min ?? 0)
  const max = Number(f?.max ?? 0)
  return randomString(Math.max(min, max > 0 ? Math.min(30, max) : 30))
}

const emailTakenError = () =>
  fieldError('validation_invalid_token_email', 'The new email address is already in use.')
const invalidPasswordError = () =>
  fieldError('validation_invalid_password', 'Missing or invalid auth record password.')

import { sql } from 'kysely'
import type { Logger } from 'pino'
import type { Database, Executor } from '../db/index.js'
import {
  ALPHANUMERIC,
  fieldError,
  forbidden,
  GalleyError,
  isJsonObject,
  notFound,
  randomString,
  unauthorized,
  ValidationErrors,
} from '../lib/index.js'
import { ruleCondition, type RequestContext, type RequestContextName, type RuleEnv } from '../rules/index.js'
import { recordToJSON, type RecordJSON, type RecordRow, type RecordService } from '../records/index.js'
import { isAuthCollection, type AuthCollection, type CollectionService } from '../schema/index.js'
import type { SettingsService } from '../settings/index.js'
import type { MailService } from '../mail/index.js'
import type { Actor } from './actor.js'
import { recordAuthOrigin } from './auth-alert.js'
import { MailFlows } from './mail-flows.js'
import { AuthSweeper } from './auth-sweep.js'
import { mfaEnabled, mfaRequired, requireMfa } from './mfa.js'
import { OtpFlow } from './otp.js'
import { OAuth2Flow } from './oauth2/oauth2-flow.js'
import { verifyDummyPassword, verifyPassword } from './password.js'
import { peekClaims, signToken, verifyToken } from './tokens.js'

/** What an auth request adds to the sign-in: `?expand=`, the request it came with and its client. */
export interface AuthOptions {
  readonly expand?: string | undefined
  readonly request?: RequestContext | undefined
  /** The client's address (trusted-proxy aware) and user agent: login alerts, rate limits. */
  readonly client?: ClientInfo | undefined
  /** The first step's `_mfas` id when this sign-in is an MFA second step (§8.6). */
  readonly mfaId?: string | undefined
}

export interface ClientInfo {
  readonly ip: string
  readonly userAgent: string
}

/** The sign-in methods of §8.6, as `_mfas.method` and `@request.context` name them. */
export type SignInMethod = 'password' | 'otp' | 'oauth2'

export interface AuthResponse {
  readonly token: string
  readonly record: RecordJSON
  /** OAuth2 only (§8.8). */
  readonly meta?: Record<string, unknown>
}

/** The services auth builds on; `app.ts` wires them. */
export interface AuthDeps {
  readonly database: Database
  readonly collections: CollectionService
  readonly records: RecordService
  readonly settings: SettingsService
  readonly mail: MailService
  readonly logger: Logger
}

/** Longest identity or password accepted before any lookup or hashing. */
const MAX_CREDENTIAL_LENGTH = 1024

/**
 * Sign-in with password, token issue/verify and refresh for every auth collection (§8). The auth
 * issue extends this service with OTP, MFA, OAuth2 and the mail flows.
 */
export class AuthService {
  /** The services the flows use; the flow modules (OTP, MFA, OAuth2, mail flows) receive them too. */
  readonly deps: AuthDeps
  /** OAuth2 sign-in: auth methods and the code exchange (§8.4, §8.8). */
  readonly oauth2 = new OAuth2Flow(this)
  /** Verification, password reset, email change and the test email (§8.10, §13.2). */
  readonly mailFlows = new MailFlows(this)
  /** Email one-time passwords (§8.7); the expired OTP/MFA rows' sweep (app.ts starts it). */
  readonly otp = new OtpFlow(this)
  readonly sweeper = new AuthSweeper(this)
  readonly #database: Database
  readonly #collections: CollectionService
  readonly #records: RecordService

  constructor(deps: AuthDeps) {
    this.deps = deps
    this.#database = deps.database
    this.#collections = deps.collections
    this.#records = deps.records
  }

  /**
   * The auth collection `{c}` of an auth route, or PocketBase's 404s: an unknown collection is
   * refused by its collection middleware before the handler, which refuses a non-auth one.
   */
  authCollection(idOrName: string): AuthCollection {
    const c = this.#collections.find(idOrName)
    if (!c) throw notFound('Missing or invalid collection context.')
    if (!isAuthCollection(c)) throw notFound('Missing or invalid auth collection context.')
    return c
  }

  async findById(
    c: AuthCollection,
    id: string,
    ex: Executor = this.#database.db,
  ): Promise<RecordRow | undefined> {
    // No stored text holds a NUL (writes refuse it) and PostgreSQL refuses it as a parameter.
    if (id.includes('\0')) return undefined
    return (await ex.selectFrom(c.name).selectAll().where('id', '=', id).executeTakeFirst()) as
      RecordRow | undefined
  }

  /** Identity lookup; email matches case-insensitively, other identity fields exactly. */
  async findByIdentity(c: AuthCollection, field: string, value: string): Promise<RecordRow | undefined> {
    if (value.includes('\0')) return undefined
    const q = this.#database.db.selectFrom(c.name).selectAll()
    const row =
      field === 'email'
        ? await q.where(sql`lower(${sql.ref('email')})`, '=', value.toLowerCase()).executeTakeFirst()
        : await q.where(field, '=', value).executeTakeFirst()
    return row as RecordRow | undefined
  }

  async authWithPassword(c: AuthCollection, body: unknown, opts: AuthOptions = {}): Promise<AuthResponse> {
    if (!c.passwordAuth?.enabled)
      throw forbidden('The collection is not configured to allow password authentication.')
    const input = isJsonObject(body) ? body : {}
    const errors = new ValidationErrors()
    const identity = input.identity
    const password = input.password
    if (typeof identity !== 'string' || identity === '' || identity.length > MAX_CREDENTIAL_LENGTH)
      errors.add(['identity'], fieldError('validation_required', 'Cannot be blank.'))
    if (typeof password !== 'string' || password === '' || password.length > MAX_CREDENTIAL_LENGTH)
      errors.add(['password'], fieldError('validation_required', 'Cannot be blank.'))
    const identityFields = c.passwordAuth.identityFields
    const requested = input.identityField
    if (requested !== undefined && (typeof requested !== 'string' || !identityFields.includes(requested)))
      errors.add(['identityField'], fieldError('validation_in_invalid', 'Must be a valid value.'))
    errors.throwIfAny('An error occurred while validating the submitted data.')

    const fields = typeof requested === 'string' ? [requested] : identityFields
    let row: RecordRow | undefined
    for (const field of fields) {
      row = await this.findByIdentity(c, field, identity as string)
      if (row) break
    }
    const ok = row
      ? await verifyPassword(String(row.password ?? ''), password as string)
      : await verifyDummyPassword(password as string)
    if (!row || !ok) throw new GalleyError('AUTH_FAILED')
    return this.signIn(c, row, 'password', opts)
  }

  /**
   * auth-refresh (§8.9): a new token, or for a non-refreshable (impersonation) token the same token
   * with the record read again (PocketBase v0.29+). `authorization` is the request's header.
   */
  async refresh(
    c: AuthCollection,
    actor: Actor | undefined,
    opts: AuthOptions = {},
    authorization?: string,
  ): Promise<AuthResponse> {
    if (!actor) throw unauthorized()
    if (actor.collection.id !== c.id)
      throw forbidden(`The request requires auth record from ${actor.collection.name} collection.`)
    if (actor.refreshable) return this.#authResponse(c, actor.record, opts)
    const token = bearerToken(authorization)
    if (!token) throw unauthorized()
    if (!(await this.#satisfiesAuthRule(c, actor.record))) throw authRuleForbidden()
    return this.authResponseWithToken(c, actor.record, token, opts)
  }

  /**
   * The last step of every sign-in method (§8.2): authRule, then MFA (§8.6), then the response.
   * Password, OTP and OAuth2 all end here, so none of them can skip a check.
   */
  async signIn(
    c: AuthCollection,
    row: RecordRow,
    method: SignInMethod,
    opts: AuthOptions = {},
    meta?: Record<string, unknown>,
  ): Promise<AuthResponse> {
    if (mfaEnabled(c)) {
      // authRule first (403), then MFA (§8.6): a first step answers 401 {"mfaId"} instead of a token.
      if (!(await this.#satisfiesAuthRule(c, row))) throw authRuleForbidden()
      const matches = (rule: string) => this.#satisfiesAuthRule(c, row, rule, method)
      await requireMfa(this.deps, c, row, { method, mfaId: opts.mfaId, matches })
    }
    const response = await this.#authResponse(c, row, opts)
    // Login alert (§8.11) once the sign-in succeeded; it never fails it.
    await recordAuthOrigin(this.deps, c, row, opts.client)
    return meta ? { ...response, meta } : response
  }

  /**
   * Whether signing `row` in with `method` needs a second factor, decided as `signIn` decides it
   * (§8.6); `ex` reads the record inside a transaction that changed it.
   */
  needsSecondFactor(c: AuthCollection, row: RecordRow, method: SignInMethod, ex?: Executor) {
    return mfaRequired(c, (rule) => this.#satisfiesAuthRule(c, row, rule, method, ex))
  }

  async #authResponse(c: AuthCollection, row: RecordRow, opts: AuthOptions): Promise<AuthResponse> {
    if (!(await this.#satisfiesAuthRule(c, row))) throw authRuleForbidden()
    return this.authResponseWithToken(c, row, await this.issueAuthToken(c, row, true), opts)
  }

  /** The auth response (§8.2) for `row` with `token`, `?expand=` applied; the caller did the checks. */
  async authResponseWithToken(
    c: AuthCollection,
    row: RecordRow,
    token: string,
    opts: AuthOptions,
  ): Promise<AuthResponse> {
    const record = recordToJSON(this.#database.dialect, c, row, { showEmail: true })
    if (opts.expand && opts.request) {
      // As in PocketBase, relations are expanded with the signed-in record as the requester.
      const request = { ...opts.request, auth: { collection: c, record: row } }
      await this.#records.expandRecord(c, record, request, opts.expand)
    }
    return { token, record }
  }

  /**
   * authRule (§7.1): null = nobody, "" = anyone, else a rule over the record, as `@request.auth` too.
   * Also the MFA rule (`rule`), with `@request.context` = the sign-in method.
   */
  async #satisfiesAuthRule(
    c: AuthCollection,
    row: RecordRow,
    rule: string | null = c.authRule,
    context: RequestContextName = 'password',
    ex: Executor = this.#database.db,
  ): Promise<boolean> {
    const env: RuleEnv = {
      findCollection: (x) => this.#collections.find(x),
      dialect: this.#database.dialect,
      request: {
        auth: { collection: c, record: row },
        method: 'POST',
        headers: {},
        query: {},
        body: {},
        context,
      },
    }
    const cond = ruleCondition(rule, c, env)
    if (cond === 'superusers') return false
    if (cond === 'anyone') return true
    const ok = await ex
      .selectFrom(c.name)
      .select(sql`1`.as('ok'))
      .where(`${c.name}.id`, '=', String(row.id))
      .where(cond)
      .executeTakeFirst()
    return ok !== undefined
  }

  async issueAuthToken(
    c: AuthCollection,
    row: RecordRow,
    refreshable: boolean,
    duration?: number,
  ): Promise<string> {
    return signToken(
      { id: String(row.id), collectionId: c.id, type: 'auth', refreshable },
      String(row.tokenKey) + c.authToken.secret,
      duration ?? c.authToken.duration,
    )
  }

  /**
   * A file token (§10.2) for the signed-in record: type `file`, signed with its tokenKey and the
   * collection's fileToken secret, living fileToken.duration seconds.
   */
  async issueFileToken(actor: Actor): Promise<string> {
    const c = actor.collection
    return signToken(
      { id: String(actor.record.id), collectionId: c.id, type: 'file' },
      String(actor.record.tokenKey) + c.fileToken.secret,
      c.fileToken.duration,
    )
  }

  /** The record a file token (`?token=`) stands for; undefined for any invalid, expired or revoked one. */
  async resolveFileToken(token: string | undefined): Promise<Actor | undefined> {
    if (!token || token.length > MAX_TOKEN_LENGTH) return undefined
    return this.#resolveToken(token, 'file')
  }

  /** The actor a token stands for; undefined (a guest) for any invalid, expired or revoked token. */
  async resolveActor(header: string | undefined): Promise<Actor | undefined> {
    const token = bearerToken(header)
    if (!token) return undefined
    return this.#resolveToken(token, 'auth')
  }

  async #resolveToken(token: string, type: 'auth' | 'file'): Promise<Actor | undefined> {
    const claims = peekClaims(token)
    if (!claims || claims.type !== type) return undefined
    const c = this.#collections.find(claims.collectionId)
    if (!c || !isAuthCollection(c) || c.id !== claims.collectionId) return undefined
    const row = await this.findById(c, claims.id)
    if (!row) return undefined
    const secret = type === 'auth' ? c.authToken.secret : c.fileToken.secret
    const verified = await verifyToken(token, String(row.tokenKey) + secret, type)
    if (!verified || verified.id !== row.id) return undefined
    return { collection: c, record: row, refreshable: verified.refreshable !== false }
  }
}

export const newTokenKey = (): string => randomString(50, ALPHANUMERIC)

/** Longest token read from an Authorization header; longer ones are a guest. */
const MAX_TOKEN_LENGTH = 8192

/** The token of an `Authorization` header (`Bearer` optional, as PocketBase); undefined if none. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined
  const token = header.replace(/^bearer\s+/i, '').trim()
  return token === '' || token.length > MAX_TOKEN_LENGTH ? undefined : token
}

const authRuleForbidden = () =>
  forbidden("The request doesn't satisfy the collection requirements to authenticate.")

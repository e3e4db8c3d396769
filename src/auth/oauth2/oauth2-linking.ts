import { sql } from 'kysely'
import type { Executor } from '../../db/index.js'
import {
  ALPHANUMERIC,
  badRequest,
  GalleyError,
  nowDateTime,
  newRecordId,
  randomString,
} from '../../lib/index.js'
import type { RecordChange, RecordRow } from '../../records/index.js'
import type { RequestContext } from '../../rules/index.js'
import { columnKind, FIELD_TYPES, findField, type AuthCollection } from '../../schema/index.js'
import type { AuthDeps } from '../auth-service.js'
import { discardPendingFactors } from '../otp.js'
import { hashPassword } from '../password.js'
import type { OAuth2User } from './oauth2-user.js'

export const EXTERNAL_AUTHS = '_externalAuths'

/** createData keys a client can never set through OAuth2: the password and verification state are the server's. */
const RESERVED_CREATE_KEYS = new Set(['password', 'passwordConfirm', 'oldPassword', 'verified', 'tokenKey'])

export interface LinkInput {
  readonly provider: string
  readonly user: OAuth2User
  /** The request, `context` "oauth2"; `auth` is whoever sent a token. */
  readonly request: RequestContext
  readonly createData: Record<string, unknown>
}

export interface LinkResult {
  readonly row: RecordRow
  readonly isNew: boolean
}

const isTrue = (v: unknown) => v === true || v === 1
const sameEmail = (a: unknown, b: string) =>
  typeof a === 'string' && a !== '' && b !== '' && a.toLowerCase() === b.toLowerCase()

/**
 * Finds, links or creates the record an OAuth2 identity signs in as (§8.8), in one transaction:
 * 1. the `_externalAuths` link of (collection, provider, provider id);
 * 2. the record of this collection the request is signed in as;
 * 3. the record whose email is the provider's *verified* email (never an unverified one, never
 *    `createData.email`);
 * 4. a new record through the records service (createRule, `@request.context` "oauth2").
 * Then the link is created if missing. An unverified record reached by its email (3) gets a
 * random password, a new tokenKey (every session ends) and loses its links to other identities, so
 * whoever registered the address before its owner keeps no way in (CVE-2024-38351,
 * CVE-2026-44166); its pending OTPs and MFA steps are dropped too. A record reached by its own link (1) or its own token (2) keeps its password:
 * its owner linked that identity while signed in.
 */
export async function linkOrCreate(
  deps: AuthDeps,
  c: AuthCollection,
  input: LinkInput,
  findById: (id: string, ex: Executor) => Promise<RecordRow | undefined>,
): Promise<LinkResult> {
  const { provider, user, request } = input
  // Hashing is slow: done before the transaction, so SQLite's write lock is not held meanwhile.
  const randomHash = await hashPassword(randomString(30))
  // its record writes are announced (realtime) once it has committed
  return deps.records.transaction(async (trx, changes) => {
    let row: RecordRow | undefined
    let byEmail = false
    let isNew = false
    const link = await trx
      .selectFrom(EXTERNAL_AUTHS)
      .select(['id', 'recordRef'])
      .where('collectionRef', '=', c.id)
      .where('provider', '=', provider)
      .where('providerId', '=', user.id)
      .executeTakeFirst()
    if (link) {
      row = await findById(String(link.recordRef), trx)
      // a link whose record is gone is stale
      if (!row) await trx.deleteFrom(EXTERNAL_AUTHS).where('id', '=', String(link.id)).execute()
    }
    const signedIn = request.auth?.collection.id === c.id ? request.auth.record : undefined
    if (!row && signedIn) row = await findById(String(signedIn.id), trx)
    if (!row && user.email !== '') {
      byEmail = true
      row = (await trx
        .selectFrom(c.name)
        .selectAll()
        .where(sql`lower(${sql.ref('email')})`, '=', user.email.toLowerCase())
        .executeTakeFirst()) as RecordRow | undefined
    }

    if (row) {
      const before = row
      row = await secureExisting(deps, trx, c, row, input, byEmail, randomHash)
      if (row !== before) changes.push({ collection: c, action: 'update', row })
    } else {
      row = await createRecord(deps, trx, c, input, findById, changes)
      isNew = true
    }

    if (!link || link.recordRef !== row.id) {
      const now = nowDateTime()
      try {
        await trx
          .insertInto(EXTERNAL_AUTHS)
          .values({
            id: newRecordId(),
            collectionRef: c.id,
            recordRef: String(row.id),
            provider,
            providerId: user.id,
            created: now,
            updated: now,
          })
          .execute()
      } catch (err) {
        // the record is already linked to another identity of this provider
        if (deps.database.dialect.classifyError(err).kind === 'unique')
          throw new GalleyError('AUTH_FAILED', undefined, undefined, { cause: err })
        throw err
      }
    }
    return { row, isNew }
  })
}

/** Steps 1–3's record, made safe to hand to this identity (see `linkOrCreate`). */
async function secureExisting(
  deps: AuthDeps,
  trx: Executor,
  c: AuthCollection,
  row: RecordRow,
  input: LinkInput,
  byEmail: boolean,
  randomHash: string,
): Promise<RecordRow> {
  const d = deps.database.dialect
  const { user, provider } = input
  const set: Record<string, unknown> = {}
  const verified = isTrue(d.decode('bool', row.verified))
  if (byEmail && !verified && typeof row.email === 'string' && row.email !== '') {
    set.password = randomHash
    set.tokenKey = randomString(50, ALPHANUMERIC)
    await trx
      .deleteFrom(EXTERNAL_AUTHS)
      .where('collectionRef', '=', c.id)
      .where('recordRef', '=', String(row.id))
      .where((eb) => eb.or([eb('provider', '!=', provider), eb('providerId', '!=', user.id)]))
      .execute()
  }
  let email = typeof row.email === 'string' ? row.email : ''
  if (email === '' && user.email !== '') {
    const taken = await trx
      .selectFrom(c.name)
      .select('id')
      .where(sql`lower(${sql.ref('email')})`, '=', user.email.toLowerCase())
      .executeTakeFirst()
    if (!taken) {
      email = user.email
      set.email = email
      set.tokenKey ??= randomString(50, ALPHANUMERIC)
    }
  }
  if (!verified && sameEmail(email, user.email)) set.verified = d.encode('bool', true)
  if (Object.keys(set).length === 0) return row
  // A new password or email: codes and first steps obtained before it are void.
  if (set.tokenKey !== undefined) await discardPendingFactors(trx, c, String(row.id))
  if (findField(c, 'updated')?.type === 'autodate') set.updated = nowDateTime()
  const updated = await trx
    .updateTable(c.name)
    .set(set)
    .where('id', '=', String(row.id))
    .returningAll()
    .executeTakeFirst()
  return (updated as RecordRow | undefined) ?? row
}

/** Step 4: a new record through the records service, as a client's create would be. */
async function createRecord(
  deps: AuthDeps,
  trx: Executor,
  c: AuthCollection,
  input: LinkInput,
  findById: (id: string, ex: Executor) => Promise<RecordRow | undefined>,
  changes: RecordChange[],
): Promise<RecordRow> {
  const { user } = input
  const body: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(input.createData)) if (!RESERVED_CREATE_KEYS.has(k)) body[k] = v
  if (typeof body.email !== 'string' || body.email === '') body.email = user.email
  const mapped = c.oauth2.mappedFields
  const put = (fieldName: string, value: string) => {
    if (fieldName !== '' && value !== '' && !(fieldName in body)) body[fieldName] = value
  }
  put(mapped.id, user.id)
  put(mapped.name, user.name)
  if (mapped.username && user.username && (await usernameUsable(trx, c, mapped.username, user.username)))
    put(mapped.username, user.username)
  if (mapped.avatarURL && user.avatarURL) {
    const f = findField(c, mapped.avatarURL)
    if (f?.type === 'file')
      deps.logger.debug(
        { collection: c.name, field: f.name },
        'oauth2: avatar not stored (file fields cannot be filled before file uploads exist)',
      )
    else put(mapped.avatarURL, user.avatarURL)
  }
  const password = randomString(30)
  body.password = password
  body.passwordConfirm = password
  const json = await deps.records.create(
    c,
    body,
    { ...input.request, method: 'POST', body: {}, context: 'oauth2' },
    { executor: trx, changes },
  )
  let row = await findById(String(json.id), trx)
  if (!row) throw badRequest('Failed to create record.')
  // Verified only when the stored address is the one the provider verified (CVE-2026-44166).
  if (sameEmail(row.email, user.email)) {
    const updated = await trx
      .updateTable(c.name)
      .set({ verified: deps.database.dialect.encode('bool', true) })
      .where('id', '=', String(row.id))
      .returningAll()
      .executeTakeFirst()
    row = (updated as RecordRow | undefined) ?? row
    changes.push({ collection: c, action: 'update', row })
  }
  return row
}

/** A mapped username is used only when the field accepts it and no record has it yet. */
async function usernameUsable(
  trx: Executor,
  c: AuthCollection,
  fieldName: string,
  value: string,
): Promise<boolean> {
  const f = findField(c, fieldName)
  const ft = f && FIELD_TYPES.get(f.type)
  if (!f || !ft) return false
  if (ft.validateValue(f, ft.prepareValue(f, value), { collection: c, isNew: true })) return false
  if (columnKind(f) !== 'text') return false
  // unique ignoring case: a NOCASE index would refuse the create otherwise
  const taken = await trx
    .selectFrom(c.name)
    .select('id')
    .where(sql`lower(${sql.ref(f.name)})`, '=', value.toLowerCase())
    .executeTakeFirst()
  return !taken
}

import { sql, type CompiledQuery } from 'kysely'
import type { CompiledWrites, Database, Executor, GalleyDialect } from '../db/index.js'
import { FilterError } from '../filter/index.js'
import {
  GalleyError,
  badRequest,
  fieldError,
  notFound,
  nowDateTime,
  ValidationErrors,
  type Json,
} from '../lib/index.js'
import { ruleCondition, type RuleEnv } from '../rules/index.js'
import {
  columnKind,
  DEFAULT_ID_PATTERN,
  FIELD_TYPES,
  parseBodyKey,
  type Collection,
  type CollectionService,
  type Field,
  type FieldType,
} from '../schema/index.js'
import { isSuperuserRequest } from './request.js'
import type { RecordRow } from './serialize.js'
import { detectMimeType, fileKey, normalizeFileName, STORED_NAME, Upload, type FileStore } from './uploads.js'

/** Default `maxSize` of a file field (0 → 5 MiB, §6.3). */
export const DEFAULT_FILE_MAX_SIZE = 5 * 1024 * 1024

/** The most bytes a file of `f` may have. */
export const fileMaxSize = (f: Field): number =>
  Number(f.maxSize) > 0 ? Number(f.maxSize) : DEFAULT_FILE_MAX_SIZE

/**
 * The files a write touches, for its transaction's owner: `written` keys are removed when the
 * transaction fails, `obsolete` keys and `obsoletePrefixes` (a deleted record's folder) only after
 * it commits.
 */
export interface FileChanges {
  readonly written: string[]
  readonly obsolete: string[]
  readonly obsoletePrefixes: string[]
  /** The store they are in (set by the first write, for a batch's writes to share). */
  store?: FileStore | undefined
}

export const newFileChanges = (): FileChanges => ({ written: [], obsolete: [], obsoletePrefixes: [] })

/** Password hashing is auth's; records receives it (auth sits above records in the layers). */
export interface PasswordHasher {
  hash(password: string): Promise<string>
  verify(hash: string, password: string): Promise<boolean>
}

export interface WriteDeps {
  readonly database: Database
  readonly collections: CollectionService
  readonly passwords: PasswordHasher
  readonly env: RuleEnv
  /** The record inserts and updates, compiled once per collection and shape. */
  readonly writes: CompiledWrites
  /** Turns a create's `INSERT … RETURNING` into the one statement that runs it (InlineCommitting). */
  readonly wrapInsert?: ((insert: CompiledQuery) => CompiledQuery) | undefined
  /** Where record files live; without it uploads are refused. */
  readonly files?: FileStore | undefined
  readonly fileChanges?: FileChanges | undefined
}

/** A record being written: the transaction, the collection, its resolved values and the rule environment. */
interface Written {
  readonly trx: Executor
  readonly deps: WriteDeps
  readonly c: Collection
  readonly isNew: boolean
  readonly values: Record<string, unknown>
  /** The request with `@request.body` = the resolved body. */
  readonly env: RuleEnv
}

/** Auth bookkeeping collections holding a record's pending second factors (§8.6, §8.7). */
const PENDING_FACTORS = ['_otps', '_mfas']

/** Keys of an auth form that are not fields. */
const AUTH_FORM_KEYS = new Set(['passwordConfirm', 'oldPassword'])

function fieldType(f: Field): FieldType {
  const ft = FIELD_TYPES.get(f.type)
  if (!ft) throw new Error(`unknown field type ${f.type}`)
  return ft
}

/**
 * Creates (`stored` undefined) or updates a record inside `trx` (§3.5, §3.6, §11): body keys resolved
 * shortest first with their modifiers, hidden fields dropped for non-superusers, the create/update
 * rule checked against the resolved values, the auth form checked (with manager access from the
 * manageRule, §7.4), every field validated, a new id checked beyond its primary key (§3.1),
 * relations checked, then written. Returns the stored row.
 */
export async function saveRecord(
  trx: Executor,
  deps: WriteDeps,
  c: Collection,
  stored: RecordRow | undefined,
  body: Json,
): Promise<RecordRow> {
  const isNew = stored === undefined
  const message = isNew ? 'Failed to create record.' : 'Failed to update record.'
  const d = deps.database.dialect
  const request = deps.env.request
  const su = isSuperuserRequest(request)
  const errors = new ValidationErrors()

  // The record as it stands: the stored values, or every field's zero value.
  const values: Record<string, unknown> = {}
  for (const f of c.fields) {
    // A stored password is a hash: it is never re-validated, so an unchanged one is `undefined`.
    if (stored && f.type === 'password') values[f.name] = undefined
    else values[f.name] = stored ? d.decode(columnKind(f), stored[f.name]) : fieldType(f).zeroValue(f)
  }

  // Uploads by the normalized name they get (§10.3, §10.4).
  const uploads = new Map<string, Upload>()
  const storedNames = new Map<string, Set<string>>()
  for (const f of c.fields) if (f.type === 'file') storedNames.set(f.name, new Set(fileList(values[f.name])))

  // Body keys, shortest first so `n` applies before `n+` (§11).
  const submitted = new Set<string>()
  const keys = Object.keys(body).sort((a, b) => a.length - b.length)
  for (const key of keys) {
    if (AUTH_FORM_KEYS.has(key) && c.type === 'auth') continue
    const { name, op } = parseBodyKey(key)
    const autogen = name.endsWith(':autogenerate')
    const fieldName = autogen ? name.slice(0, -':autogenerate'.length) : name
    const f = c.fields.find((x) => x.name === fieldName)
    if (!f || f.type === 'autodate') continue
    if (f.hidden && !su && !(c.type === 'auth' && f.name === 'password')) continue
    if (f.name === 'tokenKey' && !su) continue
    const ft = fieldType(f)
    let arg = body[key]
    if (f.type === 'file') arg = takeUploads(arg, op, uploads)
    else if (hasUpload(arg)) continue
    let next: unknown
    if (autogen) {
      if (!ft.autogenerate) continue
      next = `${typeof body[key] === 'string' ? (body[key] as string) : ''}${ft.autogenerate(f)}`
    } else if (op) {
      if (!ft.applyModifier) continue
      next = ft.applyModifier(f, values[f.name], op, arg)
      if (next === undefined) continue
    } else next = ft.prepareValue(f, arg)
    values[f.name] = next
    submitted.add(f.name)
  }

  const now = nowDateTime()
  if (isNew) {
    // Empty text fields with an autogenerate pattern get a value (the id, an auth tokenKey, ...).
    for (const f of c.fields) {
      const ft = fieldType(f)
      if (ft.autogenerate && f.autogeneratePattern && values[f.name] === '')
        values[f.name] = ft.autogenerate(f)
    }
  } else if (submitted.has('id') && values.id !== stored.id) {
    errors.add(['id'], fieldError('validation_pk_change', 'The record primary key cannot be changed.'))
    values.id = stored.id
  }
  for (const f of c.fields) {
    if (f.type !== 'autodate') continue
    if ((isNew && f.onCreate) || f.onUpdate) values[f.name] = now
  }

  // Rules see the resolved body under plain field names (§7.4); files are not part of it.
  const resolvedBody: Record<string, unknown> = {}
  for (const name of submitted) resolvedBody[name] = values[name]
  const env: RuleEnv = { ...deps.env, request: { ...request, body: resolvedBody } }
  const written: Written = { trx, deps, c, isNew, values, env }
  if (!su) await checkRule(written)

  // The auth form checks run after the rule and, when they fail, instead of the field validators.
  if (c.type === 'auth') {
    const manage = su || (await hasManageAccess(written))
    const authErrors = new ValidationErrors()
    await checkAuthForm(deps.passwords, stored, body, values, manage, authErrors)
    authErrors.throwIfAny(message)
  }

  const newId = isNew ? await lockNewId(trx, deps, c, String(values.id)) : undefined
  if (newId?.caseInsensitive && (await idTakenIgnoringCase(trx, c, newId.id)))
    errors.add(
      ['id'],
      fieldError('validation_pk_invalid', 'The record primary key is invalid or already exists.'),
    )
  for (const f of c.fields) {
    // PostgreSQL text and jsonb cannot hold a NUL character: refused on both databases alike.
    const err =
      submitted.has(f.name) && containsNul(values[f.name])
        ? fieldError('validation_nul_character', 'The NUL character is not allowed.')
        : fieldType(f).validateValue(f, values[f.name], { collection: c, isNew })
    if (err) errors.add([f.name], err)
    else if (f.type === 'file' && submitted.has(f.name)) {
      const fileErr = checkFiles(f, values[f.name], storedNames.get(f.name)!, uploads, !!deps.files)
      if (fileErr) errors.add([f.name], fileErr)
    }
  }
  await checkRelations(trx, deps, c, values, errors)
  errors.throwIfAny(message)
  // New files are stored before the row is written (the owner removes them if the transaction
  // fails); files no longer referenced go only after the commit.
  for (const f of c.fields) {
    if (f.type !== 'file' || !submitted.has(f.name)) continue
    const now = fileList(values[f.name])
    for (const name of now) {
      const upload = uploads.get(name)
      if (!upload || !deps.files) continue
      const key = fileKey(c.id, String(values.id), name)
      deps.fileChanges?.written.push(key)
      await deps.files.putFile(key, upload.tempPath)
    }
    for (const old of storedNames.get(f.name)!)
      if (!now.includes(old)) deps.fileChanges?.obsolete.push(fileKey(c.id, String(values.id), old))
  }
  if (newId?.acrossAuth) await checkAuthIdUnique(trx, deps, c, newId.id, message)

  // Passwords are stored hashed; a new password or email rotates tokenKey (revoking old tokens).
  const row: Record<string, unknown> = {}
  for (const f of c.fields) {
    if (!isNew && !submitted.has(f.name) && f.type !== 'autodate') continue
    let v = values[f.name]
    if (f.type === 'password') {
      if (!submitted.has(f.name)) {
        if (isNew) row[f.name] = ''
        continue
      }
      v = await deps.passwords.hash(String(v))
    }
    row[f.name] = d.encode(columnKind(f), v)
  }
  const tokenKey = c.fields.find((f) => f.name === 'tokenKey')
  const emailChanged = submitted.has('email') && values.email !== stored?.email
  if (tokenKey && !isNew && (submitted.has('password') || emailChanged))
    row.tokenKey = d.encode('text', fieldType(tokenKey).autogenerate?.(tokenKey))

  // The written row comes back from the write itself (RETURNING, on both databases): no second read.
  const columns = c.fields.map((f) => f.name)
  let saved: RecordRow | undefined
  try {
    if (isNew) saved = await deps.writes.insert(c, trx, c.name, row, columns, deps.wrapInsert)
    else if (Object.keys(row).length > 0)
      saved = await deps.writes.update(c, trx, c.name, row, String(stored.id), columns)
  } catch (err) {
    const kind = d.classifyError(err)
    if (kind.kind === 'unique') {
      const cols = kind.columns.length > 0 ? kind.columns : ['id']
      for (const col of cols) errors.add([col], fieldError('validation_not_unique', 'Value must be unique.'))
      throw badRequest(message, errors.data, err)
    }
    throw err
  }
  saved ??= await trx
    .selectFrom(c.name)
    .select(columns)
    .where('id', '=', String(values.id))
    .executeTakeFirst()
  if (!saved) throw notFound()
  // A new password or email ends the record's sessions; its pending OTPs and MFA steps end too.
  if (row.tokenKey !== undefined && !isNew)
    for (const name of PENDING_FACTORS) {
      if (!deps.collections.find(name)) continue
      await trx
        .deleteFrom(name)
        .where('collectionRef', '=', c.id)
        .where('recordRef', '=', String(saved.id))
        .execute()
    }
  return saved
}

/**
 * Whether creating a record of `c` runs exactly one statement, the INSERT … RETURNING: the create
 * rule needs no query (superuser, or `""`), no relation to check, no id check beyond the primary
 * key (default id pattern, not an auth collection). Such a create is atomic on its own and needs no
 * transaction around it; anything else reads before it writes and does.
 */
export function createIsOneStatement(c: Collection, su: boolean): boolean {
  if (c.type !== 'base' || (!su && c.createRule !== '')) return false
  return c.fields.every((f) => f.type !== 'relation' && (f.name !== 'id' || f.pattern === DEFAULT_ID_PATTERN))
}

/**
 * The rule gate on the resolved values: a failed create is a 400, a failed update 404; so is a rule
 * that no longer compiles (a field it names was removed from another collection), as in PocketBase.
 */
async function checkRule(w: Written): Promise<void> {
  const { c, isNew } = w
  const ok = await ruleHolds(w, isNew ? c.createRule : c.updateRule)
  if (ok === 'superusers') throw new GalleyError('SUPERUSER_ONLY')
  if (!ok) throw isNew ? badRequest('Failed to create record.') : notFound()
}

/**
 * Manager access (§3.6 step 5, §7.4): an authenticated non-superuser whose request satisfies the
 * auth collection's manageRule against the stored record (update) or the would-be record (create,
 * `verified` seen as false) may change `email` and `verified` and set a password without the old
 * one. Guests never manage; a manageRule that no longer compiles grants nothing.
 */
async function hasManageAccess(w: Written): Promise<boolean> {
  const { c } = w
  if (c.type !== 'auth' || !c.manageRule || w.env.request.auth === undefined) return false
  return (await ruleHolds(w, c.manageRule)) === true
}

/**
 * The name of the CTE holding a would-be record. It must not be the table's own name: the rule's
 * joins into the real table (`@request.auth.*` of a record of the same collection, self-relations,
 * `@collection.*`) would read the CTE instead. Collection names cannot contain `_via_`, so this
 * never names a table, even cut to PostgreSQL's 63 bytes.
 */
export const virtualRowName = (c: Collection): string => `_via_new_${c.name}`

/**
 * Whether `rule` holds for the record being written: update checks the stored record with
 * `@request.body` = the resolved body; create checks a virtual row, a CTE standing in for the
 * collection (its columns read the would-be record, `verified` false). 'superusers' for a null
 * rule; false for a rule that does not compile.
 */
async function ruleHolds(w: Written, rule: string | null): Promise<boolean | 'superusers'> {
  const { trx, c, values } = w
  const virtual = w.isNew ? virtualRowName(c) : undefined
  let cond
  try {
    cond = ruleCondition(rule, c, w.env, virtual)
  } catch (err) {
    if (err instanceof FilterError) return false
    throw err
  }
  if (cond === 'superusers') return cond
  if (cond === 'anyone') return true
  const d = w.deps.database.dialect
  if (virtual === undefined) {
    const ok = await trx
      .selectFrom(c.name)
      .select(sql`1`.as('ok'))
      .where('id', '=', String(values.id))
      .where(cond)
      .executeTakeFirst()
    return ok !== undefined
  }
  const columns = virtualRowColumns(d, c, c.type === 'auth' ? { ...values, verified: false } : values)
  const ok = await trx
    .with(virtual, (db) => db.selectNoFrom(columns))
    .selectFrom(virtual)
    .select(sql`1`.as('ok'))
    .where(cond)
    .executeTakeFirst()
  return ok !== undefined
}

/**
 * The columns of a row that is not stored, for `SELECT <columns>` in a CTE standing in for the
 * collection's table: each value (JSON form) bound as a parameter of its column's type.
 */
export function virtualRowColumns(
  d: GalleyDialect,
  c: Collection,
  values: Readonly<Record<string, unknown>>,
) {
  return c.fields.map((f) => {
    const kind = columnKind(f)
    const value = d.encode(kind, values[f.name])
    const type = d.parameterType(kind)
    // PostgreSQL's text columns are COLLATE "C": so must the image's be, or `title >= "m"` would
    // compare in the server's locale
    const collate = d.name === 'postgres' && kind === 'text' ? sql` COLLATE "C"` : sql``
    return (type ? sql`CAST(${value} AS ${sql.raw(type)})${collate}` : sql`${value}`).as(f.name)
  })
}

/** SQLite's `lower()` and `COLLATE NOCASE`, and PostgreSQL's `lower()` on `COLLATE "C"` text: ASCII only. */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase())
}

/**
 * The checks a new id needs beyond its primary key (§3.1): unique ignoring (ASCII) case within the
 * collection unless the id pattern is the default lower-case one (PocketBase's text field), and, in
 * auth collections, unused in every other auth collection. A check then a write is a race, so this
 * first takes a lock on the case-folded id: concurrent creates of the same id, in any collection,
 * run one after the other and the second sees the first.
 */
async function lockNewId(
  trx: Executor,
  deps: WriteDeps,
  c: Collection,
  id: string,
): Promise<{ id: string; caseInsensitive: boolean; acrossAuth: boolean } | undefined> {
  const pattern = c.fields.find((f) => f.name === 'id')?.pattern
  const caseInsensitive = pattern !== DEFAULT_ID_PATTERN
  const acrossAuth = c.type === 'auth'
  if (id === '' || (!caseInsensitive && !acrossAuth)) return undefined
  await deps.database.dialect.lockKey(trx, `record-id:${asciiLower(id)}`)
  return { id, caseInsensitive, acrossAuth }
}

/** `validation_pk_invalid`: a record of `c` has this id up to (ASCII) case, as PocketBase's `COLLATE NOCASE`. */
async function idTakenIgnoringCase(trx: Executor, c: Collection, id: string): Promise<boolean> {
  const found = await trx
    .selectFrom(c.name)
    .select(sql`1`.as('taken'))
    .where(sql`lower(${sql.ref('id')})`, '=', asciiLower(id))
    .limit(1)
    .executeTakeFirst()
  return found !== undefined
}

/** `validation_invalid_auth_id`: auth record ids are unique across all auth collections (§3.1). */
async function checkAuthIdUnique(
  trx: Executor,
  deps: WriteDeps,
  c: Collection,
  id: string,
  message: string,
): Promise<void> {
  for (const other of deps.collections.all()) {
    if (other.type !== 'auth' || other.id === c.id) continue
    const found = await trx.selectFrom(other.name).select('id').where('id', '=', id).executeTakeFirst()
    if (found)
      throw badRequest(message, {
        id: fieldError('validation_invalid_auth_id', 'Invalid or duplicated auth record id.'),
      })
  }
}

/** Every relation id must exist in its target collection (`validation_missing_rel_records`). */
async function checkRelations(
  trx: Executor,
  deps: WriteDeps,
  c: Collection,
  values: Record<string, unknown>,
  errors: ValidationErrors,
): Promise<void> {
  for (const f of c.fields) {
    if (f.type !== 'relation') continue
    const v = values[f.name]
    const ids = (Array.isArray(v) ? v : v ? [v] : []).map(String)
    if (ids.length === 0) continue
    const target = deps.collections.find(String(f.collectionId))
    if (!target) {
      errors.add(
        [f.name],
        fieldError('validation_missing_rel_collection', "The relation collection doesn't exist."),
      )
      continue
    }
    const found = await trx.selectFrom(target.name).select('id').where('id', 'in', ids).execute()
    if (found.length !== new Set(ids).size)
      errors.add(
        [f.name],
        fieldError(
          'validation_missing_rel_records',
          'Failed to find all relation records with the provided ids.',
        ),
      )
  }
}

/** A file field's value as a list of names. */
function fileList(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String)
  return typeof v === 'string' && v !== '' ? [v] : []
}

function hasUpload(v: unknown): boolean {
  return v instanceof Upload || (Array.isArray(v) && v.some((x) => x instanceof Upload))
}

/**
 * A file key's value with each upload replaced by its new normalized name (kept in `uploads`);
 * uploads under a `field-` key are ignored (it removes names).
 */
function takeUploads(raw: unknown, op: string | undefined, uploads: Map<string, Upload>): unknown {
  if (!hasUpload(raw)) return raw
  const items = Array.isArray(raw) ? raw : [raw]
  const out: unknown[] = []
  for (const item of items) {
    if (!(item instanceof Upload)) out.push(item)
    else if (op !== '-') {
      const name = normalizeFileName(item.originalName, item.head)
      uploads.set(name, item)
      out.push(name)
    }
  }
  return out
}

/**
 * A file field's new value (§10.4): every name is a stored one or a new upload
 * (`validation_invalid_file`), each upload within `maxSize` (`validation_file_size_limit`) and, with
 * `mimeTypes`, of an allowed type as its content shows (`validation_invalid_mime_type`).
 */
function checkFiles(
  f: Field,
  value: unknown,
  stored: ReadonlySet<string>,
  uploads: ReadonlyMap<string, Upload>,
  canStore: boolean,
): ReturnType<typeof fieldError> | undefined {
  const maxSize = fileMaxSize(f)
  const allowed = ((f.mimeTypes as string[] | null) ?? []).map((m) => m.toLowerCase())
  for (const name of fileList(value)) {
    const upload = uploads.get(name)
    if (!upload) {
      if (!stored.has(name))
        return fieldError('validation_invalid_file', `Invalid file ${JSON.stringify(name)}.`)
      continue
    }
    if (!canStore || !STORED_NAME.test(name))
      return fieldError('validation_invalid_file', 'File uploads are not accepted here.')
    if (upload.size > maxSize)
      return fieldError(
        'validation_file_size_limit',
        `Failed to upload ${JSON.stringify(upload.originalName)} - the maximum allowed file size is ${maxSize} bytes.`,
        { maxSize },
      )
    if (allowed.length > 0) {
      const type = detectMimeType(upload.head)
      if (!allowed.includes(type))
        return fieldError(
          'validation_invalid_mime_type',
          `Failed to upload ${JSON.stringify(upload.originalName)} due to unsupported file type.`,
        )
    }
  }
  return undefined
}

/** Whether a string, or any string or key inside a JSON value, holds U+0000. */
function containsNul(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('\0')
  if (Array.isArray(v)) return v.some(containsNul)
  if (typeof v === 'object' && v !== null)
    return Object.entries(v).some(([k, x]) => k.includes('\0') || containsNul(x))
  return false
}

/** Go's `cast.ToString` for a form value: strings and scalars as text, anything else empty. */
function formString(v: unknown): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  return ''
}

const valuesMismatch = () => fieldError('validation_values_mismatch', "Values don't match.")
const cannotBeBlank = () => fieldError('validation_required', 'Cannot be blank.')

/**
 * PocketBase's auth form (`forms.RecordUpsert.validateFormFields`, §7.4): password + passwordConfirm
 * on create and whenever one of the password keys is sent (superusers included); without manager
 * access (superusers, or the manageRule) `verified` must keep its stored value (false on create),
 * `email` cannot change on update and a new password needs the matching oldPassword. The first
 * failing check of each key is reported.
 */
async function checkAuthForm(
  passwords: PasswordHasher,
  stored: RecordRow | undefined,
  body: Json,
  values: Record<string, unknown>,
  manage: boolean,
  errors: ValidationErrors,
): Promise<void> {
  const isNew = stored === undefined
  const password = formString(body.password)
  const confirm = formString(body.passwordConfirm)
  const old = formString(body.oldPassword)
  const storedVerified = stored !== undefined && (stored.verified === true || stored.verified === 1)
  if (!isNew && !manage && values.email !== stored.email) errors.add(['email'], valuesMismatch())
  if (!manage && values.verified !== storedVerified) errors.add(['verified'], valuesMismatch())
  if ((isNew || confirm !== '' || old !== '') && password === '') errors.add(['password'], cannotBeBlank())
  if ((isNew || password !== '' || old !== '') && confirm === '')
    errors.add(['passwordConfirm'], cannotBeBlank())
  else if (confirm !== password) errors.add(['passwordConfirm'], valuesMismatch())
  if (!isNew && !manage && (password !== '' || confirm !== '')) {
    if (old === '') errors.add(['oldPassword'], cannotBeBlank())
    else if (!(await passwords.verify(String(stored.password ?? ''), old)))
      errors.add(
        ['oldPassword'],
        fieldError('validation_invalid_old_password', 'Missing or invalid old password.'),
      )
  }
}

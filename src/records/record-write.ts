import { sql } from 'kysely'
import type { Database, Executor } from '../db/index.js'
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
  FIELD_TYPES,
  parseBodyKey,
  type Collection,
  type CollectionService,
  type Field,
  type FieldType,
} from '../schema/index.js'
import { isSuperuserRequest } from './request.js'
import type { RecordRow } from './serialize.js'

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
}

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
 * rule checked against the resolved values, every field validated, relations checked, then written.
 * Returns the stored row.
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
    let next: unknown
    if (autogen) {
      if (!ft.autogenerate) continue
      next = `${typeof body[key] === 'string' ? (body[key] as string) : ''}${ft.autogenerate(f)}`
    } else if (op) {
      if (!ft.applyModifier) continue
      next = ft.applyModifier(f, values[f.name], op, body[key])
      if (next === undefined) continue
    } else next = ft.prepareValue(f, body[key])
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

  // The auth form checks run after the rule and, when they fail, instead of the field validators.
  const authErrors = new ValidationErrors()
  if (c.type === 'auth') await checkAuthForm(deps.passwords, stored, body, values, su, authErrors)

  // Rules see the resolved body under plain field names (§7.4); files are not part of it.
  const resolvedBody: Record<string, unknown> = {}
  for (const name of submitted) resolvedBody[name] = values[name]
  const env: RuleEnv = { ...deps.env, request: { ...request, body: resolvedBody } }
  if (!su) await checkRule(trx, deps, c, isNew, values, env)
  authErrors.throwIfAny(message)

  for (const f of c.fields) {
    const err = fieldType(f).validateValue(f, values[f.name], { collection: c, isNew })
    if (err) errors.add([f.name], err)
  }
  await checkRelations(trx, deps, c, values, errors)
  errors.throwIfAny(message)

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

  try {
    if (isNew) await trx.insertInto(c.name).values(row).execute()
    else if (Object.keys(row).length > 0)
      await trx.updateTable(c.name).set(row).where('id', '=', String(stored.id)).execute()
  } catch (err) {
    const kind = d.classifyError(err)
    if (kind.kind === 'unique') {
      const cols = kind.columns.length > 0 ? kind.columns : ['id']
      for (const col of cols) errors.add([col], fieldError('validation_not_unique', 'Value must be unique.'))
      throw badRequest(message, errors.data, err)
    }
    throw err
  }
  const saved = await trx
    .selectFrom(c.name)
    .select(c.fields.map((f) => f.name))
    .where('id', '=', String(values.id))
    .executeTakeFirst()
  if (!saved) throw notFound()
  return saved as RecordRow
}

/**
 * The rule gate on the resolved values: create checks a virtual row (a CTE named after the
 * collection, so the rule's column references read the would-be record); update re-checks the
 * stored record with `@request.body` = the resolved body. A failed create is a 400, a failed update 404.
 */
async function checkRule(
  trx: Executor,
  deps: WriteDeps,
  c: Collection,
  isNew: boolean,
  values: Record<string, unknown>,
  env: RuleEnv,
): Promise<void> {
  const cond = ruleCondition(isNew ? c.createRule : c.updateRule, c, env)
  if (cond === 'superusers') throw new GalleyError('SUPERUSER_ONLY')
  if (cond === 'anyone') return
  const d = deps.database.dialect
  if (!isNew) {
    const ok = await trx
      .selectFrom(c.name)
      .select(sql`1`.as('ok'))
      .where('id', '=', String(values.id))
      .where(cond)
      .executeTakeFirst()
    if (!ok) throw notFound()
    return
  }
  const columns = c.fields.map((f) => {
    const kind = columnKind(f)
    // Rules see `verified` as false on create (§3.6).
    const value = d.encode(kind, f.name === 'verified' && c.type === 'auth' ? false : values[f.name])
    const type = d.parameterType(kind)
    return (type ? sql`CAST(${value} AS ${sql.raw(type)})` : sql`${value}`).as(f.name)
  })
  const ok = await trx
    .with(c.name, (db) => db.selectNoFrom(columns))
    .selectFrom(c.name)
    .select(sql`1`.as('ok'))
    .where(cond)
    .executeTakeFirst()
  if (!ok) throw badRequest('Failed to create record.')
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
 * access (only superusers for now) `verified` must keep its stored value (false on create), `email`
 * cannot change on update and a new password needs the matching oldPassword. The first failing
 * check of each key is reported.
 */
async function checkAuthForm(
  passwords: PasswordHasher,
  stored: RecordRow | undefined,
  body: Json,
  values: Record<string, unknown>,
  su: boolean,
  errors: ValidationErrors,
): Promise<void> {
  const isNew = stored === undefined
  const manage = su
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

import { FilterError, parseFilter } from '../filter/index.js'
import {
  fieldError,
  type FieldError,
  MAX_COLLECTION_ID_LENGTH,
  MAX_COLLECTION_NAME_LENGTH,
  MAX_FIELD_NAME_LENGTH,
  MAX_INDEX_LENGTH,
  MAX_RULE_LENGTH,
  ValidationErrors,
} from '../lib/index.js'
import {
  OAUTH2_PROVIDER_NAMES,
  RULE_KEYS,
  TOKEN_KINDS,
  type Collection,
  type CollectionType,
} from './collection.js'
import { hasSingleColumnUniqueIndex } from './collection-input.js'
import type { FieldContext } from './field-type.js'
import { FIELD_TYPES } from './fields/index.js'
import { formatIndexStatement, parseIndexStatement, validateIndexColumns } from './index-statement.js'
import { viewQueryProblem } from './view-query.js'

const NAME = /^\w+$/
/** Tables Galley itself owns (lower-cased): no collection may take their names, in any case. */
const INTERNAL_TABLES = new Set(
  [
    '_collections',
    '_params',
    '_migrations',
    '_logs',
    '_events',
    '_otpAttempts',
    '_realtimeEvents',
    '_realtimeEventsPruned',
  ].map((name) => name.toLowerCase()),
)
const RESERVED_FIELD_NAMES = new Set([
  'null',
  'true',
  'false',
  '_rowid_',
  'collectionid',
  'collectionname',
  'expand',
])
const RESERVED_AUTH_FIELD_NAMES = new Set(['passwordconfirm', 'oldpassword'])
/** Token durations: 10 s to about 3 years, as PocketBase allows. */
const MIN_TOKEN_DURATION = 10
const MAX_TOKEN_DURATION = 94_670_856

/** Why `name` cannot name a field of a `type` collection (blank, not `\w+`, too long, reserved), or undefined. */
export function fieldNameError(name: string, type: CollectionType): FieldError | undefined {
  if (name === '') return fieldError('validation_required', 'Cannot be blank.')
  if (!NAME.test(name) || name.length > MAX_FIELD_NAME_LENGTH)
    return fieldError('validation_field_name_invalid', 'Must be 1 to 63 letters, digits or underscores.')
  const lower = name.toLowerCase()
  if (
    RESERVED_FIELD_NAMES.has(lower) ||
    name.includes('_via_') ||
    (type === 'auth' && RESERVED_AUTH_FIELD_NAMES.has(lower))
  )
    return fieldError('validation_reserved_field_name', 'The field name is reserved.')
  return undefined
}

export interface ValidateContext {
  /** The stored collection being updated; undefined on create. */
  readonly old?: Collection | undefined
  /** Every stored collection (the old version of this one included). */
  readonly all: readonly Collection[]
}

/**
 * Validates a collection as it would be stored; returns the PocketBase-shaped error map (empty when
 * valid). Index statements are normalized in place on success.
 */
export function validateCollection(
  c: Collection,
  ctx: ValidateContext,
  errors = new ValidationErrors(),
): ValidationErrors {
  const selfId = ctx.old?.id ?? c.id
  const others = ctx.all.filter((o) => o.id !== selfId)
  const find = (idOrName: string) =>
    ctx.all.find((o) => o.id === idOrName) ??
    ctx.all.find((o) => o.name.toLowerCase() === idOrName.toLowerCase())

  validateIdentity(c, ctx, others, errors)
  validateRules(c, ctx, errors)
  validateFields(c, ctx, find, errors)
  validateIndexes(c, others, errors)
  if (c.type === 'auth') validateAuthOptions(c, errors)
  if (c.type === 'view') {
    const problem = viewQueryError(c.viewQuery ?? '')
    if (problem) errors.add(['viewQuery'], problem)
  }
  return errors
}

/** What a view query is refused for before the database sees it (§6.6), or undefined. */
export function viewQueryError(query: string): FieldError | undefined {
  if (query.trim() === '') return fieldError('validation_required', 'Cannot be blank.')
  const problem = viewQueryProblem(query)
  return problem === undefined ? undefined : invalidViewQuery(problem)
}

/** PocketBase's error for a view query the database or the field inference refused. */
export const invalidViewQuery = (reason: string): FieldError =>
  fieldError('validation_invalid_view_query', `Invalid query - ${reason}`)

function validateIdentity(
  c: Collection,
  ctx: ValidateContext,
  others: readonly Collection[],
  errors: ValidationErrors,
): void {
  if (!ctx.old) {
    if (!NAME.test(c.id) || c.id.length > MAX_COLLECTION_ID_LENGTH)
      errors.add(
        ['id'],
        fieldError('validation_invalid_id', 'Must be 1 to 100 letters, digits or underscores.'),
      )
    else if (ctx.all.some((o) => o.id === c.id))
      errors.add(['id'], fieldError('validation_collection_id_exists', 'The id is already in use.'))
  }
  if (c.name === '') errors.add(['name'], fieldError('validation_required', 'Cannot be blank.'))
  else if (!NAME.test(c.name) || c.name.length > MAX_COLLECTION_NAME_LENGTH || c.name.includes('_via_'))
    errors.add(['name'], fieldError('validation_collection_name_invalid', 'Invalid collection name.'))
  else if (
    INTERNAL_TABLES.has(c.name.toLowerCase()) ||
    /^(sqlite_|pg_)/i.test(c.name) ||
    others.some((o) => o.id === c.name)
  )
    errors.add(['name'], fieldError('validation_collection_name_invalid', 'The name is reserved.'))
  else if (others.some((o) => o.name.toLowerCase() === c.name.toLowerCase()))
    errors.add(
      ['name'],
      fieldError('validation_collection_name_exists', 'Collection name must be unique (case insensitive).'),
    )

  const old = ctx.old
  if (!old) return
  if (old.type !== c.type)
    errors.add(
      ['type'],
      fieldError('validation_collection_type_change', 'Collection type cannot be changed.'),
    )
  if (old.system && old.name !== c.name)
    errors.add(
      ['name'],
      fieldError('validation_collection_system_name_change', 'System collection name cannot be changed.'),
    )
}

/** Where a rule's text is refused before it is compiled: too long, or not the filter grammar. */
export interface RuleProblem {
  /** The reason, with ` at <position>` when the parser names one. */
  readonly message: string
  /** Offset in the rule (UTF-16 code units), when the parser names one. */
  readonly position?: number
}

/** Why `rule` (non-empty) is refused before it is compiled: too long or a syntax error; or undefined. */
export function ruleSyntaxProblem(rule: string): RuleProblem | undefined {
  if (rule.length > MAX_RULE_LENGTH)
    return { message: `longer than ${MAX_RULE_LENGTH} characters`, position: MAX_RULE_LENGTH }
  try {
    parseFilter(rule)
    return undefined
  } catch (err) {
    if (err instanceof FilterError) return { message: err.message, position: err.position }
    return { message: (err as Error).message }
  }
}

function validateRules(c: Collection, ctx: ValidateContext, errors: ValidationErrors): void {
  const keys: string[] = [...RULE_KEYS]
  if (c.type === 'auth') keys.push('authRule', 'manageRule')
  const bag = c as unknown as Record<string, string | null>
  for (const key of keys) {
    const rule = bag[key]
    if (rule === null || rule === undefined || rule === '') continue
    const problem = ruleSyntaxProblem(rule)
    if (problem)
      errors.add([key], fieldError('validation_invalid_rule', `Invalid rule. Raw error: ${problem.message}`))
  }
  if (c.type === 'auth' && c.manageRule === '')
    errors.add(['manageRule'], fieldError('validation_nil_or_not_empty_required', 'Cannot be blank.'))
  if (c.type === 'auth' && c.mfa && c.mfa.rule !== '') {
    const problem = ruleSyntaxProblem(c.mfa.rule)
    if (problem)
      errors.add(
        ['mfa', 'rule'],
        fieldError('validation_invalid_rule', `Invalid rule. Raw error: ${problem.message}`),
      )
  }
  const old = ctx.old
  if (old?.system) {
    for (const key of keys) {
      if (bag[key] !== (old as unknown as Record<string, string | null>)[key])
        errors.add(
          [key],
          fieldError(
            'validation_collection_system_rule_change',
            'System collection rules cannot be changed.',
          ),
        )
    }
  }
  if (c.type === 'view') {
    for (const key of ['createRule', 'updateRule', 'deleteRule'] as const)
      if (c[key] !== null)
        errors.add([key], fieldError('validation_nil_required', 'Must be null for view collections.'))
  }
}

function validateFields(
  c: Collection,
  ctx: ValidateContext,
  find: FieldContext['findCollection'],
  errors: ValidationErrors,
): void {
  const names = new Map<string, number>()
  const ids = new Map<string, number>()
  c.fields.forEach((f, i) => {
    const at = (key: string) => ['fields', i, key] as const
    const nameError = fieldNameError(f.name, c.type)
    if (nameError) errors.add(at('name'), nameError)
    else if (names.has(f.name.toLowerCase()))
      errors.add(
        at('name'),
        fieldError('validation_duplicated_field_name', 'Duplicated or invalid field name.'),
      )
    names.set(f.name.toLowerCase(), i)

    if (!NAME.test(f.id) || f.id.length > 100)
      errors.add(
        at('id'),
        fieldError('validation_invalid_field_id', 'Must be 1 to 100 letters, digits or underscores.'),
      )
    else if (ids.has(f.id))
      errors.add(at('id'), fieldError('validation_duplicated_field_id', 'Duplicated or invalid field id.'))
    ids.set(f.id, i)

    const old = ctx.old?.fields.find((o) => o.id === f.id)
    if (old && old.type !== f.type)
      errors.add(at('type'), fieldError('validation_field_type_change', 'Field type cannot be changed.'))
    if (old?.system && old.name !== f.name)
      errors.add(
        at('name'),
        fieldError('validation_system_field_name_change', 'System field name cannot be changed.'),
      )

    const ft = FIELD_TYPES.get(f.type)
    ft?.validateOptions?.(f, { collection: c, old, findCollection: find }, (key, err) =>
      errors.add(at(key), err),
    )
  })

  for (const old of ctx.old?.fields ?? []) {
    if (old.system && !c.fields.some((f) => f.id === old.id))
      errors.add(
        ['fields'],
        fieldError('validation_system_field_removed', `System field "${old.name}" cannot be removed.`),
      )
  }
  if (c.type !== 'view') {
    const id = c.fields.find((f) => f.name === 'id')
    if (!id || id.type !== 'text' || !id.primaryKey)
      errors.add(
        ['fields'],
        fieldError('validation_missing_primary_key', 'Missing primary key field "id" of type text.'),
      )
  }
}

function validateIndexes(c: Collection, others: readonly Collection[], errors: ValidationErrors): void {
  if (c.type === 'view') {
    if (c.indexes.length > 0)
      errors.add(
        ['indexes'],
        fieldError('validation_indexes_not_supported', "View collections don't support indexes."),
      )
    return
  }
  // An invalid collection name is reported by validateIdentity; statements cannot be rewritten onto it.
  if (!NAME.test(c.name)) return
  const columns = new Set(c.fields.map((f) => f.name))
  const seenNames = new Set<string>()
  const seenDefs = new Set<string>()
  const otherNames = new Set<string>()
  for (const o of others) {
    for (const text of o.indexes) {
      try {
        otherNames.add(parseIndexStatement(text).name.toLowerCase())
      } catch {
        // stored statements were validated when saved
      }
    }
  }
  c.indexes.forEach((text, i) => {
    if (text.length > MAX_INDEX_LENGTH) {
      errors.add(
        ['indexes', i],
        fieldError('validation_invalid_index_expression', 'Invalid index expression.'),
      )
      return
    }
    let stmt
    try {
      stmt = parseIndexStatement(text)
    } catch (err) {
      errors.add(
        ['indexes', i],
        fieldError(
          'validation_invalid_index_expression',
          `Invalid index expression: ${(err as Error).message}`,
        ),
      )
      return
    }
    // The canonical text is what gets stored and parsed again: it must stay within the limit too.
    const canonical = formatIndexStatement(stmt, c.name)
    if (canonical.length > MAX_INDEX_LENGTH) {
      errors.add(
        ['indexes', i],
        fieldError(
          'validation_invalid_index_expression',
          `Invalid index expression: longer than ${MAX_INDEX_LENGTH} characters once normalized.`,
        ),
      )
      return
    }
    const unknown = validateIndexColumns(stmt, columns)
    if (unknown.length > 0) {
      errors.add(
        ['indexes', i],
        fieldError('validation_invalid_index_expression', `Unknown column ${unknown.join(', ')}.`),
      )
      return
    }
    const name = stmt.name.toLowerCase()
    if (seenNames.has(name))
      errors.add(
        ['indexes', i],
        fieldError('validation_duplicated_index_name', 'The index name must be unique.'),
      )
    else if (otherNames.has(name))
      errors.add(
        ['indexes', i],
        fieldError('validation_existing_index_name', 'The index name is already used by another collection.'),
      )
    seenNames.add(name)
    const def = formatIndexStatement({ ...stmt, name: 'x' }, c.name)
    if (seenDefs.has(def))
      errors.add(
        ['indexes', i],
        fieldError('validation_duplicated_index_definition', 'The index definition already exists.'),
      )
    seenDefs.add(def)
    c.indexes[i] = canonical
  })
  if (c.type === 'auth') {
    for (const column of ['tokenKey', 'email'])
      if (!hasSingleColumnUniqueIndex(c.indexes, column))
        errors.add(
          ['indexes'],
          fieldError(
            'validation_missing_required_unique_index',
            `The ${column} field must have a unique index.`,
          ),
        )
  }
}

function validateAuthOptions(c: Collection, errors: ValidationErrors): void {
  for (const kind of TOKEN_KINDS) {
    const t = c[kind]
    if (!t) continue
    if (!Number.isInteger(t.duration) || t.duration < MIN_TOKEN_DURATION || t.duration > MAX_TOKEN_DURATION)
      errors.add(
        [kind, 'duration'],
        fieldError(
          'validation_out_of_range',
          `Must be between ${MIN_TOKEN_DURATION} and ${MAX_TOKEN_DURATION}.`,
        ),
      )
    if (t.secret.length < 30 || t.secret.length > 255)
      errors.add(
        [kind, 'secret'],
        fieldError('validation_length_out_of_range', 'The length must be between 30 and 255.'),
      )
  }
  const pa = c.passwordAuth
  if (pa?.enabled) {
    if (pa.identityFields.length === 0)
      errors.add(['passwordAuth', 'identityFields'], fieldError('validation_required', 'Cannot be blank.'))
    pa.identityFields.forEach((name, i) => {
      if (!c.fields.some((f) => f.name === name))
        errors.add(
          ['passwordAuth', 'identityFields', i],
          fieldError('validation_missing_field', `Missing field ${name}.`),
        )
      // (with an invalid collection name, reported already, the statements cannot be read)
      else if (NAME.test(c.name) && !hasSingleColumnUniqueIndex(c.indexes, name))
        errors.add(
          ['passwordAuth', 'identityFields', i],
          fieldError('validation_missing_unique_constraint', `The ${name} field must have a UNIQUE index.`),
        )
    })
  }
  // A second factor needs a second way in (§8.6).
  const methods = [c.passwordAuth?.enabled, c.oauth2?.enabled, c.otp?.enabled].filter(Boolean).length
  if (c.mfa?.enabled && methods < 2)
    errors.add(
      ['mfa', 'enabled'],
      fieldError(
        'validation_mfa_not_enough_auth_methods',
        'MFA requires at least 2 auth methods to be enabled.',
      ),
    )
  if (c.otp && (!Number.isInteger(c.otp.length) || c.otp.length < 4 || c.otp.length > 20))
    errors.add(['otp', 'length'], fieldError('validation_out_of_range', 'Must be between 4 and 20.'))
  for (const [key, d] of [
    ['otp', c.otp?.duration],
    ['mfa', c.mfa?.duration],
  ] as const) {
    if (d !== undefined && (!Number.isInteger(d) || d < MIN_TOKEN_DURATION || d > 86_400))
      errors.add(
        [key, 'duration'],
        fieldError('validation_out_of_range', `Must be between ${MIN_TOKEN_DURATION} and 86400.`),
      )
  }
  const providers = c.oauth2?.providers ?? []
  const seen = new Set<string>()
  providers.forEach((p, i) => {
    if (!p.name)
      errors.add(['oauth2', 'providers', i, 'name'], fieldError('validation_required', 'Cannot be blank.'))
    else if (seen.has(p.name))
      errors.add(
        ['oauth2', 'providers', i, 'name'],
        fieldError('validation_duplicated_provider', 'The provider is already registered.'),
      )
    seen.add(p.name)
    if (p.name && !OAUTH2_PROVIDER_NAMES.includes(p.name))
      errors.add(
        ['oauth2', 'providers', i, 'name'],
        fieldError('validation_invalid_provider', `Unsupported provider ${p.name}.`),
      )
    if (!p.clientId)
      errors.add(
        ['oauth2', 'providers', i, 'clientId'],
        fieldError('validation_required', 'Cannot be blank.'),
      )
    for (const key of ['authURL', 'tokenURL', 'userInfoURL'] as const) {
      const url = p[key]
      if (url === '') {
        // the generic OIDC slots have no default endpoints
        if (key !== 'userInfoURL' && /^oidc\d?$/.test(p.name))
          errors.add(['oauth2', 'providers', i, key], fieldError('validation_required', 'Cannot be blank.'))
      } else if (!isHttpURL(url))
        errors.add(['oauth2', 'providers', i, key], fieldError('validation_is_url', 'Must be a valid url.'))
    }
  })
  for (const [key, name] of Object.entries(c.oauth2?.mappedFields ?? {})) {
    if (name && !c.fields.some((f) => f.name === name))
      errors.add(
        ['oauth2', 'mappedFields', key],
        fieldError('validation_missing_field', `Missing field ${name}.`),
      )
  }
}

/** An absolute http(s) URL of at most 2048 characters (provider endpoints). */
function isHttpURL(text: string): boolean {
  if (text.length > 2048) return false
  try {
    const u = new URL(text)
    return u.protocol === 'http:' || u.protocol === 'https:'
  } catch {
    return false
  }
}

import type { ValidationErrors } from '../lib/index.js'
import { fieldError, isJsonObject as isObject, mergeTyped, type Json } from '../lib/index.js'
import { MAX_FIELDS, MAX_HELP_LENGTH, MAX_INDEXES } from '../lib/index.js'
import { RULE_KEYS, type Collection, type Field } from './collection.js'
import {
  authSystemFields,
  authSystemIndexes,
  defaultAuthOptions,
  defaultFieldId,
  idField,
  makeField,
} from './defaults.js'
import { decodeOption, invalidValue } from './field-type.js'
import { FIELD_TYPES } from './fields/index.js'
import { parseIndexStatement } from './index-statement.js'

/**
 * Merges a request body over `base` (a scaffold on create, the stored collection on update), the way
 * PocketBase unmarshals JSON onto a collection: objects merge key by key, arrays and scalars replace,
 * `fields` are decoded by their type with omitted options at their zero values. Type errors are
 * collected in `errors` under the path of the offending key.
 */
export function applyCollectionInput(base: Collection, input: Json, errors: ValidationErrors): Collection {
  const c: Collection = structuredClone(base)

  if ('name' in input) {
    if (typeof input.name === 'string') c.name = input.name
    else errors.add(['name'], invalidValue())
  }
  for (const key of RULE_KEYS) {
    if (!(key in input)) continue
    const v = input[key]
    if (v === null || typeof v === 'string') c[key] = v
    else errors.add([key], invalidValue())
  }
  if ('indexes' in input) {
    const v = input.indexes
    if (v === null) c.indexes = []
    else if (Array.isArray(v) && v.length <= MAX_INDEXES && v.every((i) => typeof i === 'string'))
      c.indexes = [...v]
    else errors.add(['indexes'], invalidValue())
  }
  if (c.type === 'view' && 'viewQuery' in input) {
    if (typeof input.viewQuery === 'string') c.viewQuery = input.viewQuery
    else errors.add(['viewQuery'], invalidValue())
  }
  if ('fields' in input) {
    const v = input.fields
    if (!Array.isArray(v) || v.length > MAX_FIELDS) errors.add(['fields'], invalidValue())
    else {
      const taken = new Set<string>()
      c.fields = v
        .map((raw, i) => decodeField(raw, i, base.fields, taken, errors))
        .filter((f): f is Field => !!f)
    }
  }
  if (c.type === 'auth') {
    mergeTyped(c as unknown as Json, input, defaultAuthOptions() as unknown as Json, errors, [], {
      // Rules are nullable strings (null = superusers only), whatever their default is.
      authRule: (v, _current, path) => nullableString(v, path, errors),
      manageRule: (v, _current, path) => nullableString(v, path, errors),
      providers: (v, current, path) => {
        if (!Array.isArray(v) || !v.every(isObject)) {
          errors.add(path, invalidValue())
          return undefined
        }
        return v.map((p, i) =>
          decodeProvider(p, (current as Json[] | undefined) ?? [], [...path, String(i)], errors),
        )
      },
    })
  }

  ensureSystemFields(c)
  return c
}

/** A rule value: a string or null; `undefined` (and an error) for anything else. */
function nullableString(v: unknown, path: string[], errors: ValidationErrors): string | null | undefined {
  if (v === null || typeof v === 'string') return v
  errors.add(path, invalidValue())
  return undefined
}

function decodeField(
  raw: unknown,
  i: number,
  oldFields: readonly Field[],
  taken: Set<string>,
  errors: ValidationErrors,
): Field | undefined {
  if (!isObject(raw)) {
    errors.add(['fields', i], invalidValue())
    return undefined
  }
  const type = raw.type
  const ft = typeof type === 'string' ? FIELD_TYPES.get(type) : undefined
  if (!ft) {
    errors.add(['fields', i, 'type'], fieldError('validation_invalid_field_type', 'Unknown field type.'))
    return undefined
  }
  const name = typeof raw.name === 'string' ? raw.name : ''
  if (raw.name !== undefined && typeof raw.name !== 'string')
    errors.add(['fields', i, 'name'], invalidValue())
  let id = defaultFieldId(ft.type, name)
  if (typeof raw.id === 'string' && raw.id !== '') id = raw.id
  else if (raw.id !== undefined && raw.id !== '' && raw.id !== null)
    errors.add(['fields', i, 'id'], invalidValue())
  else {
    // A derived id already used by an earlier field of the list gets a numeric suffix, as in
    // PocketBase's FieldsList.add (e.g. a renamed field kept its id and a new one takes its old name).
    const derived = id
    for (let n = 2; taken.has(id) && n < 1000; n++) id = `${derived}${n}`
  }
  taken.add(id)
  const old = oldFields.find((f) => f.id === id)
  const field = makeField(ft.type, name, { id, system: old?.system ?? false })
  for (const flag of ['hidden', 'presentable'] as const) {
    if (raw[flag] === undefined) continue
    if (typeof raw[flag] === 'boolean') field[flag] = raw[flag]
    else errors.add(['fields', i, flag], invalidValue())
  }
  if (ft.hasHelp && raw.help !== undefined && raw.help !== null) {
    if (typeof raw.help === 'string' && raw.help.length <= MAX_HELP_LENGTH) field.help = raw.help
    else
      errors.add(
        ['fields', i, 'help'],
        fieldError('validation_length_too_long', `Must be no more than ${MAX_HELP_LENGTH} characters.`),
      )
  }
  for (const [key, spec] of Object.entries(ft.options)) {
    const r = decodeOption(spec, raw[key])
    if (r.ok) field[key] = r.value
    else errors.add(['fields', i, key], invalidValue())
  }
  return field
}

const PROVIDER_TEMPLATE: Json = {
  name: '',
  clientId: '',
  clientSecret: '',
  authURL: '',
  tokenURL: '',
  userInfoURL: '',
  displayName: '',
}

/** An OAuth2 provider entry; a missing clientSecret keeps the stored one (secrets are never sent back). */
function decodeProvider(raw: Json, old: Json[], path: string[], errors: ValidationErrors): Json {
  const previous = old.find((p) => p.name === raw.name)
  const out: Json = {
    ...PROVIDER_TEMPLATE,
    clientSecret: previous?.clientSecret ?? '',
    pkce: null,
    extra: null,
  }
  mergeTyped(out, raw, PROVIDER_TEMPLATE, errors, path)
  if ('pkce' in raw) {
    if (raw.pkce === null || typeof raw.pkce === 'boolean') out.pkce = raw.pkce
    else errors.add([...path, 'pkce'], invalidValue())
  }
  if ('extra' in raw) {
    if (raw.extra === null || isObject(raw.extra)) out.extra = raw.extra
    else errors.add([...path, 'extra'], invalidValue())
  }
  return out
}

/** PocketBase's initDefaultFields: system fields exist with their enforced flags; auth keeps its indexes. */
function ensureSystemFields(c: Collection): void {
  if (c.type === 'view') return
  const byName = (n: string) => c.fields.find((f) => f.name === n)
  const id = byName('id')
  if (!id) c.fields.unshift(idField())
  else if (id.type === 'text') {
    Object.assign(id, { system: true, required: true, primaryKey: true, hidden: false })
    if (!id.pattern) id.pattern = '^[a-z0-9]+$'
  }
  if (c.type !== 'auth') return
  for (const sys of authSystemFields()) {
    const existing = byName(sys.name)
    if (!existing) c.fields.push(sys)
    else if (existing.type === sys.type) {
      existing.system = true
      if (sys.name === 'password' || sys.name === 'tokenKey')
        Object.assign(existing, { hidden: true, required: true })
      if (sys.name === 'email') existing.hidden = false
    }
  }
  const [tokenIdx, emailIdx] = authSystemIndexes(c)
  for (const [column, idx] of [
    ['tokenKey', tokenIdx!],
    ['email', emailIdx!],
  ] as const) {
    if (!hasSingleColumnUniqueIndex(c.indexes, column)) c.indexes.push(idx)
  }
}

export function hasSingleColumnUniqueIndex(indexes: readonly string[], column: string): boolean {
  return indexes.some((text) => {
    try {
      const s = parseIndexStatement(text)
      return s.unique && s.columns.length === 1 && s.columns[0]!.name.toLowerCase() === column.toLowerCase()
    } catch {
      return false
    }
  })
}

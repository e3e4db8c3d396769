import type { ColumnKind } from '../db/index.js'
import { fieldError, type FieldError } from '../lib/index.js'
import type { Collection, Field } from './collection.js'

/** How one option of a field type is decoded from JSON; `default` is the zero value of Appendix D. */
export type OptionSpec =
  | { readonly kind: 'int'; readonly default: number }
  | { readonly kind: 'nullableNumber'; readonly default: number | null }
  | { readonly kind: 'bool'; readonly default: boolean }
  | { readonly kind: 'string'; readonly default: string; readonly max?: number }
  | { readonly kind: 'nullableStrings'; readonly default: string[] | null }
  | { readonly kind: 'strings'; readonly default: string[] }

export interface FieldContext {
  /** The collection being saved, as it will be stored. */
  readonly collection: Collection
  /** This field's previous definition (matched by id), on update. */
  readonly old?: Field | undefined
  /** Finds another stored collection by id or name (case-insensitive name). */
  findCollection(idOrName: string): Collection | undefined
}

export type ReportOptionError = (option: string, err: FieldError) => void

/** Body modifiers (§11): `field+` = '+' (append / add), `+field` = '^' (prepend), `field-` = '-' (remove / subtract). */
export type ModifierOp = '+' | '^' | '-'

export interface ValueContext {
  readonly collection: Collection
  /** True on create. */
  readonly isNew: boolean
}

/**
 * One field type. Adding a type means one file in `fields/` and one line in the registry.
 * Record values: `prepareValue` turns any submitted value into the field's JSON form, `applyModifier`
 * resolves `field+` / `+field` / `field-` keys, and `validateValue` checks what needs no database.
 */
export interface FieldType {
  readonly type: string
  readonly options: Readonly<Record<string, OptionSpec>>
  /** Whether the field JSON carries `help` (all but autodate). */
  readonly hasHelp: boolean
  /** The storage kind of the field's column for these options. */
  column(field: Field): ColumnKind
  /** Whether the stored value is a list (multi-valued select, relation, file). */
  multiple?(field: Field): boolean
  /** Checks the option values together, after each was decoded to its type. */
  validateOptions?(field: Field, ctx: FieldContext, report: ReportOptionError): void
  /** The value of a field nobody set: '' | 0 | false | null | [] | {lon:0,lat:0}, per the field's JSON form. */
  zeroValue(field: Field): unknown
  /**
   * PocketBase's PrepareValue: any submitted JSON or multipart-inferred value -> this field's JSON
   * form (text casts scalars to string; number casts numeric strings/bools; bool casts "1"/"true"...;
   * date parses any accepted layout to "YYYY-MM-DD HH:MM:SS.sssZ" or '' if unparsable; select/relation/file
   * accept a string, an array or a JSON-array string, drop empties and duplicates, single-valued keeps
   * the LAST value; json parses JSON-looking strings as in §6.3; geoPoint takes {lon,lat}). Never throws.
   */
  prepareValue(field: Field, raw: unknown): unknown
  /**
   * Validates a prepared value without the database: required (per type's meaning of "blank"), min/max
   * lengths in runes, pattern, number range/onlyInt/NaN, email/url format and domain lists, date min/max,
   * select values and maxSelect, relation minSelect/maxSelect (existence of ids is checked by records),
   * json maxSize (default 1 MiB) and validity, editor maxSize (default 5 MiB), password length/pattern
   * (min/max in runes; max default 71), geoPoint ranges. Returns the FIRST error with PocketBase's code and
   * message (with `params` where PocketBase has them, e.g. maxSelect) or undefined. A password is passed
   * as its plain text, `undefined` on update meaning unchanged; a primary key is only checked on create.
   */
  validateValue(field: Field, value: unknown, ctx: ValueContext): FieldError | undefined
  /**
   * Applies a modifier to the current (prepared) value and returns the new value, or undefined when the
   * type does not support that op (records then ignores the key). number: '+' adds, '-' subtracts;
   * select/relation/file(names): '+' appends, '^' prepends, '-' removes the given values (arg: string or list);
   * single-valued select/relation/file keep the last value after that, as PocketBase: '+' replaces, '^' only
   * fills an empty field, '-' clears if equal. The result is not validated (validateValue does that).
   */
  applyModifier?(field: Field, current: unknown, op: ModifierOp, arg: unknown): unknown
  /** text only: a value generated from `autogeneratePattern` (e.g. "[a-z0-9]{15}") for new records. */
  autogenerate?(field: Field): string
}

export const invalidValue = (): FieldError => fieldError('validation_invalid_value', 'Invalid value.')

/** Decodes one option value; returns undefined (and reports) when it has the wrong JSON type. */
export function decodeOption(spec: OptionSpec, value: unknown): { ok: true; value: unknown } | { ok: false } {
  if (value === undefined) return { ok: true, value: structuredClone(spec.default) }
  switch (spec.kind) {
    case 'int':
      if (value === null) return { ok: true, value: 0 }
      return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
        ? { ok: true, value }
        : { ok: false }
    case 'nullableNumber':
      return value === null || (typeof value === 'number' && Number.isFinite(value))
        ? { ok: true, value }
        : { ok: false }
    case 'bool':
      if (value === null) return { ok: true, value: false }
      return typeof value === 'boolean' ? { ok: true, value } : { ok: false }
    case 'string':
      if (value === null) return { ok: true, value: '' }
      return typeof value === 'string' && value.length <= (spec.max ?? 10_000)
        ? { ok: true, value }
        : { ok: false }
    case 'nullableStrings':
    case 'strings':
      if (value === null) return { ok: true, value: spec.kind === 'strings' ? [] : null }
      if (!Array.isArray(value) || value.length > 10_000 || !value.every((v) => typeof v === 'string'))
        return { ok: false }
      return { ok: true, value: [...value] }
  }
}

export function isValidRegex(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u')
    return true
  } catch {
    return false
  }
}

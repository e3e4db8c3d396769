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

/**
 * One field type. Adding a type means one file in `fields/` and one line in the registry.
 * Record value handling (prepare/validate/serialize) joins here in the records layer's issue.
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

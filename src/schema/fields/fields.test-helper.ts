import type { Field } from '../collection.js'
import { makeField, scaffoldCollection } from '../defaults.js'
import type { FieldType, ValueContext } from '../field-type.js'
import { FIELD_TYPES } from './index.js'

export const collection = scaffoldCollection('base', 'posts')
/** Create. */
export const NEW: ValueContext = { collection, isNew: true }
/** Update. */
export const OLD: ValueContext = { collection, isNew: false }

/** The registered type of `type`. */
export function typeOf(type: string): FieldType {
  const t = FIELD_TYPES.get(type)
  if (!t) throw new Error(`no field type ${type}`)
  return t
}

/** A field of `type` named `f` with zero-valued options overridden by `props`. */
export const field = (type: string, props: Partial<Field> = {}): Field => makeField(type, 'f', props)

/** `{code, message}` (and `params` when given) as validateValue returns it. */
export const err = (code: string, message: string, params?: Record<string, unknown>) =>
  params === undefined ? { code, message } : { code, message, params }

export const REQUIRED = err('validation_required', 'Cannot be blank.')
export const UNSUPPORTED = err('validation_unsupported_value_type', 'Invalid or unsupported value type.')

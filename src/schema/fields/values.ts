import { fieldError, type FieldError } from '../../lib/index.js'
import type { Field } from '../collection.js'
import type { ModifierOp } from '../field-type.js'
import { subtract, toUniqueStrings } from './cast.js'

/** ozzo-validation's `validation.ErrRequired`. */
export const requiredError = (): FieldError => fieldError('validation_required', 'Cannot be blank.')

/** PocketBase's `validators.ErrUnsupportedValueType`: the value is not of the field's JSON type. */
export const unsupportedValueType = (): FieldError =>
  fieldError('validation_unsupported_value_type', 'Invalid or unsupported value type.')

/** `[]` for a multiple select/relation/file field, '' for a single one. */
export const isMultiple = (f: Field): boolean => (f.maxSelect as number) > 1

/** A list to the field's form: the list itself when multiple, else its LAST item ('' when empty). */
export function toFieldForm(f: Field, list: readonly string[]): string | string[] {
  if (isMultiple(f)) return [...list]
  return list.length > 0 ? list[list.length - 1]! : ''
}

/**
 * select/relation/file modifiers over name lists (PocketBase appends or prepends, then normalizes: a
 * single-valued field keeps the last value, so `+` replaces it and `^` only fills an empty field).
 */
export function applyListModifier(
  f: Field,
  current: unknown,
  op: ModifierOp,
  arg: unknown,
  toList: (raw: unknown) => string[] = toUniqueStrings,
): string | string[] {
  const now = toList(current)
  const given = toList(arg)
  const next = op === '+' ? [...now, ...given] : op === '^' ? [...given, ...now] : subtract(now, given)
  return toFieldForm(f, toList(next))
}

const patterns = new Map<string, RegExp | null>()

/** Whether `value` contains a match of the field's `pattern` (compiled as the option was validated). */
export function matchesPattern(pattern: string, value: string): boolean {
  let re = patterns.get(pattern)
  if (re === undefined) {
    try {
      re = new RegExp(pattern, 'u')
    } catch {
      re = null
    }
    if (patterns.size >= 1000) patterns.clear()
    patterns.set(pattern, re)
  }
  return re !== null && re.test(value)
}

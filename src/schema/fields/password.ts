import { fieldError } from '../../lib/index.js'
import { isValidRegex, type FieldType } from '../field-type.js'
import { castToString, runeCount } from './cast.js'
import { matchesPattern, requiredError, unsupportedValueType } from './values.js'

/** bcrypt's 72-byte input limit, kept so imported PocketBase data behaves the same. */
export const MAX_PASSWORD_LENGTH = 71

export const passwordField: FieldType = {
  type: 'password',
  options: {
    min: { kind: 'int', default: 0 },
    max: { kind: 'int', default: 0 },
    pattern: { kind: 'string', default: '', max: 1000 },
    cost: { kind: 'int', default: 0 },
    required: { kind: 'bool', default: false },
  },
  hasHelp: true,
  column: () => 'text',
  validateOptions(f, _ctx, report) {
    const min = f.min as number
    const max = f.max as number
    const cost = f.cost as number
    if (min > MAX_PASSWORD_LENGTH)
      report(
        'min',
        fieldError(
          'validation_max_less_equal_than_required',
          `Must be no greater than ${MAX_PASSWORD_LENGTH}.`,
        ),
      )
    if (max > MAX_PASSWORD_LENGTH)
      report(
        'max',
        fieldError(
          'validation_max_less_equal_than_required',
          `Must be no greater than ${MAX_PASSWORD_LENGTH}.`,
        ),
      )
    else if (max > 0 && min > max)
      report('max', fieldError('validation_min_greater_equal_than_required', `Must be no less than ${min}.`))
    if (cost !== 0 && (cost < 4 || cost > 31))
      report('cost', fieldError('validation_out_of_range', 'Must be between 4 and 31.'))
    if (f.pattern && !isValidRegex(f.pattern as string))
      report('pattern', fieldError('validation_invalid_regex', 'Invalid regular expression.'))
  },
  zeroValue: () => '',
  // The plain password; records hashes it after validation.
  prepareValue: (_f, raw) => castToString(raw),
  /**
   * `value` is the submitted plain password; `undefined` on update means "not changed" (the stored
   * hash is never validated). On create `undefined` counts as ''.
   */
  validateValue(f, value, ctx) {
    if (value === undefined && !ctx.isNew) return undefined
    const plain = value === undefined ? '' : value
    if (typeof plain !== 'string') return unsupportedValueType()
    if (plain === '') return f.required ? requiredError() : undefined
    const length = runeCount(plain)
    const min = f.min as number
    if (length < min)
      return fieldError('validation_min_text_constraint', `Must be at least ${min} character(s).`)
    const max = (f.max as number) || MAX_PASSWORD_LENGTH
    if (length > max)
      return fieldError('validation_max_text_constraint', `Must be less than ${max} character(s).`)
    const pattern = f.pattern as string
    if (pattern !== '' && !matchesPattern(pattern, plain))
      return fieldError('validation_invalid_format', 'Invalid value format.')
    return undefined
  },
}

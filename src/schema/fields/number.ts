import { fieldError } from '../../lib/index.js'
import type { FieldType } from '../field-type.js'
import { castToFloat, formatFloatFixed } from './cast.js'
import { requiredError, unsupportedValueType } from './values.js'

const INT64_LIMIT = 2 ** 63

/** Go's `val != float64(int64(val))`: floats outside int64 count as decimals there too. */
const isGoInt = (n: number): boolean => Number.isInteger(n) && n >= -INT64_LIMIT && n < INT64_LIMIT

export const numberField: FieldType = {
  type: 'number',
  options: {
    min: { kind: 'nullableNumber', default: null },
    max: { kind: 'nullableNumber', default: null },
    onlyInt: { kind: 'bool', default: false },
    required: { kind: 'bool', default: false },
  },
  hasHelp: true,
  column: () => 'number',
  validateOptions(f, _ctx, report) {
    const min = f.min as number | null
    const max = f.max as number | null
    if (min !== null && max !== null && min > max)
      report('max', fieldError('validation_min_greater_equal_than_required', `Must be no less than ${min}.`))
    if (f.onlyInt) {
      if (min !== null && !Number.isInteger(min))
        report('min', fieldError('validation_only_int_constraint', 'Decimal numbers are not allowed.'))
      if (max !== null && !Number.isInteger(max))
        report('max', fieldError('validation_only_int_constraint', 'Decimal numbers are not allowed.'))
    }
  },
  zeroValue: () => 0,
  prepareValue: (_f, raw) => castToFloat(raw),
  validateValue(f, value) {
    if (typeof value !== 'number') return unsupportedValueType()
    if (!Number.isFinite(value))
      return fieldError('validation_not_a_number', 'The submitted number is not properly formatted.')
    // Zero is "not set": only `required` applies to it, never the range.
    if (value === 0) return f.required ? requiredError() : undefined
    if (f.onlyInt && !isGoInt(value))
      return fieldError('validation_only_int_constraint', 'Decimal numbers are not allowed.')
    const min = f.min as number | null
    if (min !== null && value < min)
      return fieldError('validation_min_number_constraint', `Must be larger than ${formatFloatFixed(min)}.`)
    const max = f.max as number | null
    if (max !== null && value > max)
      return fieldError('validation_max_number_constraint', `Must be less than ${formatFloatFixed(max)}.`)
    return undefined
  },
  applyModifier(_f, current, op, arg) {
    if (op === '+') return castToFloat(current) + castToFloat(arg)
    if (op === '-') return castToFloat(current) - castToFloat(arg)
    return undefined
  },
}

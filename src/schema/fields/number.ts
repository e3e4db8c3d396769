import { fieldError } from '../../lib/index.js'
import type { FieldType } from '../field-type.js'

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
}

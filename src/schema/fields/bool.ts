import type { FieldType } from '../field-type.js'
import { castToBool } from './cast.js'
import { requiredError, unsupportedValueType } from './values.js'

export const boolField: FieldType = {
  type: 'bool',
  options: { required: { kind: 'bool', default: false } },
  hasHelp: true,
  column: () => 'bool',
  zeroValue: () => false,
  prepareValue: (_f, raw) => castToBool(raw),
  validateValue(f, value) {
    if (typeof value !== 'boolean') return unsupportedValueType()
    // A required bool must be true.
    return f.required && !value ? requiredError() : undefined
  },
}

import type { FieldType } from '../field-type.js'

export const boolField: FieldType = {
  type: 'bool',
  options: { required: { kind: 'bool', default: false } },
  hasHelp: true,
  column: () => 'bool',
}

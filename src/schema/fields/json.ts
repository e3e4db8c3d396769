import type { FieldType } from '../field-type.js'

export const jsonField: FieldType = {
  type: 'json',
  options: {
    maxSize: { kind: 'int', default: 0 },
    required: { kind: 'bool', default: false },
  },
  hasHelp: true,
  column: () => 'json',
}

import type { FieldType } from '../field-type.js'

export const editorField: FieldType = {
  type: 'editor',
  options: {
    maxSize: { kind: 'int', default: 0 },
    convertURLs: { kind: 'bool', default: false },
    required: { kind: 'bool', default: false },
  },
  hasHelp: true,
  column: () => 'text',
}

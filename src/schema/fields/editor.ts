import { fieldError } from '../../lib/index.js'
import type { FieldType } from '../field-type.js'
import { castToString } from './cast.js'
import { requiredError, unsupportedValueType } from './values.js'

/** 0 means this many bytes. */
export const DEFAULT_EDITOR_MAX_SIZE = 5 * 1024 * 1024

export const editorField: FieldType = {
  type: 'editor',
  options: {
    maxSize: { kind: 'int', default: 0 },
    convertURLs: { kind: 'bool', default: false },
    required: { kind: 'bool', default: false },
  },
  hasHelp: true,
  column: () => 'text',
  zeroValue: () => '',
  prepareValue: (_f, raw) => castToString(raw),
  validateValue(f, value) {
    if (typeof value !== 'string') return unsupportedValueType()
    if (f.required && value === '') return requiredError()
    const maxSize = (f.maxSize as number) || DEFAULT_EDITOR_MAX_SIZE
    if (Buffer.byteLength(value, 'utf8') > maxSize)
      return fieldError(
        'validation_content_size_limit',
        `The maximum allowed content size is ${maxSize} bytes.`,
        { maxSize },
      )
    return undefined
  },
}

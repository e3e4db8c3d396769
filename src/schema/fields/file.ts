import { fieldError } from '../../lib/index.js'
import type { FieldType } from '../field-type.js'

const THUMB = /^(\d+)x(\d+)(t|b|f)?$/
const MIME = /^[\w.+-]+\/[\w.+-]+$/

export const fileField: FieldType = {
  type: 'file',
  options: {
    maxSelect: { kind: 'int', default: 0 },
    maxSize: { kind: 'int', default: 0 },
    mimeTypes: { kind: 'nullableStrings', default: null },
    thumbs: { kind: 'nullableStrings', default: null },
    protected: { kind: 'bool', default: false },
    required: { kind: 'bool', default: false },
  },
  hasHelp: true,
  column: (f) => ((f.maxSelect as number) > 1 ? 'jsonArray' : 'text'),
  multiple: (f) => (f.maxSelect as number) > 1,
  validateOptions(f, _ctx, report) {
    const thumbs = (f.thumbs as string[] | null) ?? []
    for (const t of thumbs) {
      const m = THUMB.exec(t)
      if (!m || (m[1] === '0' && m[2] === '0')) {
        report(
          'thumbs',
          fieldError('validation_invalid_thumb_format', `Invalid thumb format ${JSON.stringify(t)}.`),
        )
        break
      }
    }
    const mimes = (f.mimeTypes as string[] | null) ?? []
    if (mimes.some((m) => !MIME.test(m)))
      report('mimeTypes', fieldError('validation_invalid_mime_type', 'Invalid MIME type.'))
  },
}

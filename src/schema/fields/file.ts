import { fieldError } from '../../lib/index.js'
import type { FieldType } from '../field-type.js'
import { nonzeroUniques, toUniqueStrings } from './cast.js'
import { applyListModifier, isMultiple, requiredError, toFieldForm } from './values.js'

const THUMB = /^(\d+)x(\d+)(t|b|f)?$/
const MIME = /^[\w.+-]+\/[\w.+-]+$/

/**
 * File names from a submitted value, as PocketBase's file field reads plain (non-upload) values: like
 * select, except that each array item is read on its own (a JSON-array string item counts when it
 * holds exactly one name).
 */
export function fileNames(raw: unknown): string[] {
  if (!Array.isArray(raw)) return toUniqueStrings(raw)
  const names: string[] = []
  for (const item of raw) {
    const one = toUniqueStrings(item)
    if (one.length === 1) names.push(one[0]!)
  }
  return nonzeroUniques(names)
}

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
  multiple: isMultiple,
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
  zeroValue: (f) => (isMultiple(f) ? [] : ''),
  prepareValue: (f, raw) => toFieldForm(f, fileNames(raw)),
  /**
   * Required and the count only. Records checks, before this, that every name not already on the
   * record is a new upload (validation_invalid_file) and, after it, each upload's name, size and type.
   */
  validateValue(f, value) {
    const names = fileNames(value)
    if (names.length === 0) return f.required ? requiredError() : undefined
    const maxSelect = Math.max(f.maxSelect as number, 1)
    if (names.length > maxSelect)
      return fieldError('validation_too_many_files', `The maximum allowed files is ${maxSelect}.`, {
        maxSelect,
      })
    return undefined
  },
  applyModifier: (f, current, op, arg) => applyListModifier(f, current, op, arg, fileNames),
}

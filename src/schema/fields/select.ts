import { fieldError } from '../../lib/index.js'
import type { FieldType } from '../field-type.js'
import { toUniqueStrings } from './cast.js'
import { applyListModifier, isMultiple, requiredError, toFieldForm } from './values.js'

export const selectField: FieldType = {
  type: 'select',
  options: {
    values: { kind: 'strings', default: [] },
    maxSelect: { kind: 'int', default: 0 },
    required: { kind: 'bool', default: false },
  },
  hasHelp: true,
  column: (f) => ((f.maxSelect as number) > 1 ? 'jsonArray' : 'text'),
  multiple: isMultiple,
  validateOptions(f, _ctx, report) {
    const values = f.values as string[]
    if (values.length === 0) report('values', fieldError('validation_required', 'Cannot be blank.'))
    else if (new Set(values).size !== values.length)
      report('values', fieldError('validation_duplicated_values', 'The values must be unique.'))
    else if (values.some((v) => v === '' || v.length > 255))
      report('values', fieldError('validation_invalid_value', 'Each value must be 1 to 255 characters.'))
    if ((f.maxSelect as number) > values.length && values.length > 0)
      report(
        'maxSelect',
        fieldError('validation_max_less_equal_than_required', `Must be no greater than ${values.length}.`),
      )
  },
  zeroValue: (f) => (isMultiple(f) ? [] : ''),
  prepareValue: (f, raw) => toFieldForm(f, toUniqueStrings(raw)),
  validateValue(f, value) {
    const list = toUniqueStrings(value)
    if (list.length === 0) return f.required ? requiredError() : undefined
    const maxSelect = Math.max(f.maxSelect as number, 1)
    if (list.length > maxSelect)
      return fieldError('validation_too_many_values', `Select no more than ${maxSelect}.`, { maxSelect })
    const allowed = f.values as string[]
    const bad = list.find((v) => !allowed.includes(v))
    // No '.' of our own: sentenizing adds one unless the value already ends the sentence, as in PocketBase.
    if (bad !== undefined)
      return fieldError('validation_invalid_value', `Invalid value ${bad}`, { value: bad })
    return undefined
  },
  applyModifier: (f, current, op, arg) => applyListModifier(f, current, op, arg),
}

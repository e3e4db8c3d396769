import { fieldError } from '../../lib/index.js'
import type { FieldType } from '../field-type.js'

export const selectField: FieldType = {
  type: 'select',
  options: {
    values: { kind: 'strings', default: [] },
    maxSelect: { kind: 'int', default: 0 },
    required: { kind: 'bool', default: false },
  },
  hasHelp: true,
  column: (f) => ((f.maxSelect as number) > 1 ? 'jsonArray' : 'text'),
  multiple: (f) => (f.maxSelect as number) > 1,
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
}

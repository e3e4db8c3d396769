import { fieldError } from '../../lib/index.js'
import { isValidRegex, type FieldType } from '../field-type.js'

export const textField: FieldType = {
  type: 'text',
  options: {
    min: { kind: 'int', default: 0 },
    max: { kind: 'int', default: 0 },
    pattern: { kind: 'string', default: '', max: 1000 },
    autogeneratePattern: { kind: 'string', default: '', max: 1000 },
    required: { kind: 'bool', default: false },
    primaryKey: { kind: 'bool', default: false },
  },
  hasHelp: true,
  column: () => 'text',
  validateOptions(f, _ctx, report) {
    const min = f.min as number
    const max = f.max as number
    if (max > 0 && min > max)
      report('max', fieldError('validation_min_greater_equal_than_required', `Must be no less than ${min}.`))
    if (f.pattern && !isValidRegex(f.pattern as string))
      report('pattern', fieldError('validation_invalid_regex', 'Invalid regular expression.'))
    if (f.autogeneratePattern && !isValidRegex(f.autogeneratePattern as string))
      report('autogeneratePattern', fieldError('validation_invalid_regex', 'Invalid regular expression.'))
    if (f.primaryKey && f.name !== 'id')
      report(
        'primaryKey',
        fieldError('validation_primary_key_not_id', 'Only the id field can be a primary key.'),
      )
  },
}

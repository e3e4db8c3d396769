import { fieldError, type FieldError } from '../../lib/index.js'
import type { Field } from '../collection.js'
import { isValidRegex, type FieldType } from '../field-type.js'
import { autogenerateValue } from './autogenerate.js'
import { castToString, runeCount } from './cast.js'
import { matchesPattern, requiredError, unsupportedValueType } from './values.js'

/** 0 means this many runes. */
export const DEFAULT_TEXT_MAX = 5000

/** The id pattern of new collections; other patterns get the extra primary key checks. */
export const DEFAULT_ID_PATTERN = '^[a-z0-9]+$'

// Characters a non-default primary key may not hold, in PocketBase's order (the first one found in
// this list is the one reported): ids end up in file paths.
const FORBIDDEN_PK_CHARACTERS = [
  '.',
  '/',
  '\\',
  '|',
  '"',
  "'",
  '`',
  '<',
  '>',
  ':',
  '?',
  '*',
  '%',
  '$',
  '\0',
  '\t',
  '\n',
  '\r',
  ' ',
]

// Windows device names, compared case-insensitively.
const RESERVED_PKS = [
  'CON',
  'PRN',
  'AUX',
  'NUL',
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => `COM${n}`),
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => `LPT${n}`),
]

function validateText(f: Field, value: string): FieldError | undefined {
  if ((f.required || f.primaryKey) && value === '') return requiredError()
  if (value === '') return undefined
  const length = runeCount(value)
  const min = f.min as number
  if (min > 0 && length < min)
    return fieldError('validation_min_text_constraint', `Must be at least ${min} character(s).`, { min })
  const max = (f.max as number) || DEFAULT_TEXT_MAX
  if (length > max)
    return fieldError('validation_max_text_constraint', `Must be no more than ${max} character(s).`, { max })
  const pattern = f.pattern as string
  if (pattern !== '' && !matchesPattern(pattern, value))
    return fieldError('validation_invalid_format', 'Invalid value format.')
  if (f.primaryKey && pattern !== DEFAULT_ID_PATTERN) {
    const ch = FORBIDDEN_PK_CHARACTERS.find((c) => value.includes(c))
    if (ch !== undefined)
      return fieldError(
        'validation_forbidden_pk_character',
        `'${ch}' is not a valid primary key character.`,
        {
          ch,
        },
      )
    const upper = value.toUpperCase()
    const reserved = length <= 4 ? RESERVED_PKS.find((r) => r === upper) : undefined
    if (reserved !== undefined)
      return fieldError(
        'validation_reserved_pk',
        `The primary key '${reserved}' is reserved and cannot be used.`,
        {
          reserved,
        },
      )
  }
  return undefined
}

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
  zeroValue: () => '',
  prepareValue: (_f, raw) => castToString(raw),
  validateValue(f, value, ctx) {
    if (typeof value !== 'string') return unsupportedValueType()
    // A stored primary key is not validated again (it may predate the options); records refuses a
    // changed id itself (validation_pk_change).
    if (f.primaryKey && !ctx.isNew) return undefined
    return validateText(f, value)
  },
  autogenerate: (f) => autogenerateValue(f.autogeneratePattern as string),
}

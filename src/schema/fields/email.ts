import { fieldError } from '../../lib/index.js'
import type { FieldType } from '../field-type.js'
import { castToString } from './cast.js'
import { domainAllowed, domainOptions, validateDomains } from './domains.js'
import { isEmail } from './formats.js'
import { requiredError, unsupportedValueType } from './values.js'

export const emailField: FieldType = {
  type: 'email',
  options: domainOptions,
  hasHelp: true,
  column: () => 'text',
  validateOptions: (f, _ctx, report) => validateDomains(f, report),
  zeroValue: () => '',
  prepareValue: (_f, raw) => castToString(raw),
  validateValue(f, value) {
    if (typeof value !== 'string') return unsupportedValueType()
    if (value === '') return f.required ? requiredError() : undefined
    if (!isEmail(value)) return fieldError('validation_is_email', 'Must be a valid email address.')
    // The domain is what follows the last '@', compared exactly as listed.
    if (!domainAllowed(f, value.slice(value.lastIndexOf('@') + 1)))
      return fieldError('validation_email_domain_not_allowed', 'Email domain is not allowed.')
    return undefined
  },
}

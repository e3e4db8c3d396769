import { fieldError } from '../../lib/index.js'
import type { FieldType } from '../field-type.js'
import { castToString } from './cast.js'
import { domainAllowed, domainOptions, validateDomains } from './domains.js'
import { isURL, parseGoURL } from './formats.js'
import { requiredError, unsupportedValueType } from './values.js'

export const urlField: FieldType = {
  type: 'url',
  options: domainOptions,
  hasHelp: true,
  column: () => 'text',
  validateOptions: (f, _ctx, report) => validateDomains(f, report),
  zeroValue: () => '',
  prepareValue: (_f, raw) => castToString(raw),
  validateValue(f, value) {
    if (typeof value !== 'string') return unsupportedValueType()
    if (value === '') return f.required ? requiredError() : undefined
    if (!isURL(value)) return fieldError('validation_invalid_url', 'Must be a valid url.')
    // The host as Go's url.Parse gives it: with its port, '' for a URL without "//".
    if (!domainAllowed(f, parseGoURL(value)?.host ?? ''))
      return fieldError('validation_url_domain_not_allowed', 'Url domain is not allowed.')
    return undefined
  },
}

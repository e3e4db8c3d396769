import type { FieldType } from '../field-type.js'
import { domainOptions, validateDomains } from './domains.js'

export const emailField: FieldType = {
  type: 'email',
  options: domainOptions,
  hasHelp: true,
  column: () => 'text',
  validateOptions: (f, _ctx, report) => validateDomains(f, report),
}

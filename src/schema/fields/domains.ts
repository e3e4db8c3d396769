import { fieldError } from '../../lib/index.js'
import type { OptionSpec, ReportOptionError } from '../field-type.js'
import type { Field } from '../collection.js'

/** The `exceptDomains` / `onlyDomains` options shared by the email and url types. */
export const domainOptions: Record<string, OptionSpec> = {
  exceptDomains: { kind: 'nullableStrings', default: null },
  onlyDomains: { kind: 'nullableStrings', default: null },
  required: { kind: 'bool', default: false },
}

const DOMAIN =
  /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i

export function validateDomains(f: Field, report: ReportOptionError): void {
  const except = (f.exceptDomains as string[] | null) ?? []
  const only = (f.onlyDomains as string[] | null) ?? []
  if (except.length > 0 && only.length > 0)
    report(
      'onlyDomains',
      fieldError('validation_either_except_or_only', 'Set either exceptDomains or onlyDomains, not both.'),
    )
  for (const [key, list] of [
    ['exceptDomains', except],
    ['onlyDomains', only],
  ] as const) {
    if (list.some((d) => !DOMAIN.test(d)))
      report(key, fieldError('validation_invalid_domain', 'Invalid domain.'))
  }
}

/** The record-value side of the lists: `onlyDomains` must list the domain, `exceptDomains` must not. */
export function domainAllowed(f: Field, domain: string): boolean {
  const only = (f.onlyDomains as string[] | null) ?? []
  const except = (f.exceptDomains as string[] | null) ?? []
  if (only.length > 0 && !only.includes(domain)) return false
  return !(except.length > 0 && except.includes(domain))
}

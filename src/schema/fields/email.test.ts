import { describe, expect, it } from 'vitest'
import { err, field, NEW, REQUIRED, typeOf, UNSUPPORTED } from './fields.test-helper.js'

const email = typeOf('email')
const INVALID = err('validation_is_email', 'Must be a valid email address.')
const DOMAIN = err('validation_email_domain_not_allowed', 'Email domain is not allowed.')

describe('email prepareValue', () => {
  const f = field('email')
  const cases: [unknown, string][] = [
    ['a@b.co', 'a@b.co'],
    ['', ''],
    [' a@b.co ', ' a@b.co '],
    [5, '5'],
    [true, 'true'],
    [null, ''],
    [undefined, ''],
    [['a@b.co'], ''],
    [{ email: 'a@b.co' }, ''],
  ]
  it.each(cases)('%j -> %j', (raw, want) => expect(email.prepareValue(f, raw)).toBe(want))
  it('zero value', () => expect(email.zeroValue(f)).toBe(''))
})

describe('email validateValue', () => {
  it('blank', () => {
    expect(email.validateValue(field('email'), '', NEW)).toBeUndefined()
    expect(email.validateValue(field('email', { required: true }), '', NEW)).toStrictEqual(REQUIRED)
  })
  it('format', () => {
    const f = field('email')
    expect(email.validateValue(f, 'a@b.co', NEW)).toBeUndefined()
    expect(email.validateValue(f, 'Jane.Doe+x@Example.COM', NEW)).toBeUndefined()
    for (const v of ['nope', 'a@b', ' a@b.co', 'a@b.co ', '@b.co', 'a@.co'])
      expect(email.validateValue(f, v, NEW)).toStrictEqual(INVALID)
  })
  it('onlyDomains: exact domain after the last @', () => {
    const f = field('email', { onlyDomains: ['b.co', 'x.org'] })
    expect(email.validateValue(f, 'a@b.co', NEW)).toBeUndefined()
    expect(email.validateValue(f, 'a@x.org', NEW)).toBeUndefined()
    expect(email.validateValue(f, 'a@c.co', NEW)).toStrictEqual(DOMAIN)
    expect(email.validateValue(f, 'a@sub.b.co', NEW)).toStrictEqual(DOMAIN)
    expect(email.validateValue(f, 'a@B.co', NEW)).toStrictEqual(DOMAIN) // case-sensitive, as PocketBase
  })
  it('exceptDomains', () => {
    const f = field('email', { exceptDomains: ['b.co'] })
    expect(email.validateValue(f, 'a@b.co', NEW)).toStrictEqual(DOMAIN)
    expect(email.validateValue(f, 'a@c.co', NEW)).toBeUndefined()
  })
  it('format is checked before domains', () => {
    expect(email.validateValue(field('email', { onlyDomains: ['b.co'] }), 'x@', NEW)).toStrictEqual(INVALID)
  })
  it('non-strings are refused', () => {
    expect(email.validateValue(field('email'), null, NEW)).toStrictEqual(UNSUPPORTED)
  })
})

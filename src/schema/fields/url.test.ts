import { describe, expect, it } from 'vitest'
import { err, field, NEW, REQUIRED, typeOf, UNSUPPORTED } from './fields.test-helper.js'

const url = typeOf('url')
const INVALID = err('validation_invalid_url', 'Must be a valid url.')
const DOMAIN = err('validation_url_domain_not_allowed', 'Url domain is not allowed.')

describe('url prepareValue', () => {
  const f = field('url')
  const cases: [unknown, string][] = [
    ['https://a.com', 'https://a.com'],
    ['', ''],
    [5, '5'],
    [false, 'false'],
    [null, ''],
    [undefined, ''],
    [['https://a.com'], ''],
    [{ href: 'https://a.com' }, ''],
  ]
  it.each(cases)('%j -> %j', (raw, want) => expect(url.prepareValue(f, raw)).toBe(want))
  it('zero value', () => expect(url.zeroValue(f)).toBe(''))
})

describe('url validateValue', () => {
  it('blank', () => {
    expect(url.validateValue(field('url'), '', NEW)).toBeUndefined()
    expect(url.validateValue(field('url', { required: true }), '', NEW)).toStrictEqual(REQUIRED)
  })
  it('format', () => {
    const f = field('url')
    for (const v of [
      'https://example.com',
      'http://localhost:8090/x?y=1#z',
      'example.com',
      'ftp://files.example.org/a.txt',
    ])
      expect(url.validateValue(f, v, NEW)).toBeUndefined()
    for (const v of ['nope', 'http://', 'javascript:alert(1)', 'http://exa mple.com', 'rtmp://a.com'])
      expect(url.validateValue(f, v, NEW)).toStrictEqual(INVALID)
  })
  it('onlyDomains compare the host as Go parses it (port included)', () => {
    const f = field('url', { onlyDomains: ['example.com'] })
    expect(url.validateValue(f, 'https://example.com/x', NEW)).toBeUndefined()
    expect(url.validateValue(f, 'https://user:pw@example.com', NEW)).toBeUndefined()
    expect(url.validateValue(f, 'https://example.com:8080', NEW)).toStrictEqual(DOMAIN)
    expect(url.validateValue(f, 'https://sub.example.com', NEW)).toStrictEqual(DOMAIN)
    expect(url.validateValue(f, 'example.com', NEW)).toStrictEqual(DOMAIN) // no "//": no host
  })
  it('exceptDomains', () => {
    const f = field('url', { exceptDomains: ['example.com'] })
    expect(url.validateValue(f, 'https://example.com', NEW)).toStrictEqual(DOMAIN)
    expect(url.validateValue(f, 'https://sub.example.com', NEW)).toBeUndefined()
    expect(url.validateValue(f, 'example.com', NEW)).toBeUndefined()
  })
  it('non-strings are refused', () => {
    expect(url.validateValue(field('url'), 1, NEW)).toStrictEqual(UNSUPPORTED)
  })
})

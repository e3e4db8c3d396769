import { describe, expect, it } from 'vitest'
import { err, field, NEW, OLD, REQUIRED, typeOf, UNSUPPORTED } from './fields.test-helper.js'

const password = typeOf('password')
const short = (min: number) => err('validation_min_text_constraint', `Must be at least ${min} character(s).`)
const long = (max: number) => err('validation_max_text_constraint', `Must be less than ${max} character(s).`)

describe('password prepareValue (the plain text)', () => {
  const f = field('password')
  const cases: [unknown, string][] = [
    ['secret', 'secret'],
    ['', ''],
    [' pad ', ' pad '],
    [12345678, '12345678'],
    [true, 'true'],
    [null, ''],
    [undefined, ''],
    [['x'], ''],
    [{ p: 'x' }, ''],
  ]
  it.each(cases)('%j -> %j', (raw, want) => expect(password.prepareValue(f, raw)).toBe(want))
  it('zero value', () => expect(password.zeroValue(f)).toBe(''))
})

describe('password validateValue', () => {
  const f = field('password', { min: 8, required: true })

  it('min and the default max 71, in runes', () => {
    expect(password.validateValue(f, 'a'.repeat(7), NEW)).toStrictEqual(short(8))
    expect(password.validateValue(f, 'a'.repeat(8), NEW)).toBeUndefined()
    expect(password.validateValue(f, 'ż'.repeat(8), NEW)).toBeUndefined()
    expect(password.validateValue(f, 'a'.repeat(71), NEW)).toBeUndefined()
    expect(password.validateValue(f, 'a'.repeat(72), NEW)).toStrictEqual(long(71))
  })

  it('an explicit max', () => {
    const g = field('password', { min: 1, max: 10 })
    expect(password.validateValue(g, 'a'.repeat(10), NEW)).toBeUndefined()
    expect(password.validateValue(g, 'a'.repeat(11), NEW)).toStrictEqual(long(10))
  })

  it('pattern', () => {
    const g = field('password', { pattern: '[0-9]' })
    expect(password.validateValue(g, 'abcdefg1', NEW)).toBeUndefined()
    expect(password.validateValue(g, 'abcdefgh', NEW)).toStrictEqual(
      err('validation_invalid_format', 'Invalid value format.'),
    )
  })

  it('required; undefined on update means unchanged', () => {
    expect(password.validateValue(f, '', NEW)).toStrictEqual(REQUIRED)
    expect(password.validateValue(f, undefined, NEW)).toStrictEqual(REQUIRED)
    expect(password.validateValue(f, '', OLD)).toStrictEqual(REQUIRED)
    expect(password.validateValue(f, undefined, OLD)).toBeUndefined()
    expect(password.validateValue(field('password', { min: 8 }), '', NEW)).toBeUndefined()
    expect(password.validateValue(field('password', { min: 8 }), undefined, NEW)).toBeUndefined()
  })

  it('non-strings are refused', () => {
    expect(password.validateValue(f, 12345678, NEW)).toStrictEqual(UNSUPPORTED)
    expect(password.validateValue(f, null, OLD)).toStrictEqual(UNSUPPORTED)
  })
})

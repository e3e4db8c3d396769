import { describe, expect, it } from 'vitest'
import { idField } from '../defaults.js'
import { newRecordId } from '../../lib/index.js'
import { err, field, NEW, OLD, REQUIRED, typeOf, UNSUPPORTED } from './fields.test-helper.js'

const text = typeOf('text')
const minText = (min: number) =>
  err('validation_min_text_constraint', `Must be at least ${min} character(s).`, { min })
const maxText = (max: number) =>
  err('validation_max_text_constraint', `Must be no more than ${max} character(s).`, { max })
const FORMAT = err('validation_invalid_format', 'Invalid value format.')

describe('text prepareValue', () => {
  const f = field('text')
  const cases: [unknown, string][] = [
    ['abc', 'abc'],
    ['', ''],
    [' spaced ', ' spaced '],
    [12, '12'],
    [-1.5, '-1.5'],
    [1e21, '1000000000000000000000'],
    [true, 'true'],
    [false, 'false'],
    [null, ''],
    [undefined, ''],
    [['a', 'b'], ''],
    ['["a"]', '["a"]'],
    [{ a: 1 }, ''],
  ]
  it.each(cases)('%j -> %j', (raw, want) => expect(text.prepareValue(f, raw)).toBe(want))
  it('zero value', () => expect(text.zeroValue(f)).toBe(''))
})

describe('text validateValue', () => {
  it('min and max in runes, at the limit and one past it', () => {
    const f = field('text', { min: 3, max: 5 })
    expect(text.validateValue(f, 'ab', NEW)).toStrictEqual(minText(3))
    expect(text.validateValue(f, 'abc', NEW)).toBeUndefined()
    expect(text.validateValue(f, 'abcde', NEW)).toBeUndefined()
    expect(text.validateValue(f, 'abcdef', NEW)).toStrictEqual(maxText(5))
    expect(text.validateValue(f, 'żółwi', NEW)).toBeUndefined() // 5 runes, 9 bytes
    expect(text.validateValue(f, 'ab😀', NEW)).toBeUndefined() // 3 runes, 4 UTF-16 units
    expect(text.validateValue(f, 'żółwią', NEW)).toStrictEqual(maxText(5))
  })

  it('max 0 means 5000', () => {
    const f = field('text')
    expect(text.validateValue(f, 'a'.repeat(5000), NEW)).toBeUndefined()
    expect(text.validateValue(f, 'a'.repeat(5001), NEW)).toStrictEqual(maxText(5000))
  })

  it('an empty value skips min and pattern unless required', () => {
    const f = field('text', { min: 3, pattern: '^x+$' })
    expect(text.validateValue(f, '', NEW)).toBeUndefined()
    expect(text.validateValue({ ...f, required: true }, '', NEW)).toStrictEqual(REQUIRED)
    expect(text.validateValue({ ...f, required: true }, '', OLD)).toStrictEqual(REQUIRED)
  })

  it('pattern', () => {
    const f = field('text', { pattern: '^[a-z]+$' })
    expect(text.validateValue(f, 'abc', NEW)).toBeUndefined()
    expect(text.validateValue(f, 'abC', NEW)).toStrictEqual(FORMAT)
    // unanchored patterns match anywhere, as Go's MatchString
    expect(text.validateValue(field('text', { pattern: '[0-9]' }), 'ab1c', NEW)).toBeUndefined()
  })

  it('checks run in order: min, max, pattern', () => {
    const f = field('text', { min: 2, max: 3, pattern: '^[a-z]+$' })
    expect(text.validateValue(f, 'A', NEW)).toStrictEqual(minText(2))
    expect(text.validateValue(f, 'ABCD', NEW)).toStrictEqual(maxText(3))
    expect(text.validateValue(f, 'AB', NEW)).toStrictEqual(FORMAT)
  })

  it('non-strings are refused', () => {
    for (const v of [1, null, undefined, ['a'], true])
      expect(text.validateValue(field('text'), v, NEW)).toStrictEqual(UNSUPPORTED)
  })
})

describe('text primary key', () => {
  const custom = field('text', { primaryKey: true, required: true, pattern: '' })
  const forbidden = (ch: string) =>
    err('validation_forbidden_pk_character', `'${ch}' is not a valid primary key character.`, { ch })
  const reserved = (name: string) =>
    err('validation_reserved_pk', `The primary key '${name}' is reserved and cannot be used.`, {
      reserved: name,
    })

  it('the default id field accepts generated ids and refuses others by pattern and length', () => {
    const id = idField()
    expect(text.validateValue(id, newRecordId(), NEW)).toBeUndefined()
    expect(text.validateValue(id, 'abc', NEW)).toStrictEqual(minText(15))
    expect(text.validateValue(id, 'a'.repeat(16), NEW)).toStrictEqual(maxText(15))
    expect(text.validateValue(id, 'ABCDEFGHIJKLMNO', NEW)).toStrictEqual(FORMAT)
    expect(text.validateValue(id, '', NEW)).toStrictEqual(REQUIRED)
  })

  it('is required even when not marked so', () => {
    expect(text.validateValue(field('text', { primaryKey: true }), '', NEW)).toStrictEqual(REQUIRED)
  })

  const chars: [string, string][] = [
    ['a.b', '.'],
    ['a/b', '/'],
    ['a\\b', '\\'],
    ['a|b', '|'],
    ['a"b', '"'],
    ["a'b", "'"],
    ['a`b', '`'],
    ['a<b', '<'],
    ['a>b', '>'],
    ['a:b', ':'],
    ['a?b', '?'],
    ['a*b', '*'],
    ['a%b', '%'],
    ['a$b', '$'],
    ['a\0b', '\0'],
    ['a\tb', '\t'],
    ['a\nb', '\n'],
    ['a\rb', '\r'],
    ['a b', ' '],
    ['a$b.c', '.'], // the first in PocketBase's list, not in the value
  ]
  it.each(chars)('non-default pattern: %j -> forbidden %j', (value, ch) =>
    expect(text.validateValue(custom, value, NEW)).toStrictEqual(forbidden(ch)),
  )

  const names: [string, string | undefined][] = [
    ['con', 'CON'],
    ['Com1', 'COM1'],
    ['lpt9', 'LPT9'],
    ['NUL', 'NUL'],
    ['aux', 'AUX'],
    ['prn', 'PRN'],
    ['com0', undefined],
    ['con1', undefined],
    ['console', undefined],
    ['lpt10', undefined],
  ]
  it.each(names)('non-default pattern: %j -> reserved %j', (value, name) =>
    expect(text.validateValue(custom, value, NEW)).toStrictEqual(
      name === undefined ? undefined : reserved(name),
    ),
  )

  it('the default pattern skips the extra checks (it already excludes them)', () => {
    const f = field('text', { primaryKey: true, pattern: '^[a-z0-9]+$' })
    expect(text.validateValue(f, 'con', NEW)).toBeUndefined()
    expect(text.validateValue(f, 'a.b', NEW)).toStrictEqual(FORMAT)
  })

  it('pattern runs before the primary key checks', () => {
    const f = field('text', { primaryKey: true, pattern: '^[a-z]+$' })
    expect(text.validateValue(f, 'a b', NEW)).toStrictEqual(FORMAT)
    expect(text.validateValue(f, 'nul', NEW)).toStrictEqual(reserved('NUL'))
  })

  it('a stored id is not validated again on update', () => {
    expect(text.validateValue(custom, 'a.b', OLD)).toBeUndefined()
    expect(text.validateValue(idField(), 'legacy-ID', OLD)).toBeUndefined()
    expect(text.validateValue(custom, 5, OLD)).toStrictEqual(UNSUPPORTED)
  })
})

describe('text autogenerate', () => {
  it('follows autogeneratePattern', () => {
    const id = idField()
    const out = Array.from({ length: 1000 }, () => text.autogenerate!(id))
    for (const v of out) {
      expect(v).toMatch(/^[a-z0-9]{15}$/)
      expect(text.validateValue(id, v, NEW)).toBeUndefined()
    }
    expect(new Set(out).size).toBe(1000)
  })
  it('is empty without a pattern', () => expect(text.autogenerate!(field('text'))).toBe(''))
  it('a prefix pattern', () =>
    expect(text.autogenerate!(field('text', { autogeneratePattern: 'u_[0-9]{3}' }))).toMatch(/^u_[0-9]{3}$/))
})

import { describe, expect, it } from 'vitest'
import { err, field, NEW, REQUIRED, typeOf } from './fields.test-helper.js'
import { goJSONSize } from './json.js'

const json = typeOf('json')
const INVALID = err('validation_invalid_json', 'Must be a valid json value.')
const tooBig = (maxSize: number) =>
  err('validation_json_size_limit', `The maximum allowed JSON size is ${maxSize} bytes.`, { maxSize })

describe('json prepareValue', () => {
  const f = field('json')
  const cases: [unknown, unknown][] = [
    ['true', true],
    ['false', false],
    ['null', null],
    ['123', 123],
    ['-1.5', -1.5],
    ['1e3', 1000],
    ['[1,"a"]', [1, 'a']],
    ['{"a":{"b":[]}}', { a: { b: [] } }],
    ['"quoted"', 'quoted'],
    ['""', ''],
    ['', ''],
    ['hello', 'hello'],
    ['True', 'True'],
    ['01', '01'],
    ['-', '-'],
    ['[1,', '[1,'],
    [' [1]', ' [1]'], // must start with the JSON character
    ['[1] ', [1]], // trailing white space is valid JSON
    [{ a: 1 }, { a: 1 }],
    [
      [1, 2],
      [1, 2],
    ],
    [5, 5],
    [false, false],
    [null, null],
    [undefined, null],
  ]
  it.each(cases)('%j -> %j', (raw, want) => expect(json.prepareValue(f, raw)).toStrictEqual(want))
  it('zero value', () => expect(json.zeroValue(f)).toBeNull())
})

describe('json validateValue', () => {
  it('maxSize in bytes of the compact JSON, at the limit and one past it', () => {
    const f = field('json', { maxSize: 10 })
    expect(json.validateValue(f, { a: 'bc' }, NEW)).toBeUndefined() // {"a":"bc"}
    expect(json.validateValue(f, { a: 'bcd' }, NEW)).toStrictEqual(tooBig(10))
    expect(json.validateValue(f, 'ż'.repeat(4), NEW)).toBeUndefined() // "żżżż" = 10 bytes
    expect(json.validateValue(f, { a: '<' }, NEW)).toStrictEqual(tooBig(10)) // Go writes \u003c
  })
  it('maxSize 0 means 1 MiB', () => {
    const f = field('json')
    expect(json.validateValue(f, 'a'.repeat(1024 * 1024 - 2), NEW)).toBeUndefined()
    expect(json.validateValue(f, 'a'.repeat(1024 * 1024 - 1), NEW)).toStrictEqual(tooBig(1048576))
  })
  it('required rejects null, "", [] and {}', () => {
    const f = field('json', { required: true })
    for (const v of [null, '', [], {}]) expect(json.validateValue(f, v, NEW)).toStrictEqual(REQUIRED)
    for (const v of [0, false, ' ', [null], { a: null }])
      expect(json.validateValue(f, v, NEW)).toBeUndefined()
    expect(json.validateValue(field('json'), null, NEW)).toBeUndefined()
  })
  it('values JSON cannot carry are invalid', () => {
    const f = field('json')
    for (const v of [Infinity, NaN, { a: undefined }, [1, () => 1], new Date(0), undefined, 10n])
      expect(json.validateValue(f, v, NEW)).toStrictEqual(INVALID)
    expect(json.validateValue(f, json.prepareValue(f, '1e400'), NEW)).toStrictEqual(INVALID)
  })
  it('goJSONSize counts Go escapes', () => {
    expect(goJSONSize('a&b')).toBe(10) // "a\u0026b"
    expect(goJSONSize('\u2028')).toBe(8)
    expect(goJSONSize({ k: [1, true, null] })).toBe(19)
  })
  it('has no modifiers', () => expect(json.applyModifier).toBeUndefined())
})

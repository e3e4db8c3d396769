import { describe, expect, it } from 'vitest'
import { err, field, NEW, REQUIRED, typeOf, UNSUPPORTED } from './fields.test-helper.js'

const number = typeOf('number')
const NAN = err('validation_not_a_number', 'The submitted number is not properly formatted.')
const ONLY_INT = err('validation_only_int_constraint', 'Decimal numbers are not allowed.')
const larger = (s: string) => err('validation_min_number_constraint', `Must be larger than ${s}.`)
const less = (s: string) => err('validation_max_number_constraint', `Must be less than ${s}.`)

describe('number prepareValue', () => {
  const f = field('number')
  const cases: [unknown, number][] = [
    [5, 5],
    [-2.5, -2.5],
    ['12', 12],
    ['-1.5e2', -150],
    ['0x1p4', 16],
    ['12abc', 0],
    [' 12', 0],
    ['', 0],
    [true, 1],
    [false, 0],
    [null, 0],
    [undefined, 0],
    [[1], 0],
    [{ n: 1 }, 0],
    ['Inf', Infinity],
    ['-infinity', -Infinity],
    ['1e400', 0],
  ]
  it.each(cases)('%j -> %s', (raw, want) => expect(number.prepareValue(f, raw)).toBe(want))
  it('"NaN" -> NaN (refused by validation)', () => expect(number.prepareValue(f, 'NaN')).toBeNaN())
  it('zero value', () => expect(number.zeroValue(f)).toBe(0))
})

describe('number validateValue', () => {
  const f = field('number', { min: 1, max: 10 })

  it('range, at each limit and past it', () => {
    expect(number.validateValue(f, 0.999, NEW)).toStrictEqual(larger('1.000000'))
    expect(number.validateValue(f, 1, NEW)).toBeUndefined()
    expect(number.validateValue(f, 10, NEW)).toBeUndefined()
    expect(number.validateValue(f, 10.001, NEW)).toStrictEqual(less('10.000000'))
    expect(number.validateValue(field('number', { min: -2.5 }), -3, NEW)).toStrictEqual(larger('-2.500000'))
    expect(number.validateValue(field('number', { max: 0.1234567 }), 1, NEW)).toStrictEqual(less('0.123457'))
  })

  it('zero is unset: only required applies', () => {
    expect(number.validateValue(f, 0, NEW)).toBeUndefined()
    expect(number.validateValue({ ...f, required: true }, 0, NEW)).toStrictEqual(REQUIRED)
    expect(number.validateValue(field('number', { required: true }), -0, NEW)).toStrictEqual(REQUIRED)
    expect(number.validateValue(field('number', { required: true }), 0.5, NEW)).toBeUndefined()
  })

  it('onlyInt', () => {
    const i = field('number', { onlyInt: true })
    expect(number.validateValue(i, 2, NEW)).toBeUndefined()
    expect(number.validateValue(i, -7, NEW)).toBeUndefined()
    expect(number.validateValue(i, 1.5, NEW)).toStrictEqual(ONLY_INT)
    expect(number.validateValue(i, 2 ** 62, NEW)).toBeUndefined()
    expect(number.validateValue(i, 2 ** 63, NEW)).toStrictEqual(ONLY_INT) // past int64, as in Go
    expect(number.validateValue(i, -(2 ** 63), NEW)).toBeUndefined()
  })

  it('onlyInt is checked before the range', () => {
    expect(number.validateValue(field('number', { onlyInt: true, min: 5 }), 1.5, NEW)).toStrictEqual(ONLY_INT)
  })

  it('NaN and infinities', () => {
    expect(number.validateValue(f, NaN, NEW)).toStrictEqual(NAN)
    expect(number.validateValue(f, Infinity, NEW)).toStrictEqual(NAN)
    expect(number.validateValue(field('number', { required: true }), -Infinity, NEW)).toStrictEqual(NAN)
  })

  it('non-numbers are refused', () => {
    for (const v of ['5', null, true, [1]]) expect(number.validateValue(f, v, NEW)).toStrictEqual(UNSUPPORTED)
  })
})

describe('number modifiers', () => {
  const f = field('number')
  const cases: [unknown, '+' | '-' | '^', unknown, number | undefined][] = [
    [5, '+', 3, 8],
    [5, '+', '2', 7],
    [5, '+', -1.5, 3.5],
    [5, '-', 3, 2],
    [5, '-', '-3', 8],
    [5, '-', [1], 5],
    [5, '+', 'x', 5],
    [0, '+', true, 1],
    ['1.5', '+', 1, 2.5],
    [null, '-', 2, -2],
    [5, '^', 1, undefined],
  ]
  it.each(cases)('%j %s %j -> %s', (current, op, arg, want) =>
    expect(number.applyModifier!(f, current, op, arg)).toBe(want),
  )

  it('keys applied in order: n=1, n+=5, n-=2 -> 4', () => {
    let n = number.prepareValue(f, 1)
    n = number.applyModifier!(f, n, '+', 5)
    n = number.applyModifier!(f, n, '-', 2)
    expect(n).toBe(4)
  })
})

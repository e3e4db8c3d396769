import { describe, expect, it } from 'vitest'
import { err, field, NEW, REQUIRED, typeOf, UNSUPPORTED } from './fields.test-helper.js'

const date = typeOf('date')

describe('date prepareValue', () => {
  const f = field('date')
  const cases: [unknown, string][] = [
    ['2024-01-02 03:04:05.678Z', '2024-01-02 03:04:05.678Z'],
    ['2024-01-02', '2024-01-02 00:00:00.000Z'],
    ['2024-01-02T03:04:05Z', '2024-01-02 03:04:05.000Z'],
    ['2024-01-02T03:04:05.123456789Z', '2024-01-02 03:04:05.123Z'],
    ['2024-01-02T03:04:05+02:00', '2024-01-02 01:04:05.000Z'],
    ['2024-01-02 03:04:05', '2024-01-02 03:04:05.000Z'],
    [' 2024-01-02 ', '2024-01-02 00:00:00.000Z'],
    [1700000000, '2023-11-14 22:13:20.000Z'],
    ['1700000000', '2023-11-14 22:13:20.000Z'],
    [1e12, ''], // year 33658: outside the format
    ['2024-13-01', ''],
    ['garbage', ''],
    ['', ''],
    [null, ''],
    [undefined, ''],
    [true, ''],
    [['2024-01-02'], ''],
    [{ date: '2024-01-02' }, ''],
  ]
  it.each(cases)('%j -> %j', (raw, want) => expect(date.prepareValue(f, raw)).toBe(want))
  it('zero value', () => expect(date.zeroValue(f)).toBe(''))
})

describe('date validateValue', () => {
  const f = field('date', { min: '2024-01-01 00:00:00.000Z', max: '2024-12-31 23:59:59.999Z' })
  const tooEarly = err(
    'validation_min_greater_equal_than_required',
    'Must be no less than 2024-01-01 00:00:00 +0000 UTC.',
    {
      threshold: '2024-01-01T00:00:00Z',
    },
  )
  const tooLate = err(
    'validation_max_less_equal_than_required',
    'Must be no greater than 2024-12-31 23:59:59.999 +0000 UTC.',
    { threshold: '2024-12-31T23:59:59.999Z' },
  )

  it('min and max, at each limit and one millisecond past it', () => {
    expect(date.validateValue(f, '2023-12-31 23:59:59.999Z', NEW)).toStrictEqual(tooEarly)
    expect(date.validateValue(f, '2024-01-01 00:00:00.000Z', NEW)).toBeUndefined()
    expect(date.validateValue(f, '2024-12-31 23:59:59.999Z', NEW)).toBeUndefined()
    expect(date.validateValue(f, '2025-01-01 00:00:00.000Z', NEW)).toStrictEqual(tooLate)
  })

  it('thresholds print as Go does, trailing zeros of the fraction dropped', () => {
    const g = field('date', { min: '2024-01-01 00:00:00.500Z' })
    expect(date.validateValue(g, '2024-01-01 00:00:00.499Z', NEW)).toStrictEqual(
      err(
        'validation_min_greater_equal_than_required',
        'Must be no less than 2024-01-01 00:00:00.5 +0000 UTC.',
        {
          threshold: '2024-01-01T00:00:00.5Z',
        },
      ),
    )
  })

  it('blank skips the limits unless required', () => {
    expect(date.validateValue(f, '', NEW)).toBeUndefined()
    expect(date.validateValue({ ...f, required: true }, '', NEW)).toStrictEqual(REQUIRED)
    expect(
      date.validateValue(field('date', { required: true }), '2024-05-05 00:00:00.000Z', NEW),
    ).toBeUndefined()
  })

  it('non-strings are refused', () => {
    expect(date.validateValue(f, 1700000000, NEW)).toStrictEqual(UNSUPPORTED)
    expect(date.validateValue(f, null, NEW)).toStrictEqual(UNSUPPORTED)
  })
})

describe('autodate', () => {
  const autodate = typeOf('autodate')
  const f = field('autodate')
  const raws: unknown[] = [
    '2024-01-02 03:04:05.000Z',
    '2024-01-02',
    '',
    0,
    1700000000,
    true,
    null,
    undefined,
    ['x'],
    {},
  ]
  it.each(raws)('client value %j is ignored -> ""', (raw) => expect(autodate.prepareValue(f, raw)).toBe(''))
  it('zero value and validation', () => {
    expect(autodate.zeroValue(f)).toBe('')
    expect(autodate.validateValue(f, '', NEW)).toBeUndefined()
    expect(autodate.validateValue(f, 'whatever', NEW)).toBeUndefined()
    expect(autodate.applyModifier).toBeUndefined()
  })
})

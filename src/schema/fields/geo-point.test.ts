import { describe, expect, it } from 'vitest'
import { err, field, NEW, REQUIRED, typeOf, UNSUPPORTED } from './fields.test-helper.js'

const geo = typeOf('geoPoint')
const LAT = err('validation_invalid_latitude', 'Latitude must be between -90 and 90 degrees.')
const LON = err('validation_invalid_longitude', 'Longitude must be between -180 and 180 degrees.')
const ZERO = { lon: 0, lat: 0 }

describe('geoPoint prepareValue', () => {
  const f = field('geoPoint')
  const cases: [unknown, { lon: number; lat: number }][] = [
    [
      { lon: 12.5, lat: -3 },
      { lon: 12.5, lat: -3 },
    ],
    [
      { LON: 1, Lat: 2 },
      { lon: 1, lat: 2 },
    ],
    [
      { lat: 1, LAT: 3 },
      { lon: 0, lat: 3 },
    ], // the later key wins
    [
      { lon: '1', lat: 2 },
      { lon: 0, lat: 2 },
    ], // a string is skipped
    [
      { lon: null, lat: 1, extra: true },
      { lon: 0, lat: 1 },
    ],
    ['{"lon":1,"lat":2}', { lon: 1, lat: 2 }],
    ['{"lon":1', ZERO],
    ['', ZERO],
    ['x', ZERO],
    ['[1,2]', ZERO],
    [[1, 2], ZERO],
    [5, ZERO],
    [true, ZERO],
    [null, ZERO],
    [undefined, ZERO],
  ]
  it.each(cases)('%j -> %j', (raw, want) => expect(geo.prepareValue(f, raw)).toStrictEqual(want))
  it('serializes lon first', () =>
    expect(JSON.stringify(geo.prepareValue(f, { lat: 2, lon: 1 }))).toBe('{"lon":1,"lat":2}'))
  it('zero value', () => expect(geo.zeroValue(f)).toStrictEqual(ZERO))
})

describe('geoPoint validateValue', () => {
  const f = field('geoPoint')
  it('latitude and longitude, at each limit and past it', () => {
    expect(geo.validateValue(f, { lon: 0, lat: 90 }, NEW)).toBeUndefined()
    expect(geo.validateValue(f, { lon: 0, lat: -90 }, NEW)).toBeUndefined()
    expect(geo.validateValue(f, { lon: 0, lat: 90.0001 }, NEW)).toStrictEqual(LAT)
    expect(geo.validateValue(f, { lon: 0, lat: -90.0001 }, NEW)).toStrictEqual(LAT)
    expect(geo.validateValue(f, { lon: 180, lat: 0 }, NEW)).toBeUndefined()
    expect(geo.validateValue(f, { lon: -180, lat: 0 }, NEW)).toBeUndefined()
    expect(geo.validateValue(f, { lon: 180.5, lat: 0 }, NEW)).toStrictEqual(LON)
    expect(geo.validateValue(f, { lon: -181, lat: 0 }, NEW)).toStrictEqual(LON)
    expect(geo.validateValue(f, { lon: 200, lat: 100 }, NEW)).toStrictEqual(LAT) // latitude first
  })
  it('{0,0} is unset', () => {
    expect(geo.validateValue(f, ZERO, NEW)).toBeUndefined()
    expect(geo.validateValue(field('geoPoint', { required: true }), ZERO, NEW)).toStrictEqual(REQUIRED)
    expect(geo.validateValue(field('geoPoint', { required: true }), { lon: 0, lat: 1 }, NEW)).toBeUndefined()
  })
  it('other shapes are refused', () => {
    for (const v of [null, [0, 0], '{"lon":0,"lat":0}', { lon: '1', lat: 0 }, { lon: 1 }])
      expect(geo.validateValue(f, v, NEW)).toStrictEqual(UNSUPPORTED)
  })
})

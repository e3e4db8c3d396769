import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Field } from '../collection.js'
import type { ModifierOp } from '../field-type.js'
import { field, NEW, OLD } from './fields.test-helper.js'
import { FIELD_TYPES } from './index.js'

/** One or two representative definitions of every type. */
const FIELDS: Field[] = [
  field('text'),
  field('text', { min: 2, max: 5, pattern: '^[a-z]+$', primaryKey: true }),
  field('editor', { maxSize: 10 }),
  field('number', { min: -5, max: 5, onlyInt: true }),
  field('bool'),
  field('email', { onlyDomains: ['b.co'] }),
  field('url', { exceptDomains: ['a.com'] }),
  field('date', { min: '2020-01-01 00:00:00.000Z' }),
  field('autodate'),
  field('select', { values: ['a', 'b'] }),
  field('select', { values: ['a', 'b'], maxSelect: 2 }),
  field('file', { maxSelect: 3 }),
  field('file'),
  field('relation', { collectionId: 'pbc_1', minSelect: 1, maxSelect: 2 }),
  field('relation', { collectionId: 'pbc_1' }),
  field('json', { maxSize: 100 }),
  field('password', { min: 3 }),
  field('geoPoint'),
]

const type = (f: Field) => FIELD_TYPES.get(f.type)!

describe('every field type', () => {
  it('is covered here', () => {
    expect(new Set(FIELDS.map((f) => f.type))).toEqual(new Set(FIELD_TYPES.keys()))
  })

  it('has modifiers exactly where PocketBase has them, and autogenerate on text only', () => {
    const withModifiers = [...FIELD_TYPES.values()].filter((t) => t.applyModifier).map((t) => t.type)
    expect(withModifiers.sort()).toEqual(['file', 'number', 'relation', 'select'])
    const withGenerator = [...FIELD_TYPES.values()].filter((t) => t.autogenerate).map((t) => t.type)
    expect(withGenerator).toEqual(['text'])
  })

  it.each(FIELDS.map((f) => [`${f.type} ${JSON.stringify(f.maxSelect ?? '')}`, f] as const))(
    '%s: absent and null submit the zero value, which passes when not required',
    (_name, f) => {
      const t = type(f)
      expect(t.prepareValue(f, undefined)).toStrictEqual(t.zeroValue(f))
      if (f.type !== 'json') expect(t.prepareValue(f, null)).toStrictEqual(t.zeroValue(f))
      const v = t.zeroValue(f)
      // The primary key is required by nature; everything else accepts its zero value.
      expect(
        t.validateValue(f, f.type === 'password' ? undefined : v, f.primaryKey ? OLD : NEW),
      ).toBeUndefined()
    },
  )

  it('never throws, whatever is submitted', () => {
    const ops: ModifierOp[] = ['+', '^', '-']
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.constantFrom(...ops), (raw, arg, op) => {
        for (const f of FIELDS) {
          const t = type(f)
          const v = t.prepareValue(f, raw)
          for (const ctx of [NEW, OLD]) {
            const e = t.validateValue(f, v, ctx)
            if (e !== undefined) {
              expect(typeof e.code).toBe('string')
              expect(e.message).toMatch(/^\S.*[.!?]$/s)
            }
          }
          if (t.applyModifier) {
            const next = t.applyModifier(f, v, op, arg)
            if (f.type !== 'number' || op !== '^') expect(next).toBeDefined()
            t.validateValue(f, next, NEW)
          }
        }
      }),
      { numRuns: 500 },
    )
  })

  it('prepared values have the JSON type of the zero value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (raw) => {
        for (const f of FIELDS) {
          const t = type(f)
          if (f.type === 'json') continue
          const v = t.prepareValue(f, raw)
          const zero = t.zeroValue(f)
          expect(Array.isArray(v)).toBe(Array.isArray(zero))
          expect(typeof v).toBe(typeof zero)
        }
      }),
      { numRuns: 500 },
    )
  })
})

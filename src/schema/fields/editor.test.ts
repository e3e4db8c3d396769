import { describe, expect, it } from 'vitest'
import { err, field, NEW, REQUIRED, typeOf, UNSUPPORTED } from './fields.test-helper.js'

const editor = typeOf('editor')
const tooBig = (maxSize: number) =>
  err('validation_content_size_limit', `The maximum allowed content size is ${maxSize} bytes.`, { maxSize })

describe('editor prepareValue', () => {
  const f = field('editor')
  const cases: [unknown, string][] = [
    ['<p>x</p>', '<p>x</p>'],
    ['', ''],
    [3, '3'],
    [0.5, '0.5'],
    [true, 'true'],
    [null, ''],
    [undefined, ''],
    [['<p>'], ''],
    [{ html: '<p>' }, ''],
  ]
  it.each(cases)('%j -> %j', (raw, want) => expect(editor.prepareValue(f, raw)).toBe(want))
  it('zero value', () => expect(editor.zeroValue(f)).toBe(''))
})

describe('editor validateValue', () => {
  it('maxSize in bytes, at the limit and one past it', () => {
    const f = field('editor', { maxSize: 4 })
    expect(editor.validateValue(f, 'abcd', NEW)).toBeUndefined()
    expect(editor.validateValue(f, 'abcde', NEW)).toStrictEqual(tooBig(4))
    expect(editor.validateValue(f, 'żż', NEW)).toBeUndefined()
    expect(editor.validateValue(f, 'żża', NEW)).toStrictEqual(tooBig(4))
  })
  it('maxSize 0 means 5 MiB', () => {
    const f = field('editor')
    expect(editor.validateValue(f, 'a'.repeat(5 * 1024 * 1024), NEW)).toBeUndefined()
    expect(editor.validateValue(f, 'a'.repeat(5 * 1024 * 1024 + 1), NEW)).toStrictEqual(tooBig(5242880))
  })
  it('required', () => {
    expect(editor.validateValue(field('editor', { required: true }), '', NEW)).toStrictEqual(REQUIRED)
    expect(editor.validateValue(field('editor'), '', NEW)).toBeUndefined()
  })
  it('non-strings are refused', () => {
    expect(editor.validateValue(field('editor'), {}, NEW)).toStrictEqual(UNSUPPORTED)
  })
})

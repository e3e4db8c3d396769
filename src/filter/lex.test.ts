import { describe, expect, test } from 'vitest'
import { FilterSyntaxError } from './errors.js'
import { lex } from './lex.js'

/** Tokens as `type:text` (strings and numbers with their value), eof left out. */
function kinds(source: string): string[] {
  return lex(source)
    .filter((t) => t.type !== 'eof')
    .map((t) => {
      if (t.type === 'string') return `string:${t.value}`
      if (t.type === 'number') return `number:${t.value}`
      if (t.type === 'placeholder') return `placeholder:${t.name}`
      return `${t.type}:${t.text}`
    })
}

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected an error')
}

describe('lex: tokens', () => {
  test.each([
    ['a >= 5', ['identifier:a', 'op:>=', 'number:5']],
    ['@request.auth.id != ""', ['identifier:@request.auth.id', 'op:!=', 'string:']],
    ["@collection.posts:p.title ?= 'x'", ['identifier:@collection.posts:p.title', 'op:?=', 'string:x']],
    ['tags:each ?!~ "a"', ['identifier:tags:each', 'op:?!~', 'string:a']],
    ['a.b.c:lower=#x', ['identifier:a.b.c:lower', 'op:=', 'identifier:#x']],
    ['items.0.name<-1.5', ['identifier:items.0.name', 'op:<', 'number:-1.5']],
    ['x>-5', ['identifier:x', 'op:>', 'number:-5']],
    ['created >= @todayStart', ['identifier:created', 'op:>=', 'identifier:@todayStart']],
    [
      'a = true && b = NULL',
      ['identifier:a', 'op:=', 'identifier:true', '&&:&&', 'identifier:b', 'op:=', 'identifier:NULL'],
    ],
    [
      '(a=1||b=2)',
      ['(:(', 'identifier:a', 'op:=', 'number:1', '||:||', 'identifier:b', 'op:=', 'number:2', '):)'],
    ],
    [
      'geoDistance(a.lon, a.lat, 1, 2) < 5',
      [
        'identifier:geoDistance',
        '(:(',
        'identifier:a.lon',
        ',:,',
        'identifier:a.lat',
        ',:,',
        'number:1',
        ',:,',
        'number:2',
        '):)',
        'op:<',
        'number:5',
      ],
    ],
    [
      "strftime('%Y', created) = '2024'",
      ['identifier:strftime', '(:(', 'string:%Y', ',:,', 'identifier:created', '):)', 'op:=', 'string:2024'],
    ],
    ['title = {:q}', ['identifier:title', 'op:=', 'placeholder:q']],
    [
      'a = 1 // the rest of the line\n&& b = 2',
      ['identifier:a', 'op:=', 'number:1', '&&:&&', 'identifier:b', 'op:=', 'number:2'],
    ],
    ['a = 1 // only a comment', ['identifier:a', 'op:=', 'number:1']],
    ['a\t=\r\n1', ['identifier:a', 'op:=', 'number:1']],
    ['a ~ "50%"', ['identifier:a', 'op:~', 'string:50%']],
  ])('%s', (source, expected) => {
    expect(kinds(source)).toEqual(expected)
  })

  test.each(['=', '!=', '>', '>=', '<', '<=', '~', '!~', '?=', '?!=', '?>', '?>=', '?<', '?<=', '?~', '?!~'])(
    'operator %s',
    (op) => {
      expect(kinds(`a ${op} b`)).toEqual(['identifier:a', `op:${op}`, 'identifier:b'])
    },
  )
})

describe('lex: strings', () => {
  test.each([
    [String.raw`"a \"b\""`, 'a "b"'],
    [String.raw`'it\'s'`, "it's"],
    [String.raw`'C:\dir\n'`, String.raw`C:\dir\n`],
    [String.raw`"a 'single' inside"`, "a 'single' inside"],
    [String.raw`'a "double" inside'`, 'a "double" inside'],
    [String.raw`"other \' quote"`, String.raw`other \' quote`],
    ['""', ''],
    ['"é 😀 \u202e"', 'é 😀 \u202e'],
    ['"// not a comment"', '// not a comment'],
  ])('%s', (source, value) => {
    const [token] = lex(source)
    expect(token).toMatchObject({ type: 'string', value, position: 0, end: source.length })
  })
})

test('lex: every token carries its source span', () => {
  const tokens = lex('  title ~ "x" && n >= 10')
  expect(tokens.map((t) => [t.type, t.position, t.end])).toEqual([
    ['identifier', 2, 7],
    ['op', 8, 9],
    ['string', 10, 13],
    ['&&', 14, 16],
    ['identifier', 17, 18],
    ['op', 19, 21],
    ['number', 22, 24],
    ['eof', 24, 24],
  ])
})

describe('lex: errors', () => {
  test.each([
    ['a = "abc', 'unterminated string at 4'],
    [String.raw`a = "abc\"`, 'unterminated string at 4'],
    ['a = 1.2.3', 'invalid number "1.2.3" at 4'],
    ['a = 5abc', 'invalid number "5abc" at 4'],
    ['a = 1.', 'invalid number "1." at 4'],
    ['a = .5', 'unexpected character "." at 4'],
    ['a. = 1', 'invalid identifier "a." at 0'],
    ['a..b = 1', 'invalid identifier "a..b" at 0'],
    ['a: = 1', 'invalid identifier "a:" at 0'],
    ['@ = 1', 'invalid identifier "@" at 0'],
    ['a =! b', 'invalid operator "=!" at 2'],
    ['a == b', 'invalid operator "==" at 2'],
    ['a = b & c = d', 'invalid operator "&" at 6'],
    ['a = b ||| c = d', 'invalid operator "|||" at 6'],
    ['a = $x', 'unexpected character "$" at 4'],
    ['a / b', 'unexpected character "/" at 2'],
    ['é = 1', 'unexpected character "é" at 0'],
    ['a = {:x', 'invalid placeholder at 4'],
    ['a = {:x y}', 'invalid placeholder at 4'],
    ['a = {x}', 'unexpected character "{" at 4'],
    ['a = "x\u0000y"', 'invalid NUL character in string at 6'],
    ['a = 1 \u0000', 'unexpected character "\\u0000" at 6'],
  ])('%s → %s', (source, message) => {
    const err = thrown(() => lex(source))
    expect(err).toBeInstanceOf(FilterSyntaxError)
    expect((err as Error).message).toBe(message)
  })
})

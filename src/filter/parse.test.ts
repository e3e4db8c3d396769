import { describe, expect, test } from 'vitest'
import type { FunctionCallNode } from './ast.js'
import {
  AndNode,
  CompareNode,
  IdentifierNode,
  LiteralNode,
  MacroNode,
  OrNode,
  PlaceholderNode,
  type FilterNode,
} from './ast.js'
import { bindPlaceholders } from './bind.js'
import { FilterSyntaxError } from './errors.js'
import { MAX_FILTER_DEPTH, MAX_FILTER_EXPRESSIONS, MAX_FILTER_LENGTH } from './limits.js'
import { parseFilter } from './parse.js'

function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (err) {
    return err as Error
  }
  throw new Error('expected an error')
}

/** The AST as compact text: `(a = 1 || (b = 2 && c = 3))`. */
function show(node: FilterNode | undefined): string {
  if (node === undefined) return '<none>'
  if (node.kind === 'And') return `(${node.operands.map(show).join(' && ')})`
  if (node.kind === 'Or') return `(${node.operands.map(show).join(' || ')})`
  return `${operand(node.left)} ${node.op} ${operand(node.right)}`
}

function operand(node: CompareNode['left']): string {
  switch (node.kind) {
    case 'Identifier':
      return node.modifier ? `${node.path}[:${node.modifier}]` : node.path
    case 'Literal':
      return JSON.stringify(node.value)
    case 'Placeholder':
      return `{:${node.name}}`
    case 'Macro':
      return `macro(${node.name})`
    case 'FunctionCall':
      return `${node.name}(${node.args.map(operand).join(', ')})`
  }
}

test('parse: the AST of a comparison, with positions', () => {
  expect(parseFilter('title = "x"')).toEqual(
    CompareNode.create('=', IdentifierNode.create('title', 0), LiteralNode.create('x', 8), 0),
  )
  expect(parseFilter(' a>1&&b<2')).toEqual(
    AndNode.create([
      CompareNode.create('>', IdentifierNode.create('a', 1), LiteralNode.create(1, 3), 1),
      CompareNode.create('<', IdentifierNode.create('b', 6), LiteralNode.create(2, 8), 6),
    ]),
  )
})

describe('parse: scenarios', () => {
  test.each([
    ['a = 1', 'a = 1'],
    ['a = 1 || b = 2 && c = 3', '(a = 1 || (b = 2 && c = 3))'],
    ['a = 1 && b = 2 || c = 3', '((a = 1 && b = 2) || c = 3)'],
    ['a = 1 && b = 2 && c = 3', '(a = 1 && b = 2 && c = 3)'],
    ['(a = 1 || b = 2) && c = 3', '((a = 1 || b = 2) && c = 3)'],
    ['((a = 1))', 'a = 1'],
    ['a = 1 // first\n|| b = 2 // second', '(a = 1 || b = 2)'],
    ['"abc" = title', '"abc" = title'],
    ['5 < count', '5 < count'],
    ['a = true || b = FALSE || c = Null', '(a = true || b = false || c = null)'],
    ['a = "true"', 'a = "true"'],
    ['created >= @todayStart && @hour < 12', '(created >= macro(@todayStart) && macro(@hour) < 12)'],
    ['@request.auth.id != ""', '@request.auth.id != ""'],
    ['@unknown = 1', '@unknown = 1'],
    ['tags:each ?= "x"', 'tags[:each] ?= "x"'],
    ['tags:length > 2', 'tags[:length] > 2'],
    ['@request.body.role:changed = false', '@request.body.role[:changed] = false'],
    ['@request.query.a:isset = true', '@request.query.a[:isset] = true'],
    ['@collection.posts:p.title:lower ~ "x"', '@collection.posts:p.title[:lower] ~ "x"'],
    ['geoDistance(a.lon, a.lat, 1.5, -2) < 5', 'geoDistance(a.lon, a.lat, 1.5, -2) < 5'],
    ["strftime('%Y', created,) = '2024'", 'strftime("%Y", created) = "2024"'],
    ['f() = 1', 'f() = 1'],
    ['f(g(x)) = 1', 'f(g(x)) = 1'],
    ['f(a, // comment\n b) = 1', 'f(a, b) = 1'],
    ['title = {:q}', 'title = {:q}'],
    ['  ', '<none>'],
    ['', '<none>'],
    ['// only a comment', '<none>'],
  ])('%s', (source, expected) => {
    expect(show(parseFilter(source))).toBe(expected)
  })
})

describe('parse: errors carry positions', () => {
  test.each([
    ['a =', 'unexpected end of filter at 3'],
    ['a = 1 &&', 'unexpected end of filter at 8'],
    ['a = 1 b = 2', 'unexpected token "b" at 6'],
    ['a = 1)', 'unexpected token ")" at 5'],
    ['(a = 1', 'unexpected end of filter at 6'],
    ['= 1', 'unexpected token "=" at 0'],
    ['a b', 'unexpected token "b" at 2'],
    ['a = 1 && && b = 2', 'unexpected token "&&" at 9'],
    ['()', 'empty filter expression at 0'],
    ['a = 1 || ()', 'empty filter expression at 9'],
    ['a = (1)', 'unexpected token "(" at 4'],
    ['f (a) = 1', 'unexpected token "(" at 2'],
    ['f(a b) = 1', 'unexpected token "b" at 4'],
    ['f(,) = 1', 'unexpected token "," at 2'],
    ['f(g(h(x))) = 1', 'too deeply nested function calls (max 2) at 4'],
    ['a:foo = 1', 'unknown modifier ":foo" at 0'],
    ['a:lower.b = 1', 'invalid identifier "a:lower.b" at 0'],
    ['@request.auth:x.id = 1', 'invalid identifier "@request.auth:x.id" at 0'],
    ['a = {:missing}', 'missing value for placeholder {:missing} at 4'],
  ])('%s → %s', (source, message) => {
    const err = thrown(() => parseFilter(source, {}))
    expect(err).toBeInstanceOf(FilterSyntaxError)
    expect(err.message).toBe(message)
  })

  test('function arguments: 10 are allowed, 11 are not', () => {
    const args = (n: number) => Array.from({ length: n }, (_, i) => String(i)).join(', ')
    expect(parseFilter(`f(${args(10)}) = 1`)).toBeDefined()
    expect(thrown(() => parseFilter(`f(${args(11)}) = 1`)).message).toBe(
      'too many function arguments (max 10) at 32',
    )
  })
})

describe('parse: limits', () => {
  test(`length: ${MAX_FILTER_LENGTH} characters parse, one more does not`, () => {
    const at = (n: number) => `a = "${'x'.repeat(n - 6)}"`
    expect(at(MAX_FILTER_LENGTH)).toHaveLength(MAX_FILTER_LENGTH)
    expect(parseFilter(at(MAX_FILTER_LENGTH))).toBeDefined()
    const err = thrown(() => parseFilter(at(MAX_FILTER_LENGTH + 1)))
    expect(err).toBeInstanceOf(FilterSyntaxError)
    expect(err.message).toBe('filter is too long (max 3500 characters) at 3500')
  })

  test('a 100,000-character string fails on the length limit, fast', () => {
    const started = performance.now()
    const err = thrown(() => parseFilter(`a = "${'x'.repeat(100_000)}"`))
    expect(err.message).toBe('filter is too long (max 3500 characters) at 3500')
    expect(performance.now() - started).toBeLessThan(100)
  })

  test(`expressions: ${MAX_FILTER_EXPRESSIONS} parse, one more does not`, () => {
    const chain = (n: number) => Array.from({ length: n }, () => 'a=1').join('&&')
    expect(parseFilter(chain(MAX_FILTER_EXPRESSIONS))).toMatchObject({ kind: 'And' })
    const err = thrown(() => parseFilter(chain(MAX_FILTER_EXPRESSIONS + 1)))
    expect(err).toBeInstanceOf(FilterSyntaxError)
    expect(err.message).toBe(`too many expressions (max 200) at ${MAX_FILTER_EXPRESSIONS * 5}`)
  })

  test(`depth: ${MAX_FILTER_DEPTH} nested parentheses parse, one more does not`, () => {
    const nested = (n: number) => `${'('.repeat(n)}a=1${')'.repeat(n)}`
    expect(show(parseFilter(nested(MAX_FILTER_DEPTH)))).toBe('a = 1')
    const err = thrown(() => parseFilter(nested(MAX_FILTER_DEPTH + 1)))
    expect(err).toBeInstanceOf(FilterSyntaxError)
    expect(err.message).toBe(`too deeply nested parentheses (max 64) at ${MAX_FILTER_DEPTH}`)
  })

  test('1,000 nested parentheses give a clean error, not a stack overflow', () => {
    const err = thrown(() => parseFilter(`${'('.repeat(1000)}a=1${')'.repeat(1000)}`))
    expect(err).toBeInstanceOf(FilterSyntaxError)
    expect(err.message).toMatch(/^too deeply nested parentheses/)
  })

  test('1,700 unbalanced opening parentheses too', () => {
    expect(thrown(() => parseFilter('('.repeat(1700))).message).toMatch(/^too deeply nested parentheses/)
  })
})

describe('parse: placeholders', () => {
  test('are bound as literal nodes, never as source text', () => {
    const ast = parseFilter('title = {:q} || n > {:n} || ok = {:ok} || x = {:none}', {
      q: '" || 1 = 1 || "',
      n: 5,
      ok: true,
      none: null,
    })
    expect(show(ast)).toBe('(title = "\\" || 1 = 1 || \\"" || n > 5 || ok = true || x = null)')
  })

  test("are converted as the SDK's pb.filter() does", () => {
    const ast = parseFilter('a = {:d} && b = {:o} && c = {:u} && d = {:big}', {
      d: new Date('2024-01-02T03:04:05.678Z'),
      o: { x: [1, 'y'] },
      u: undefined,
      big: 10n,
    })
    expect(show(ast)).toBe(
      '(a = "2024-01-02 03:04:05.678Z" && b = "{\\"x\\":[1,\\"y\\"]}" && c = null && d = 10)',
    )
  })

  test('stay unbound without params, and bind later', () => {
    const ast = parseFilter('a = {:x} && f({:y}) = 1')!
    expect(show(ast)).toBe('(a = {:x} && f({:y}) = 1)')
    expect(show(bindPlaceholders(ast, { x: 'one', y: 2 }))).toBe('(a = "one" && f(2) = 1)')
  })

  test.each([
    [{ x: Number.NaN }, 'invalid placeholder value at 4'],
    [{ x: Infinity }, 'invalid placeholder value at 4'],
    [{ x: new Date('nope') }, 'invalid placeholder value at 4'],
    [{ x: () => 1 }, 'invalid placeholder value at 4'],
    [Object.create({ x: 'inherited' }) as Record<string, unknown>, 'missing value for placeholder {:x} at 4'],
  ])('rejects %o', (params, message) => {
    expect(thrown(() => parseFilter('a = {:x}', params)).message).toBe(message)
  })
})

test('parse: the AST is deeply frozen', () => {
  const ast = parseFilter('(a = 1 || f(b) = 2) && c = {:p}', { p: 1 }) as AndNode
  expect(Object.isFrozen(ast)).toBe(true)
  expect(Object.isFrozen(ast.operands)).toBe(true)
  const or = ast.operands[0] as OrNode
  expect(Object.isFrozen(or.operands[0])).toBe(true)
  const call = (or.operands[1] as CompareNode).left as FunctionCallNode
  expect(Object.isFrozen(call.args)).toBe(true)
  expect(Object.isFrozen(call.args[0])).toBe(true)
})

test('node factories and guards', () => {
  const id = IdentifierNode.create('tags', 3, 'each')
  expect(id).toEqual({ kind: 'Identifier', path: 'tags', modifier: 'each', position: 3 })
  expect(IdentifierNode.is(id)).toBe(true)
  expect(LiteralNode.is(id)).toBe(false)
  expect(MacroNode.create('@now').kind).toBe('Macro')
  expect(PlaceholderNode.is(PlaceholderNode.create('x'))).toBe(true)
  expect(OrNode.is(OrNode.create([]))).toBe(true)
})

import { describe, expect, it } from 'vitest'
import { GalleyError } from '../lib/index.js'
import { excerpt } from './excerpt.js'
import { MAX_FIELDS_LENGTH, MAX_FIELDS_PATHS, parseFields, pickFields } from './fields-picker.js'

const picked = (fields: string, payload: unknown) => pickFields(payload, parseFields(fields)!)

function refused(fields: string): string {
  try {
    parseFields(fields)
  } catch (err) {
    expect(err).toBeInstanceOf(GalleyError)
    expect((err as GalleyError).status).toBe(400)
    return (err as GalleyError).message
  }
  throw new Error(`"${fields}" was accepted`)
}

describe('excerpt (PocketBase tools/picker/excerpt_modifier_test.go)', () => {
  const html = ` <script>var a = 123;</script>   <p>Hello</p><div id="test_id">t   est<b>12
	3</b><span>456</span></div><span>word <b>7</b> 89<span>!<b>?</b><b> a </b><b>b </b>c</span>#<h1>title</h1>`
  const plain = 'Hello t est12 3456 word 7 89!? a b c# title'

  it.each([
    ['max < length', 2, false, plain.slice(0, 2)],
    ['max = length', plain.length, false, plain],
    ['max > length', plain.length + 5, false, plain],
    ['with ellipsis, max < length', 2, true, `${plain.slice(0, 2)}...`],
    ['with ellipsis, max = length', plain.length, true, plain],
    ['with ellipsis, max > length', plain.length + 5, true, plain],
  ])('%s', (_name, max, ellipsis, expected) => {
    expect(excerpt(html, max, ellipsis)).toBe(expected)
  })

  it('counts code points, not bytes or UTF-16 units', () => {
    expect(excerpt('аб\nв ', 4, true)).toBe('аб в')
    expect(excerpt('аб\nв ', 3, true)).toBe('аб...')
    // astral characters are one rune each
    expect(excerpt('😀😀😀😀', 3, true)).toBe('😀😀😀...')
    expect(excerpt('😀😀😀', 3, true)).toBe('😀😀😀')
  })

  it('trims the cut text before the ellipsis', () => {
    expect(excerpt('<p>one</p><p>two</p>', 4, true)).toBe('one...')
  })

  it('skips excluded elements and their content, decodes entities, keeps a non-breaking space', () => {
    expect(excerpt('<style>p{}</style><img alt="x"><svg><text>no</text></svg>a&amp;b', 10, false)).toBe('a&b')
    expect(excerpt('<form><input value="v">f</form><textarea>t</textarea>ok', 10, false)).toBe('ok')
    expect(excerpt('a&nbsp;&nbsp;b', 10, false)).toBe('a\u00a0\u00a0b')
    expect(excerpt('<title>in head</title>body', 10, false)).toBe('body')
    expect(excerpt('<!-- comment -->x<br>y', 10, false)).toBe('xy')
  })

  it('separates block elements by one space and joins inline ones', () => {
    expect(excerpt('<ul><li>a</li><li>b</li></ul><p><em>c</em>d</p>', 20, false)).toBe('a b cd')
    expect(excerpt('plain   text\n\twith  spaces', 100, false)).toBe('plain text with spaces')
  })

  it('cuts a long document', () => {
    const long = '<p>word</p>'.repeat(100_000)
    expect(excerpt(long, 9, true)).toBe('word word...')
  })
})

describe('parseFields / pickFields', () => {
  const record = {
    id: 'r1',
    title: 'Title',
    body: '<p>Some <b>long</b> text</p>',
    n: 5,
    tags: ['a', 'b'],
    expand: {
      author: { id: 'u1', name: 'Ann', bio: '<p>A writer</p>' },
      tags: [
        { id: 't1', name: 'go' },
        { id: 't2', name: 'ts' },
      ],
    },
  }

  it('keeps listed keys, nested paths and arrays of objects', () => {
    expect(picked('id,expand.author.name,expand.tags.name', record)).toEqual({
      id: 'r1',
      expand: { author: { name: 'Ann' }, tags: [{ name: 'go' }, { name: 'ts' }] },
    })
  })

  it('`*` keeps every key at its level, beside deeper paths', () => {
    expect(picked('*,expand.author.id', record)).toEqual({
      ...record,
      expand: { author: { id: 'u1' } },
    })
    expect(picked('expand.*', record)).toEqual({ expand: record.expand })
  })

  it('a path listed whole wins over deeper paths of the same key (PocketBase)', () => {
    expect(picked('expand,expand.author.id', record)).toEqual({ expand: record.expand })
  })

  it('applies :excerpt to strings only, at any depth, with or without ellipsis', () => {
    expect(
      picked('body:excerpt(9,true),n:excerpt(1),tags:excerpt(1),expand.author.bio:excerpt(3)', record),
    ).toEqual({ body: 'Some long...', n: 5, tags: ['a', 'b'], expand: { author: { bio: 'A w' } } })
    expect(picked('title:excerpt( 3 , t )', record)).toEqual({ title: 'Tit...' })
    expect(picked('*:excerpt(2)', { a: 'abc', b: 1 })).toEqual({ a: 'ab', b: 1 })
    // the last listing of a path wins
    expect(picked('title:excerpt(2),title', record)).toEqual({ title: 'Title' })
  })

  it('picks each item of a list envelope', () => {
    const list = { items: [record, { id: 'r2' }], page: 1, perPage: 30, totalItems: 2, totalPages: 1 }
    expect(picked('id', list)).toEqual({ ...list, items: [{ id: 'r1' }, { id: 'r2' }] })
  })

  it('names nothing for empty input', () => {
    expect(parseFields('')).toBeUndefined()
    expect(parseFields(' , ,')).toBeUndefined()
  })

  it('refuses unknown and malformed modifiers with 400', () => {
    expect(refused('title:foo')).toBe('Invalid "fields" parameter: unknown modifier "foo".')
    expect(refused('title:excerpt')).toMatch(/excerpt expects/)
    expect(refused('title:excerpt()')).toMatch(/excerpt expects/)
    expect(refused('title:excerpt(1,true,3)')).toMatch(/excerpt expects/)
    expect(refused('title:excerpt(0)')).toMatch(/positive integer/)
    expect(refused('title:excerpt(-3)')).toMatch(/positive integer/)
    expect(refused('title:excerpt(1.5)')).toMatch(/positive integer/)
    expect(refused('title:excerpt(99999999999999999999)')).toMatch(/positive integer/)
    expect(refused('title:excerpt(5,maybe)')).toMatch(/withEllipsis/)
    expect(refused('title:excerpt(5')).toMatch(/unbalanced/)
    expect(refused('title:excerpt(5))')).toMatch(/unbalanced/)
    expect(refused(':excerpt(5)')).toMatch(/without a path/)
  })

  it(`accepts ${MAX_FIELDS_LENGTH} characters and refuses one more`, () => {
    const at = 'a'.repeat(MAX_FIELDS_LENGTH)
    expect(parseFields(at)).toBeDefined()
    expect(refused(`${at}a`)).toMatch(/longer than/)
  })

  it(`accepts ${MAX_FIELDS_PATHS} paths and refuses one more`, () => {
    const paths = Array.from({ length: MAX_FIELDS_PATHS }, (_, i) => `f${i}`)
    expect(parseFields(paths.join(','))!.children.size).toBe(MAX_FIELDS_PATHS)
    expect(refused([...paths, 'x'].join(','))).toMatch(/more than/)
  })
})

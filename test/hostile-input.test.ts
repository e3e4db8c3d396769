/**
 * Hostile input to the records list and view endpoints (pocketbase-api.md §3.3, §3.4, §4, §5): a
 * table of named filters, sorts, expands, fields, paging values and paths, on SQLite and PostgreSQL.
 * Every answer is either PocketBase's 400/403/404 error shape or a 200 with the result the seed data
 * says is right; never a 5xx or a hang, and no body ever carries SQL text, a stack trace or the
 * hidden canary. After the table the server must still answer and the data must be unchanged.
 */
import type PocketBase from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import {
  canariesIn,
  canary,
  expectErrorShape,
  internals,
  send,
  type Query,
  type WireResponse,
} from './helpers/wire.js'

type Json = Record<string, unknown>
type Who = 'guest' | 'user'

interface ListBody {
  page: number
  perPage: number
  totalItems: number
  totalPages: number
  items: Json[]
}

type Expected =
  | { readonly status: 400 | 403 | 404; readonly message?: RegExp }
  /** Node refuses a request line over 16 KiB before Galley runs (docs/api.md, "Request headers"). */
  | { readonly status: 431 }
  | {
      readonly status: 200
      /** The ids of the items, in this order unless `anyOrder`. */
      readonly ids?: readonly string[]
      readonly anyOrder?: true
      readonly check?: (body: ListBody) => void
      /** Why a 400 is an equally right answer (the reference leaves the case open). */
      readonly or400?: string
    }

interface Case {
  readonly name: string
  readonly collection?: string
  /** A whole path instead of the collection's list path; sent as written (already encoded). */
  readonly path?: string
  readonly query?: Query
  readonly as?: Who
  readonly expect: Expected
}

// ---------------------------------------------------------------------------------------------
// Seed data: client-chosen ids so expected results are written from the table below.

const HIDDEN = canary('hostile-hidden')
const USER_EMAIL = 'hostile-a@example.com'
const USER_PASSWORD = 'hostile password 123'

const pid = (n: number) => `hpost${String(n).padStart(10, '0')}`
const cid = (n: number) => `hcmnt${String(n).padStart(10, '0')}`

/** meta of post 1: `{a: {b: {... {j: 1}}}}`, ten keys deep. */
const DEEP_KEYS = 'abcdefghij'.split('')
const deepMeta = DEEP_KEYS.reduceRight<unknown>((inner, k) => ({ [k]: inner }), 1)

const POSTS: readonly { n: number; title: string; views: number; meta?: unknown; labels?: string[] }[] = [
  { n: 1, title: 'hello world', views: 10, meta: deepMeta, labels: ['x', 'y'] },
  { n: 2, title: "it's", views: 0 },
  { n: 3, title: 'say "hi"', views: -5 },
  { n: 4, title: 'C:\\temp\\new', views: 7 },
  { n: 5, title: '100% pure', views: 100 },
  { n: 6, title: 'score 100% done', views: 3 },
  { n: 7, title: '50_50 split', views: 2 },
  { n: 8, title: '50x50 grid', views: 2 },
  { n: 9, title: '🚀 launch 👩‍👩‍👧', views: 1 },
  { n: 10, title: 'مرحبا \u202Eevil', views: 4 },
  { n: 11, title: 'a'.repeat(1000), views: 5 },
  { n: 12, title: 'café ÄÖÜ', views: 6 },
  { n: 13, title: 'max safe', views: Number.MAX_SAFE_INTEGER },
  { n: 14, title: 'half', views: 0.5 },
]
const ALL = POSTS.map((p) => pid(p.n))
const P = (...ns: number[]) => ns.map(pid)
const C = (...ns: number[]) => ns.map(cid)
/** Posts matching a predicate of the seed, in insertion order. */
const where = (f: (p: (typeof POSTS)[number]) => boolean) => POSTS.filter(f).map((p) => pid(p.n))

/** Code point order: SQLite's BINARY and PostgreSQL's COLLATE "C" on UTF-8. */
function byCodePoints(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!)
  const y = Array.from(b, (c) => c.codePointAt(0)!)
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!
  return x.length - y.length
}

// ---------------------------------------------------------------------------------------------
// Input builders

const nest = (depth: number, inner: string) => `${'('.repeat(depth)}${inner}${')'.repeat(depth)}`
const ors = (n: number) => Array.from({ length: n }, (_, i) => `views = ${i}`).join(' || ')
const jsonPath = (n: number) =>
  `meta.${Array.from({ length: n }, (_, i) => DEEP_KEYS[i] ?? `k${i}`).join('.')}`
const sortItems = (n: number) => Array.from({ length: n }, () => 'title').join(',')

/** Items' keys only, e.g. for `fields=id`: `[['id'], ['id'], …]`. */
const keysOf = (body: ListBody) => body.items.map((i) => Object.keys(i).sort())
const eachHas = (keys: string[]) => (body: ListBody) => {
  expect(body.items.length).toBeGreaterThan(0)
  expect(keysOf(body)).toEqual(body.items.map(() => keys))
}
/** The id (or ids) expanded under `key` on a record, undefined when not expanded. */
function expanded(item: Json, key: string): string | string[] | undefined {
  const v = (item.expand as Json | undefined)?.[key]
  if (v === undefined) return undefined
  return Array.isArray(v) ? v.map((r: Json) => r.id as string) : ((v as Json).id as string)
}
/** How many `expand` levels are nested below a record. */
function expandDepth(item: unknown): number {
  const e = (item as Json | undefined)?.expand as Json | undefined
  if (!e) return 0
  const children = Object.values(e).flatMap((v) => (Array.isArray(v) ? v : [v]))
  return 1 + Math.max(0, ...children.map(expandDepth))
}
const noExpand = (body: ListBody) => {
  for (const item of body.items) expect(item).not.toHaveProperty('expand')
}
const envelope =
  (page: number, perPage: number, totalItems = ALL.length) =>
  (body: ListBody) =>
    expect({ ...body, items: undefined }).toEqual({
      items: undefined,
      page,
      perPage,
      totalItems,
      totalPages: Math.ceil(totalItems / perPage),
    })

const F = (filter: string) => ({ filter })
const bad = { status: 400 } as const
const ok = (ids: readonly string[], extra: Partial<Extract<Expected, { status: 200 }>> = {}) =>
  ({ status: 200, ids, anyOrder: true, ...extra }) as const

/** §3.4: a non-superuser's filter or sort naming `@request.` or `@collection.` anywhere. */
const NO_REQUEST = { status: 403, message: /^Only superusers can filter by @request\.$/ } as const
const NO_COLLECTION = { status: 403, message: /^Only superusers can filter by @collection\.$/ } as const

const CASES: readonly Case[] = [
  // -- quotes and escapes (§4.1: the only escape is `\` + the same quote)
  { name: 'filter: single quote inside double quotes', query: F(`title = "it's"`), expect: ok(P(2)) },
  { name: 'filter: escaped single quote', query: F(`title = 'it\\'s'`), expect: ok(P(2)) },
  { name: 'filter: escaped double quotes', query: F(`title = "say \\"hi\\""`), expect: ok(P(3)) },
  { name: 'filter: double quotes inside single quotes', query: F(`title = 'say "hi"'`), expect: ok(P(3)) },
  { name: 'filter: unterminated double quote', query: F(`title = "it's`), expect: bad },
  { name: 'filter: mismatched quotes', query: F(`title = 'it"`), expect: bad },
  { name: 'filter: a backslash before the closing quote escapes it', query: F(`title ~ "\\"`), expect: bad },
  // -- comments: only `//` to the end of the line
  { name: 'filter: SQL comment --', query: F(`title = "x" -- comment`), expect: bad },
  { name: 'filter: C comment /* */ after', query: F(`title = "x" /* c */`), expect: bad },
  { name: 'filter: C comment /* */ before', query: F(`/* c */ title = "x"`), expect: bad },
  { name: 'filter: // comment is ignored', query: F(`title = "it's" // || 1 = 1`), expect: ok(P(2)) },
  // -- control characters
  // Refused on both databases alike: PostgreSQL text cannot hold NUL (PocketBase would answer 200 []).
  { name: 'filter: NUL inside a string', query: F(`title = "it\u0000s"`), expect: bad },
  { name: 'filter: NUL in an identifier', query: F(`title\u0000 = "x"`), expect: bad },
  { name: 'filter: NUL alone', query: F('\u0000'), expect: bad },
  { name: 'filter: tabs and newlines are whitespace', query: F(`title\n=\t"it's"`), expect: ok(P(2)) },
  // -- unicode
  {
    name: 'filter: lone high surrogate in a string',
    query: F('title = "\uD800"'),
    expect: ok([], { or400: 'the query string is not valid UTF-8' }),
  },
  {
    name: 'filter: lone low surrogate in ~',
    query: F('title ~ "\uDC00x"'),
    expect: ok([], { or400: 'the query string is not valid UTF-8' }),
  },
  { name: 'filter: RTL override', query: F('title = "مرحبا \u202Eevil"'), expect: ok(P(10)) },
  { name: 'filter: emoji', query: F('title ~ "🚀"'), expect: ok(P(9)) },
  { name: 'filter: ZWJ emoji sequence', query: F('title ~ "👩‍👩‍👧"'), expect: ok(P(9)) },
  // SQLite's LIKE folds ASCII only: "CAF" matches "caf", "É" does not match "é".
  { name: 'filter: ~ folds ASCII only (É ≠ é)', query: F('title ~ "CAFÉ"'), expect: ok([]) },
  { name: 'filter: ~ folds ASCII letters', query: F('title ~ "CAFé"'), expect: ok(P(12)) },
  { name: 'filter: unicode identifier', query: F('tïtle = "x"'), expect: bad },
  // -- numbers: digits with at most one dot, optional leading minus, no exponent (§4.1)
  { name: 'filter: 1e309', query: F('views > 1e309'), expect: bad },
  { name: 'filter: 1e3', query: F('views = 1e3'), expect: bad },
  {
    name: 'filter: 400-digit number',
    query: F(`views < 1${'0'.repeat(400)}`),
    // Galley refuses a number beyond float64; PocketBase's cast.ToFloat64 would quietly make it 0.
    expect: bad,
  },
  { name: 'filter: -0', query: F('views = -0'), expect: ok(P(2)) },
  { name: 'filter: hexadecimal', query: F('views = 0x10'), expect: bad },
  { name: 'filter: trailing dot', query: F('views = 1.'), expect: bad },
  { name: 'filter: leading dot', query: F('views = .5'), expect: bad },
  { name: 'filter: two dots', query: F('views = 1.2.3'), expect: bad },
  { name: 'filter: fraction', query: F('views = 0.5'), expect: ok(P(14)) },
  { name: 'filter: 2^53 - 1', query: F('views >= 9007199254740991'), expect: ok(P(13)) },
  { name: 'filter: NaN', query: F('views = NaN'), expect: bad },
  { name: 'filter: Infinity', query: F('views < Infinity'), expect: bad },
  // -- unknown, hidden and rule-only identifiers
  { name: 'filter: unknown field', query: F('nope = 1'), expect: bad },
  { name: 'filter: collection name as a field', query: F('posts.title = "x"'), expect: bad },
  { name: 'filter: hidden field', query: F(`secret = "${HIDDEN}"`), expect: bad },
  { name: 'filter: hidden field, ~ oracle', query: F('secret ~ "hostile"'), expect: bad },
  { name: 'filter: tokenKey through a relation', query: F('author.tokenKey != ""'), expect: bad },
  { name: 'filter: password through a relation', query: F('author.password != ""'), expect: bad },
  // users' listRule (own record only) is ANDed into the hop: a guest reaches no email.
  { name: 'filter: email through a relation (guest)', query: F('author.email ~ "@"'), expect: ok([]) },
  {
    name: 'filter: @collection as a guest',
    query: F('@collection.posts.title ?= "x"'),
    expect: NO_COLLECTION,
  },
  {
    name: 'filter: @request as a guest',
    query: F('@request.auth.id = ""'),
    expect: NO_REQUEST,
  },
  {
    name: 'filter: @request as a user',
    as: 'user',
    query: F('@request.method = "GET"'),
    expect: NO_REQUEST,
  },
  // §3.4: a plain substring check, so even a string literal is refused.
  {
    name: 'filter: "@request." inside a string',
    query: F('title = "@request.auth.id"'),
    expect: NO_REQUEST,
  },
  { name: 'filter: @rowid', query: F('@rowid > 0'), expect: bad },
  // -- SQL
  { name: 'filter: OR 1=1', query: F('title = "x" OR 1=1'), expect: bad },
  { name: "filter: ' OR '1'='1 in a string", query: F(`title = "x' OR '1'='1"`), expect: ok([]) },
  { name: 'filter: " OR "1"="1 in a string', query: F(`title = 'x" OR "1"="1'`), expect: ok([]) },
  { name: 'filter: ;DROP TABLE', query: F('title = "x"; DROP TABLE posts'), expect: bad },
  { name: 'filter: ;DROP TABLE in a string', query: F(`title = "'; DROP TABLE posts; --"`), expect: ok([]) },
  { name: 'filter: UNION SELECT', query: F('title = "x" UNION SELECT id FROM _superusers'), expect: bad },
  { name: 'filter: SELECT as a field', query: F('SELECT = 1'), expect: bad },
  { name: 'filter: IS NULL', query: F('title IS NULL'), expect: bad },
  { name: 'filter: == operator', query: F('title == "x"'), expect: bad },
  { name: 'filter: <> operator', query: F('title <> "x"'), expect: bad },
  { name: 'filter: double &&', query: F('title = "x" && && views = 1'), expect: bad },
  { name: 'filter: leading ||', query: F('|| title = "x"'), expect: bad },
  { name: 'filter: a bare literal', query: F('true'), expect: bad },
  { name: 'filter: = null', query: F('title = null'), expect: ok([]) },
  { name: 'filter: != null', query: F('title != null'), expect: ok(ALL) },
  { name: 'filter: 1 = 1', query: F('1 = 1'), expect: ok(ALL) },
  // -- backslashes are literal except before the string's own quote
  { name: 'filter: Windows path', query: F('title = "C:\\temp\\new"'), expect: ok(P(4)) },
  { name: 'filter: ~ with a backslash', query: F('title ~ "\\temp"'), expect: ok(P(4)) },
  { name: 'filter: \\" still escapes the quote', query: F('title ~ "\\\\"'), expect: bad },
  // PocketBase's LIKE escaping takes `\\` as an already escaped backslash: one literal `\`.
  { name: 'filter: ~ with an escaped backslash', query: F('title ~ "\\\\temp"'), expect: ok(P(4)) },
  { name: 'filter: = with two backslashes', query: F('title = "C:\\\\temp\\new"'), expect: ok([]) },
  // -- LIKE wildcards (§4.2): `%` makes the literal a pattern, `_` is escaped
  { name: 'filter: ~ with % is a pattern (starts with)', query: F('title ~ "100%"'), expect: ok(P(5)) },
  { name: 'filter: ~ with \\% contains a %', query: F('title ~ "100\\%"'), expect: ok(P(5, 6)) },
  { name: 'filter: ~ with _ is literal', query: F('title ~ "50_50"'), expect: ok(P(7)) },
  { name: 'filter: ~ with a lone _', query: F('title ~ "_"'), expect: ok(P(7)) },
  { name: 'filter: ~ "%" matches all', query: F('title ~ "%"'), expect: ok(ALL) },
  { name: 'filter: !~ "%" matches none', query: F('title !~ "%"'), expect: ok([]) },
  { name: 'filter: anchored pattern 50%50', query: F('title ~ "50%50"'), expect: ok([]) },
  {
    name: 'filter: backtracking pattern (%a x 40, then b) on a 1000-char title',
    query: F(`title ~ "${'%a'.repeat(40)}%b"`),
    expect: ok([]),
  },
  {
    name: 'filter: backtracking pattern that matches',
    query: F(`title ~ "${'%a'.repeat(40)}%"`),
    expect: ok(P(11)),
  },
  // -- JSON paths
  { name: 'filter: JSON path 10 deep', query: F(`${jsonPath(10)} = 1`), expect: ok(P(1)) },
  { name: 'filter: JSON path 32 deep', query: F(`${jsonPath(32)} = 1`), expect: ok([]) },
  { name: 'filter: JSON path 33 deep', query: F(`${jsonPath(33)} = 1`), expect: bad },
  { name: 'filter: JSON path with an index', query: F('meta.a.0.b = 1'), expect: ok([]) },
  { name: 'filter: JSON path __proto__', query: F('meta.__proto__.polluted = 1'), expect: ok([]) },
  { name: 'filter: JSON path with a dash', query: F('meta.a-b = 1'), expect: bad },
  { name: 'filter: JSON path with an empty segment', query: F('meta..a = 1'), expect: bad },
  { name: 'filter: JSON path ending in a dot', query: F('meta.a. = 1'), expect: bad },
  { name: 'filter: JSON path with $', query: F('meta.$.a = 1'), expect: bad },
  // -- modifiers (§4.4)
  { name: 'filter: unknown modifier', query: F('title:upper = "X"'), expect: bad },
  { name: 'filter: :lower', query: F('title:lower = "hello world"'), expect: ok(P(1)) },
  { name: 'filter: empty modifier', query: F('title: = "x"'), expect: bad },
  { name: 'filter: two modifiers', query: F('title:lower:lower = "x"'), expect: bad },
  { name: 'filter: :length of a single text', query: F('title:length > 0'), expect: bad },
  { name: 'filter: :each of a number', query: F('views:each = 1'), expect: bad },
  { name: 'filter: :isset outside @request', query: F('title:isset = true'), expect: bad },
  { name: 'filter: :length of a multi select', query: F('labels:length = 2'), expect: ok(P(1)) },
  { name: 'filter: :each match-all', query: F('labels:each ~ "%"'), expect: ok(P(1)) },
  // -- nesting and size limits
  { name: 'filter: 1,000-deep parentheses', query: F(nest(1000, 'title = "x"')), expect: bad },
  { name: 'filter: 60-deep parentheses', query: F(nest(60, `title = "it's"`)), expect: ok(P(2)) },
  { name: 'filter: unbalanced (', query: F('(title = "x"'), expect: bad },
  { name: 'filter: unbalanced )', query: F('title = "x")'), expect: bad },
  { name: 'filter: empty group', query: F('()'), expect: bad },
  {
    name: 'filter: 200 comparisons',
    query: F(ors(200)),
    expect: ok(where((p) => Number.isInteger(p.views) && p.views >= 0 && p.views < 200)),
  },
  { name: 'filter: 201 comparisons', query: F(ors(201)), expect: bad },
  {
    name: 'filter: 3,500 characters',
    query: F(`title ~ "${'z'.repeat(3500 - 'title ~ ""'.length)}"`),
    expect: ok([]),
  },
  {
    name: 'filter: 3,501 characters',
    query: F(`title ~ "${'z'.repeat(3501 - 'title ~ ""'.length)}"`),
    expect: bad,
  },
  // 8,000 characters, 12,000 bytes encoded: under Node's 16 KiB request line.
  { name: 'filter: 8,000 characters', query: F(`title ~ "${'ab%_'.repeat(2000)}"`), expect: bad },
  {
    name: 'filter: 100,000 characters',
    query: F(`title = "${'x'.repeat(100_000)}"`),
    expect: { status: 431 },
  },
  // -- functions
  { name: 'filter: unknown function', query: F('sleep(10) = 1'), expect: bad },
  { name: 'filter: geoDistance with 2 arguments', query: F('geoDistance(1, 2) > 0'), expect: bad },
  {
    name: 'filter: functions nested 3 deep',
    query: F(`strftime(strftime(strftime('%Y'))) = 1`),
    expect: bad,
  },
  {
    name: 'filter: strftime with 11 arguments',
    query: F(`strftime(${Array(11).fill("'%Y'").join(',')}) = 1`),
    expect: bad,
  },
  // -- relations and back-relations
  { name: 'filter: back-relation', query: F('comments_via_post.body ~ "nice"'), expect: ok(P(1)) },
  {
    name: 'filter: hidden field of a back-relation',
    query: F('comments_via_post.secret != ""'),
    expect: bad,
  },
  { name: 'filter: back-relation of an unknown collection', query: F('nope_via_post.x = 1'), expect: bad },
  {
    name: 'filter: back-relation through a non-relation',
    query: F('comments_via_body.id != ""'),
    expect: bad,
  },
  {
    name: 'filter: 7 relation hops',
    collection: 'comments',
    query: F(`post.author.posts_via_author.author.posts_via_author.author.posts_via_author.id != ""`),
    expect: bad,
  },
  { name: 'filter: not a relation', query: F('title.id = "x"'), expect: bad },
  // -- repeated parameters: the first value wins (§3.3)
  {
    name: 'filter: repeated, the first wins',
    query: [
      ['filter', `title = "it's"`],
      ['filter', 'nope = 1'],
    ],
    expect: ok(P(2)),
  },

  // -- sort (§5.1)
  {
    name: 'sort: -views,title',
    query: { sort: '-views,title' },
    expect: {
      status: 200,
      ids: [...POSTS]
        .sort((a, b) => b.views - a.views || byCodePoints(a.title, b.title))
        .map((p) => pid(p.n)),
    },
  },
  {
    name: 'sort: title, in code point order',
    query: { sort: 'title' },
    expect: {
      status: 200,
      ids: [...POSTS].sort((a, b) => byCodePoints(a.title, b.title)).map((p) => pid(p.n)),
    },
  },
  { name: 'sort: @rowid is insertion order', query: { sort: '@rowid' }, expect: { status: 200, ids: ALL } },
  { name: 'sort: -@rowid', query: { sort: '-@rowid' }, expect: { status: 200, ids: [...ALL].reverse() } },
  { name: 'sort: @random', query: { sort: '@random' }, expect: ok(ALL) },
  { name: 'sort: repeated commas', query: { sort: 'title,,,-views' }, expect: bad },
  { name: 'sort: only commas', query: { sort: ',,,' }, expect: bad },
  { name: 'sort: hidden field', query: { sort: 'secret' }, expect: bad },
  { name: 'sort: hidden field of a back-relation', query: { sort: 'comments_via_post.secret' }, expect: bad },
  { name: 'sort: tokenKey through a relation', query: { sort: '-author.tokenKey' }, expect: bad },
  { name: 'sort: unknown field', query: { sort: 'nope' }, expect: bad },
  { name: 'sort: a string literal', query: { sort: '"title"' }, expect: bad },
  { name: 'sort: null', query: { sort: 'null' }, expect: bad },
  { name: 'sort: ;DROP TABLE', query: { sort: 'title;DROP TABLE posts' }, expect: bad },
  { name: 'sort: SQL direction', query: { sort: 'title DESC' }, expect: bad },
  { name: 'sort: SQL comment', query: { sort: 'title--' }, expect: bad },
  { name: 'sort: parentheses', query: { sort: '(title)' }, expect: bad },
  { name: 'sort: a lone -', query: { sort: '-' }, expect: bad },
  { name: 'sort: --views', query: { sort: '--views' }, expect: bad },
  { name: 'sort: 8 fields', query: { sort: sortItems(8) }, expect: ok(ALL) },
  { name: 'sort: 9 fields', query: { sort: sortItems(9) }, expect: bad },
  { name: 'sort: a 256-character field', query: { sort: `meta.${'a'.repeat(251)}` }, expect: bad },
  {
    name: 'sort: @request as a guest',
    query: { sort: '@request.auth.id' },
    expect: NO_REQUEST,
  },
  {
    name: 'sort: @collection as a guest',
    query: { sort: '@collection.posts.title' },
    expect: NO_COLLECTION,
  },
  { name: 'sort: unknown modifier', query: { sort: 'views:foo' }, expect: bad },
  { name: 'sort: NUL', query: { sort: 'title\u0000' }, expect: bad },
  { name: 'sort: emoji', query: { sort: '🚀' }, expect: bad },
  { name: 'sort: 100,000 characters', query: { sort: 'a'.repeat(100_000) }, expect: { status: 431 } },

  // -- expand (§5.2): unknown or non-relation paths are ignored
  { name: 'expand: unknown field', query: { expand: 'nope' }, expect: ok(ALL, { check: noExpand }) },
  { name: 'expand: repeated commas', query: { expand: ',,,' }, expect: ok(ALL, { check: noExpand }) },
  { name: 'expand: not a relation', query: { expand: 'title' }, expect: ok(ALL, { check: noExpand }) },
  { name: 'expand: hidden field', query: { expand: 'secret' }, expect: ok(ALL, { check: noExpand }) },
  {
    name: 'expand: SQL',
    query: { expand: "author'); DROP TABLE posts; --" },
    expect: ok(ALL, { check: noExpand }),
  },
  {
    name: 'expand: @collection',
    query: { expand: '@collection.users' },
    expect: ok(ALL, { check: noExpand }),
  },
  { name: 'expand: dots only', query: { expand: '...' }, expect: ok(ALL, { check: noExpand }) },

  // users' viewRule (own record) hides every author from a guest.
  {
    name: 'expand: a relation the guest may not view',
    query: { expand: 'author' },
    expect: ok(ALL, { check: (b) => expect(b.items.filter((i) => expanded(i, 'author'))).toEqual([]) }),
  },
  {
    name: 'expand: a forward relation',
    collection: 'comments',
    query: { expand: 'post' },
    expect: ok(C(1, 2), { check: (b) => expect(b.items.map((i) => expanded(i, 'post'))).toEqual(P(1, 2)) }),
  },
  {
    name: 'expand: a back-relation',
    query: { expand: 'comments_via_post', sort: '@rowid' },
    expect: {
      status: 200,
      ids: ALL,
      check: (b) =>
        expect(b.items.map((i) => expanded(i, 'comments_via_post'))).toEqual(
          ALL.map((id) => (id === pid(1) ? [cid(1)] : id === pid(2) ? [cid(2)] : undefined)),
        ),
    },
  },
  {
    name: 'expand: a cycle 8 levels deep stops at 6',
    collection: 'comments',
    query: { expand: 'post.comments_via_post.'.repeat(4).slice(0, -1), filter: `id = "${cid(1)}"` },
    expect: ok(C(1), { check: (b) => expect(expandDepth(b.items[0])).toBe(6) }),
  },
  {
    name: 'expand: the same path repeated',
    collection: 'comments',
    query: { expand: 'post,post, post ,post.comments_via_post,post' },
    expect: ok(C(1, 2), { check: (b) => expect(b.items.map((i) => expanded(i, 'post'))).toEqual(P(1, 2)) }),
  },
  {
    name: 'expand: hidden fields of expanded records stay hidden',
    collection: 'comments',
    query: { expand: 'post.comments_via_post', fields: 'id,secret,expand.post.secret,expand.post.expand' },
    expect: ok(C(1, 2)),
  },
  { name: 'expand: 4,097 characters', query: { expand: `author,${'a'.repeat(4090)}` }, expect: bad },
  // -- fields (§5.3)
  { name: 'fields: id', query: { fields: 'id' }, expect: ok(ALL, { check: eachHas(['id']) }) },
  {
    name: 'fields: repeated commas',
    query: { fields: ',,id,,' },
    expect: ok(ALL, { check: eachHas(['id']) }),
  },
  {
    name: 'fields: hidden field',
    query: { fields: 'id,secret' },
    expect: ok(ALL, { check: eachHas(['id']) }),
  },
  {
    name: 'fields: __proto__ and constructor',
    query: { fields: 'id,__proto__,constructor,toString' },
    expect: ok(ALL, { check: eachHas(['id']) }),
  },
  {
    name: 'fields: :excerpt(5)',
    query: { filter: `id = "${pid(1)}"`, fields: 'title:excerpt(5)' },
    expect: { status: 200, check: (b) => expect(b.items).toEqual([{ title: 'hello' }]) },
  },
  {
    name: 'fields: :excerpt(5,true)',
    query: { filter: `id = "${pid(1)}"`, fields: 'title:excerpt(5,true)' },
    expect: { status: 200, check: (b) => expect(b.items).toEqual([{ title: 'hello...' }]) },
  },
  {
    name: 'fields: :excerpt counts code points',
    query: { filter: `id = "${pid(9)}"`, fields: 'title:excerpt(3)' },
    expect: { status: 200, check: (b) => expect(b.items).toEqual([{ title: '🚀 l' }]) },
  },
  { name: 'fields: :excerpt(-1)', query: { fields: 'title:excerpt(-1)' }, expect: bad },
  { name: 'fields: :excerpt(0)', query: { fields: 'title:excerpt(0)' }, expect: bad },
  { name: 'fields: :excerpt(abc)', query: { fields: 'title:excerpt(abc)' }, expect: bad },
  { name: 'fields: :excerpt()', query: { fields: 'title:excerpt()' }, expect: bad },
  { name: 'fields: :excerpt with 3 arguments', query: { fields: 'title:excerpt(1,true,3)' }, expect: bad },
  { name: 'fields: :excerpt(5,maybe)', query: { fields: 'title:excerpt(5,maybe)' }, expect: bad },
  { name: 'fields: :excerpt(1e400)', query: { fields: `title:excerpt(1${'0'.repeat(400)})` }, expect: bad },
  { name: 'fields: :excerpt( unclosed', query: { fields: 'title:excerpt(5' }, expect: bad },
  { name: 'fields: :excerpt) unopened', query: { fields: 'title:excerpt5)' }, expect: bad },
  { name: 'fields: unknown modifier', query: { fields: 'title:foo' }, expect: bad },
  { name: 'fields: modifier without a path', query: { fields: ':excerpt(5)' }, expect: bad },
  { name: 'fields: 4,097 characters', query: { fields: `id,${'a'.repeat(4094)}` }, expect: bad },
  { name: 'fields: 257 paths', query: { fields: Array(257).fill('id').join(',') }, expect: bad },

  // -- page / perPage / skipTotal (§3.3)
  {
    name: 'perPage: 0 is the default 30',
    query: { perPage: '0' },
    expect: ok(ALL, { check: envelope(1, 30) }),
  },
  {
    name: 'perPage: -1 is the default 30',
    query: { perPage: '-1' },
    expect: ok(ALL, { check: envelope(1, 30) }),
  },
  {
    name: 'perPage: 1001 is capped at 1000',
    query: { perPage: '1001' },
    expect: ok(ALL, { check: envelope(1, 1000) }),
  },
  { name: 'perPage: 1e3', query: { perPage: '1e3' }, expect: bad },
  { name: 'perPage: 0x10', query: { perPage: '0x10' }, expect: bad },
  { name: 'perPage: not a number', query: { perPage: 'abc' }, expect: bad },
  { name: 'perPage: 20 digits', query: { perPage: '9'.repeat(20) }, expect: bad },
  {
    name: 'page: 0 is 1',
    query: { page: '0', perPage: '5', sort: '@rowid' },
    expect: { status: 200, ids: ALL.slice(0, 5), check: envelope(1, 5) },
  },
  {
    name: 'page: -5 is 1',
    query: { page: '-5', perPage: '5', sort: '@rowid' },
    expect: { status: 200, ids: ALL.slice(0, 5), check: envelope(1, 5) },
  },
  {
    name: 'page: 3 of 5',
    query: { page: '3', perPage: '5', sort: '@rowid' },
    expect: { status: 200, ids: ALL.slice(10), check: envelope(3, 5) },
  },
  { name: 'page: 1.5', query: { page: '1.5' }, expect: bad },
  {
    name: 'page: 15 digits, past the end',
    query: { page: '9'.repeat(15), perPage: '1000' },
    expect: ok([], { check: envelope(Number('9'.repeat(15)), 1000) }),
  },
  { name: 'page: 16 digits', query: { page: '9'.repeat(16) }, expect: bad },
  { name: 'skipTotal: yes', query: { skipTotal: 'yes' }, expect: bad },
  {
    name: 'skipTotal: t',
    query: { skipTotal: 't' },
    expect: ok(ALL, { check: (b) => expect([b.totalItems, b.totalPages]).toEqual([-1, -1]) }),
  },

  // -- paths
  {
    name: 'path: SQL in a record id',
    path: `/api/collections/posts/records/${encodeURIComponent("' OR '1'='1")}`,
    expect: { status: 404 },
  },
  {
    name: 'path: 2,000-character record id',
    path: `/api/collections/posts/records/${'a'.repeat(2000)}`,
    expect: { status: 404 },
  },
  {
    name: 'path: NUL in a collection name',
    path: '/api/collections/posts%00/records',
    expect: { status: 404 },
  },
  {
    name: 'path: traversal in a collection name',
    path: '/api/collections/..%2F..%2Fsettings/records',
    expect: { status: 404 },
  },
  {
    name: 'path: SQL in a collection name',
    path: `/api/collections/${encodeURIComponent('posts;DROP TABLE posts')}/records`,
    expect: { status: 404 },
  },
  {
    name: 'path: the superusers collection as a guest',
    path: '/api/collections/_superusers/records',
    expect: { status: 403 },
  },
  {
    name: 'path: a hidden-field record view',
    path: `/api/collections/posts/records/${pid(1)}`,
    query: { fields: 'secret' },
    expect: { status: 200, check: (b) => expect(b).toEqual({}) },
  },
]

// ---------------------------------------------------------------------------------------------

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`hostile input on ${kind}`, () => {
    let store: TestStore
    let g: RunningGalley
    let su: PocketBase
    let suToken = ''
    let userToken = ''
    let snapshot = ''

    /** Everything a superuser can read back: the records of the seeded collections and their schema. */
    async function dump(): Promise<string> {
      const parts: unknown[] = []
      for (const c of ['posts', 'comments', 'users'])
        parts.push(await su.collection(c).getFullList({ sort: 'id', batch: 1000 }))
      const collections = await su.collections.getFullList({ sort: 'name' })
      parts.push(collections)
      return JSON.stringify(parts)
    }

    beforeAll(async () => {
      store = await createStore(kind)
      g = await startGalley(store)
      su = await g.asSuperuser()
      suToken = su.authStore.token
      const user = await su.collection('users').create({
        email: USER_EMAIL,
        password: USER_PASSWORD,
        passwordConfirm: USER_PASSWORD,
      })
      const pb = g.sdk()
      await pb.collection('users').authWithPassword(USER_EMAIL, USER_PASSWORD)
      userToken = pb.authStore.token

      const text = (name: string, extra: Json = {}) => ({ name, type: 'text', ...extra })
      const posts = await su.collections.create({
        name: 'posts',
        type: 'base',
        fields: [
          text('title', { max: 5000 }),
          { name: 'views', type: 'number' },
          { name: 'meta', type: 'json' },
          { name: 'labels', type: 'select', maxSelect: 3, values: ['x', 'y', 'z'] },
          { name: 'author', type: 'relation', collectionId: '_pb_users_auth_', maxSelect: 1 },
          text('secret', { hidden: true }),
        ],
        listRule: '',
        viewRule: '',
      })
      await su.collections.create({
        name: 'comments',
        type: 'base',
        fields: [
          { name: 'post', type: 'relation', collectionId: posts.id, maxSelect: 1 },
          text('body'),
          text('secret', { hidden: true }),
        ],
        listRule: '',
        viewRule: '',
      })
      for (const p of POSTS)
        await su.collection('posts').create({
          id: pid(p.n),
          title: p.title,
          views: p.views,
          meta: p.meta ?? null,
          labels: p.labels ?? [],
          author: p.n === 1 ? user.id : '',
          secret: HIDDEN,
        })
      await su.collection('comments').create({ id: cid(1), post: pid(1), body: 'nice post', secret: HIDDEN })
      await su.collection('comments').create({ id: cid(2), post: pid(2), body: 'meh', secret: HIDDEN })
      // The seed reads back as written (so the expectations above describe what is stored).
      const stored = await su.collection('posts').getFullList({ sort: '@rowid' })
      expect(stored.map((r) => [r.id, r.title, r.views])).toEqual(
        POSTS.map((p) => [pid(p.n), p.title, p.views]),
      )
      snapshot = await dump()
    })

    afterAll(async () => {
      await g?.close()
      await store?.cleanup()
    })

    async function run(c: Case): Promise<WireResponse> {
      const path = c.path ?? `/api/collections/${c.collection ?? 'posts'}/records`
      return send(g.url, 'GET', path, { query: c.query, token: c.as === 'user' ? userToken : undefined })
    }

    it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const res = await run(c)
      const sent = [c.path ?? '', ...(Array.isArray(c.query) ? c.query.flat() : Object.values(c.query ?? {}))]
      expect(res.status, res.text).toBeLessThan(500)
      expect(internals(res, sent)).toEqual([])
      expect(canariesIn(res, [HIDDEN])).toEqual([])
      const want = c.expect
      if (want.status === 200 && want.or400 && res.status === 400) {
        expectErrorShape(res, 400)
        return
      }
      expect(res.status, res.text).toBe(want.status)
      if (want.status === 431) return
      if (want.status !== 200) {
        expectErrorShape(res, want.status)
        if (want.message) expect((res.json as Json).message).toMatch(want.message)
        return
      }
      const body = res.json as ListBody
      if (c.path) {
        // a single record
        want.check?.(body)
        return
      }
      expect(Array.isArray(body.items), res.text).toBe(true)
      if (want.ids) {
        const got = body.items.map((i) => i.id)
        if (want.anyOrder) expect([...got].sort()).toEqual([...want.ids].sort())
        else expect(got).toEqual(want.ids)
      }
      want.check?.(body)
    })

    it('runs at least 50 hostile cases, each with a name of its own', () => {
      expect(CASES.length).toBeGreaterThanOrEqual(50)
      expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length)
    })

    it('still answers a normal request afterwards, with the data unchanged', async () => {
      const res = await send(g.url, 'GET', '/api/collections/posts/records', { query: { sort: '@rowid' } })
      expect(res.status).toBe(200)
      expect((res.json as ListBody).items.map((i) => i.id)).toEqual(ALL)
      expect(canariesIn(res, [HIDDEN])).toEqual([])
      const health = await send(g.url, 'GET', '/api/health', { token: suToken })
      expect(health.status).toBe(200)
      expect(await dump()).toBe(snapshot)
    })
  })
}

/** The rule editor's completion (packages/admin-ui/src/lib/rule-complete.ts): pure, no browser. */
import { describe, expect, it } from 'vitest'
import {
  applyCompletion,
  completeRule,
  insideText,
  MAX_COMPLETIONS,
  type CompletionContext,
} from '../packages/admin-ui/src/lib/rule-complete.js'

const users = {
  id: '_pb_users_auth_',
  name: 'users',
  type: 'auth',
  fields: [
    { name: 'id', type: 'text' },
    { name: 'email', type: 'email' },
    { name: 'role', type: 'select' },
  ],
}
const staff = { id: 'staff1', name: 'staff', type: 'auth', fields: [{ name: 'level', type: 'number' }] }
const superusers = {
  id: 'su',
  name: '_superusers',
  type: 'auth',
  fields: [{ name: 'secretish', type: 'text' }],
}
const members = { id: 'm1', name: 'members', type: 'base', fields: [{ name: 'user', type: 'relation' }] }
const draft = {
  name: 'posts',
  type: 'base',
  fields: [
    { name: 'id', type: 'text' },
    { name: 'title', type: 'text' },
    { name: 'tags', type: 'select' },
    { name: 'author', type: 'relation', collectionId: '_pb_users_auth_' },
  ],
}
const ctx: CompletionContext = { draft, collections: [users, staff, superusers, members] }
const texts = (rule: string, cursor = rule.length) => completeRule(rule, cursor, ctx).items.map((i) => i.text)

describe('rule completion', () => {
  it('offers the draft’s field names for a prefix, case-insensitively', () => {
    expect(texts('ti')).toEqual(['title'])
    expect(texts('T')).toEqual(['title', 'tags'])
    expect(texts('status = "x" && ti')).toEqual(['title'])
  })

  it('walks one relation hop into the target collection', () => {
    expect(texts('author.')).toEqual(['author.id', 'author.email', 'author.role'])
  })

  it('offers @request.auth fields of every auth collection (common keys first), not of system ones', () => {
    const auth = texts('@request.auth.')
    expect(auth.slice(0, 6)).toEqual([
      '@request.auth.id',
      '@request.auth.email',
      '@request.auth.emailVisibility',
      '@request.auth.verified',
      '@request.auth.collectionId',
      '@request.auth.collectionName',
    ])
    expect(auth).toContain('@request.auth.role')
    expect(auth).toContain('@request.auth.level')
    expect(auth).not.toContain('@request.auth.secretish')
  })

  it('offers @request.body (draft fields), query, headers, method, context', () => {
    expect(texts('@request.b')).toEqual([
      '@request.body.id',
      '@request.body.title',
      '@request.body.tags',
      '@request.body.author',
    ])
    expect(texts('@request.')).toEqual(
      expect.arrayContaining(['@request.method', '@request.context', '@request.query.', '@request.headers.']),
    )
  })

  it('offers @collection.<name>.<field> for every collection, the draft’s own as drafted', () => {
    expect(texts('@collection.m')).toEqual(['@collection.members.user'])
    expect(texts('@collection.posts.')).toEqual([
      '@collection.posts.id',
      '@collection.posts.title',
      '@collection.posts.tags',
      '@collection.posts.author',
    ])
  })

  it('offers modifiers that fit the path after a colon', () => {
    expect(texts('tags:')).toEqual([':length', ':each', ':lower'])
    expect(texts('title:')).toEqual([':lower'])
    expect(texts('@request.body.tags:')).toEqual([':isset', ':changed', ':length', ':each', ':lower'])
    expect(texts('@request.query.page:')).toEqual([':isset', ':lower'])
    expect(texts('tags:l')).toEqual([':length', ':lower'])
  })

  it('opens on a begun word only, or when asked (Ctrl+Space)', () => {
    expect(texts('')).toEqual([])
    expect(texts('title = ')).toEqual([])
    expect(texts('title =')).toEqual([])
    const asked = completeRule('title = ', 8, ctx, true).items.map((i) => i.text)
    expect(asked.slice(0, 4)).toEqual(['id', 'title', 'tags', 'author'])
    expect(asked).toHaveLength(MAX_COMPLETIONS)
  })

  it('offers the datetime macros', () => {
    expect(texts('created > @to')).toEqual(['@tomorrow', '@todayStart', '@todayEnd'])
    expect(texts('@n')).toEqual(['@now'])
  })

  it('offers nothing inside a quoted text or a comment, after a number, or for an exact match', () => {
    expect(texts('title = "ti')).toEqual([])
    expect(texts("title = 'it\\'s ti")).toEqual([])
    expect(texts('title = "a" && ti')).toEqual(['title'])
    expect(texts('// ti')).toEqual([])
    expect(texts('count > 1')).toEqual([])
    expect(texts('title')).toEqual([])
    expect(insideText('"a\\"b" = ti', 11)).toBe(false)
  })

  it('completes at the cursor, replacing the whole word, and caps the list', () => {
    const rule = 'tit = "x"'
    const r = completeRule(rule, 2, ctx)
    expect(r.items.map((i) => i.text)).toEqual(['title'])
    expect(applyCompletion(rule, r, r.items[0]!)).toEqual({ rule: 'title = "x"', cursor: 5 })
    const m = completeRule('tags:le > 1', 7, ctx)
    expect(applyCompletion('tags:le > 1', m, m.items[0]!)).toEqual({ rule: 'tags:length > 1', cursor: 11 })
    const many: CompletionContext = {
      draft,
      collections: [
        {
          name: 'wide',
          type: 'base',
          fields: Array.from({ length: 100 }, (_, i) => ({ name: `f${i}`, type: 'text' })),
        },
      ],
    }
    expect(completeRule('@collection.wide.', 17, many).items).toHaveLength(MAX_COMPLETIONS)
  })
})

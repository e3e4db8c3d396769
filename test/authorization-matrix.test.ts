/**
 * The authorization matrix (pocketbase-api.md §3.4–§3.6, §5.2, §7.2, §7.3, §12) on SQLite and
 * PostgreSQL: rows are operations (list/view/create/update/delete of four collections over REST and
 * over POST /api/batch, expands from readable records into unreadable ones, back-relation filters,
 * filters and sorts by hidden fields), columns are the requesters (guest, the record's owner, another
 * user, a superuser); one test per cell.
 *
 * Canaries (unique random strings) sit in every hidden field, in the titles of each user's private
 * posts, in the locked collection and in the users' emails. Every response body of every cell,
 * error bodies included, is scanned for the canaries its requester may not see, and every status is
 * checked against PocketBase's: list 200 filtered, view/update/delete 404 when the rule fails,
 * create 400, a null rule 403 for non-superusers, never 401, never a 5xx.
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

const WHO = ['guest', 'owner', 'other', 'superuser'] as const
type Who = (typeof WHO)[number]
type PerWho<T> = Readonly<Record<Who, T>>
const per = (guest: number, owner: number, other: number, superuser: number): PerWho<number> => ({
  guest,
  owner,
  other,
  superuser,
})

// ---------------------------------------------------------------------------------------------
// Canaries: what each requester may see of them is decided by `own` below.

const CANARY = {
  postSecret: canary('hidden-post'),
  commentSecret: canary('hidden-comment'),
  userSecretA: canary('hidden-user-a'),
  userSecretB: canary('hidden-user-b'),
  userSecretT: canary('hidden-user-t'),
  privateA: canary('private-a'),
  privateB: canary('private-b'),
  locked: canary('locked'),
  emailA: canary('email-a'),
  emailB: canary('email-b'),
}
const ALL_CANARIES = Object.values(CANARY)
/** A prefix of a canary for `~` oracles: never the whole canary, so an echo cannot look like a leak. */
const prefixOf = (c: string) => c.slice(0, c.length - 6)

const PASSWORD = 'matrix password 123'
const SUPERUSERS_ONLY = 'Only superusers can perform this action.'
const NOT_FOUND = "The requested resource wasn't found."
const TX_FAILED = 'Batch transaction failed.'

/** Someone sending requests: a token (none for a guest) and the canaries they may see. */
interface Principal {
  readonly label: string
  readonly id: string
  readonly token: string | undefined
  readonly superuser: boolean
  readonly own: readonly string[]
}

interface Fixture {
  readonly url: string
  readonly su: PocketBase
  readonly guest: Principal
  readonly A: Principal
  readonly B: Principal
  readonly SU: Principal
  readonly ids: Readonly<Record<'pA1' | 'pA2' | 'pB1' | 'cA' | 'cB' | 'cX' | 'lA' | 'lB', string>>
  /** A fresh users record, signed in (argon2: keep these few). */
  freshUser(): Promise<Principal>
}

// ---------------------------------------------------------------------------------------------
// The rules, written once more in JavaScript: the oracle for what a requester may list or view.

type Target = 'posts' | 'comments' | 'users' | 'locked'

const visible: Record<Target, (r: Json, me: Principal) => boolean> = {
  posts: (r, me) => me.superuser || (me.id !== '' && r.owner === me.id),
  comments: () => true,
  users: (r, me) => me.superuser || (me.id !== '' && r.id === me.id),
  locked: (_r, me) => me.superuser,
}

const HIDDEN_FIELD: Record<Target, string> = { posts: 'secret', comments: 'secret', users: 'ssn', locked: '' }

type Action = 'list' | 'view' | 'create' | 'update' | 'delete'

/** PocketBase's REST status per action and requester for each collection's rules (§3.4–§3.6, §7). */
const REST_STATUS: Record<Target, Record<Action, PerWho<number>>> = {
  posts: {
    list: per(200, 200, 200, 200),
    view: per(404, 200, 404, 200),
    create: per(400, 200, 400, 200),
    update: per(404, 200, 404, 200),
    delete: per(404, 204, 404, 204),
  },
  comments: {
    list: per(200, 200, 200, 200),
    view: per(200, 200, 200, 200),
    create: per(400, 200, 400, 200),
    update: per(404, 200, 404, 200),
    delete: per(404, 204, 404, 204),
  },
  users: {
    list: per(200, 200, 200, 200),
    view: per(404, 200, 404, 200),
    create: per(200, 200, 200, 200),
    update: per(404, 200, 404, 200),
    delete: per(404, 204, 404, 204),
  },
  locked: {
    list: per(403, 403, 403, 200),
    view: per(403, 403, 403, 200),
    create: per(403, 403, 403, 200),
    update: per(403, 403, 403, 200),
    delete: per(403, 403, 403, 204),
  },
}

// ---------------------------------------------------------------------------------------------
// Cells

/** What a cell's run leaves for the common checks: every response it received, with what it sent. */
interface Exchange {
  readonly res: WireResponse
  readonly sent: readonly string[]
}

interface CellContext {
  readonly fx: Fixture
  readonly who: Who
  /** Sends as the cell's requester (or `as`); every response is kept for the leak scan. */
  call(
    method: string,
    path: string,
    opts?: { query?: Query; body?: unknown; as?: Principal },
  ): Promise<WireResponse>
  /** The requester: the owner column is resolved per row (the record's owner). */
  me: Principal
}

interface Row {
  readonly name: string
  readonly channel: 'REST' | 'batch' | 'expand' | 'back-relation' | 'hidden field'
  readonly status: PerWho<number>
  /** The principal of the owner column when it is not user A (a fresh user for users rows). */
  readonly owner?: (fx: Fixture) => Promise<Principal>
  run(ctx: CellContext, status: number): Promise<void>
}

const recordsPath = (c: string, id?: string) => `/api/collections/${c}/records${id ? `/${id}` : ''}`
const idsOf = (items: Json[]) => items.map((i) => i.id as string).sort()

async function suAll(fx: Fixture, c: string): Promise<Json[]> {
  return (await fx.su.collection(c).getFullList({ batch: 1000 })) as unknown as Json[]
}
async function suFind(fx: Fixture, c: string, id: string): Promise<Json | undefined> {
  const res = await send(fx.url, 'GET', recordsPath(c, id), { token: fx.SU.token })
  return res.status === 200 ? (res.json as Json) : undefined
}

/**
 * The record an update or delete cell writes: made by the superuser for this cell, canaries in place,
 * owned by the owner column's principal (user A; for users rows a fresh user, never A or B).
 */
async function writeTarget(ctx: CellContext, target: Target): Promise<string> {
  const { fx, me } = ctx
  const owner = ctx.who === 'owner' ? me : target === 'users' ? await fx.freshUser() : fx.A
  return freshRecord(fx, target, owner)
}

/** A record of `target` made by the superuser with canaries in place, owned by `owner`. */
async function freshRecord(fx: Fixture, target: Target, owner: Principal): Promise<string> {
  const body: Record<Target, Json> = {
    posts: { title: `${CANARY.privateA} fresh`, owner: owner.id, secret: CANARY.postSecret },
    comments: { post: fx.ids.pA1, author: owner.id, body: 'fresh comment', secret: CANARY.commentSecret },
    users: {},
    locked: { title: CANARY.locked, post: fx.ids.pA1 },
  }
  if (target === 'users') return owner.id
  return (await fx.su.collection(target).create(body[target])).id
}

/** A create body for `target` naming user A as its owner, marked so the superuser can find it. */
function createBody(fx: Fixture, target: Target, marker: string): Json {
  switch (target) {
    case 'posts':
      return { title: `${CANARY.privateA} ${marker}`, owner: fx.A.id, secret: marker }
    case 'comments':
      return { post: fx.ids.pA1, author: fx.A.id, body: marker, secret: marker }
    case 'users':
      return { email: `${marker}@example.com`, password: PASSWORD, passwordConfirm: PASSWORD, ssn: marker }
    case 'locked':
      return { title: marker, post: fx.ids.pA1 }
  }
}
const MARKER_FIELD: Record<Target, string> = {
  posts: 'title',
  comments: 'body',
  users: 'email',
  locked: 'title',
}
const updateBody = (target: Target, marker: string): Json =>
  target === 'users'
    ? { name: marker, ssn: marker }
    : target === 'comments'
      ? { body: marker, secret: marker }
      : { title: `${target === 'posts' ? CANARY.privateA : CANARY.locked} ${marker}`, secret: marker }

let markers = 0
const nextMarker = () => `mark${++markers}x${Math.random().toString(36).slice(2, 8)}`

/** The seeded record a view cell reads, owned by user A. */
const seeded = (fx: Fixture, target: Target) =>
  ({ posts: fx.ids.pA1, comments: fx.ids.cA, users: fx.A.id, locked: fx.ids.lA })[target]

/** One request as a one-item batch; a failed item's REST status is nested in `data.requests.0.response`. */
async function viaBatch(
  ctx: CellContext,
  status: number,
  request: { method: string; url: string; body?: Json; headers?: Record<string, string | undefined> },
): Promise<WireResponse> {
  const res = await ctx.call('POST', '/api/batch', { body: { requests: [request] } })
  if (status < 300) {
    expect(res.status, res.text).toBe(200)
    const results = res.json as { status: number; body: unknown }[]
    expect(results.map((r) => r.status)).toEqual([status])
  } else {
    expectErrorShape(res, 400)
    const body = res.json as { message: string; data: { requests: Record<string, Json> } }
    expect(body.message).toBe(TX_FAILED)
    expect(Object.keys(body.data.requests)).toEqual(['0'])
    expect(body.data.requests['0']).toMatchObject({
      code: 'batch_request_failed',
      message: 'Batch request failed.',
    })
    const nested = body.data.requests['0']!.response as Json
    expect(Object.keys(nested).sort()).toEqual(['data', 'message', 'status'])
    expect(nested.status).toBe(status)
  }
  return res
}

/** The REST and batch rows of one collection and action. */
function crudRows(target: Target, action: Action): Row[] {
  const status = REST_STATUS[target][action]
  const ownerOf = target === 'users' && (action === 'update' || action === 'delete') ? freshOwner : undefined
  const rest: Row = {
    name: `${target} ${action}`,
    channel: 'REST',
    status,
    owner: ownerOf,
    run: restCell(target, action),
  }
  if (action === 'list' || action === 'view') return [rest]
  return [rest, { ...rest, channel: 'batch', run: batchCell(target, action) }]
}
const freshOwner = (fx: Fixture) => fx.freshUser()

/** The stored record after a write; what the write should have done to it. */
async function checkWrite(
  ctx: CellContext,
  target: Target,
  action: Action,
  id: string,
  ok: boolean,
  marker: string,
) {
  const stored = await suFind(ctx.fx, target, id)
  if (action === 'delete') {
    expect(stored === undefined).toBe(ok)
    return
  }
  const field = MARKER_FIELD[target] === 'email' ? 'name' : MARKER_FIELD[target]
  expect(String(stored![field]).includes(marker)).toBe(ok)
  // Hidden fields are the superuser's alone to write; others' values are dropped (§3.6, §7.4).
  if (target !== 'locked') {
    const hidden = stored![HIDDEN_FIELD[target]]
    if (ok && ctx.me.superuser) expect(hidden).toBe(marker)
    else expect(hidden).not.toBe(marker)
  }
}

async function checkCreate(ctx: CellContext, target: Target, ok: boolean, marker: string) {
  const field = MARKER_FIELD[target]
  const found = (await suAll(ctx.fx, target)).filter((r) => String(r[field]).includes(marker))
  expect(found.length).toBe(ok ? 1 : 0)
  if (ok && target !== 'locked') expect(found[0]![HIDDEN_FIELD[target]]).toBe(ctx.me.superuser ? marker : '')
}

function restCell(target: Target, action: Action) {
  return async (ctx: CellContext, status: number) => {
    const { fx, me } = ctx
    const marker = nextMarker()
    let res: WireResponse
    switch (action) {
      case 'list': {
        res = await ctx.call('GET', recordsPath(target), { query: { perPage: '1000' } })
        expect(res.status, res.text).toBe(status)
        if (status !== 200) break
        const expected = (await suAll(fx, target)).filter((r) => visible[target](r, me))
        const list = res.json as { items: Json[]; totalItems: number }
        expect(idsOf(list.items)).toEqual(idsOf(expected))
        // the count is no oracle either
        expect(list.totalItems).toBe(expected.length)
        break
      }
      case 'view': {
        const id = seeded(fx, target)
        res = await ctx.call('GET', recordsPath(target, id))
        expect(res.status, res.text).toBe(status)
        if (status === 200) expect((res.json as Json).id).toBe(id)
        break
      }
      case 'create': {
        res = await ctx.call('POST', recordsPath(target), { body: createBody(fx, target, marker) })
        expect(res.status, res.text).toBe(status)
        await checkCreate(ctx, target, status === 200, marker)
        break
      }
      default: {
        const id = await writeTarget(ctx, target)
        const body = action === 'update' ? updateBody(target, marker) : undefined
        res = await ctx.call(action === 'update' ? 'PATCH' : 'DELETE', recordsPath(target, id), { body })
        expect(res.status, res.text).toBe(status)
        await checkWrite(ctx, target, action, id, status < 300, marker)
      }
    }
    if (status >= 400) expectErrorShape(res, status)
    if (status === 403) expect((res.json as Json).message).toBe(SUPERUSERS_ONLY)
    if (status === 404) expect((res.json as Json).message).toBe(NOT_FOUND)
    // A superuser sees hidden fields, nobody else does (§3.1).
    if (status === 200 && target !== 'locked' && action !== 'list')
      expect(Object.hasOwn(res.json as Json, HIDDEN_FIELD[target])).toBe(me.superuser)
  }
}

function batchCell(target: Target, action: Action) {
  return async (ctx: CellContext, status: number) => {
    const { fx } = ctx
    const marker = nextMarker()
    if (action === 'create') {
      await viaBatch(ctx, status, {
        method: 'POST',
        url: recordsPath(target),
        body: createBody(fx, target, marker),
      })
      await checkCreate(ctx, target, status === 200, marker)
      return
    }
    const id = await writeTarget(ctx, target)
    const method = action === 'update' ? 'PATCH' : 'DELETE'
    const body = action === 'update' ? updateBody(target, marker) : undefined
    await viaBatch(ctx, status, { method, url: recordsPath(target, id), ...(body ? { body } : {}) })
    await checkWrite(ctx, target, action, id, status < 300, marker)
  }
}

// -- rows beyond CRUD ------------------------------------------------------------------------

/** A read with a check of its 200 body, the same request for every column. */
function readRow(
  channel: Row['channel'],
  name: string,
  status: PerWho<number>,
  request: (fx: Fixture) => { path: string; query?: Query },
  check?: (body: Json, ctx: CellContext) => Promise<void> | void,
): Row {
  return {
    name,
    channel,
    status,
    async run(ctx, expected) {
      const { path, query } = request(ctx.fx)
      const res = await ctx.call('GET', path, { query })
      expect(res.status, res.text).toBe(expected)
      if (expected !== 200) expectErrorShape(res, expected)
      else await check?.(res.json as Json, ctx)
    },
  }
}

const items = (body: Json) => body.items as Json[]
const expandedId = (r: Json, key: string) => {
  const v = (r.expand as Json | undefined)?.[key]
  return Array.isArray(v) ? v.map((x: Json) => x.id) : (v as Json | undefined)?.id
}
/** The sorted ids of a back-relation or multiple relation expanded under `key` ([] when none). */
const expandedIds = (r: Json, key: string) => [...((expandedId(r, key) as string[] | undefined) ?? [])].sort()
/** users' viewRule: an author is expanded for itself and for superusers only. */
const expectAuthorExpanded = (c: Json, me: Principal) => {
  const author = c.author as string
  expect(expandedId(c, 'author')).toBe(author && (me.superuser || author === me.id) ? author : undefined)
}
const postOf = async (fx: Fixture, id: string) => (await suFind(fx, 'posts', id))!
const ALL_200 = per(200, 200, 200, 200)
const SU_ONLY_400 = per(400, 400, 400, 200)

/**
 * Comment ids in the order `sort=[-]<path>,id` must give: by the value the requester may see (NULL,
 * first in ascending order as in SQLite, where the rule hides it), then by id.
 */
async function sortedByVisible(ctx: CellContext, path: SortPath, desc: boolean): Promise<string[]> {
  const posts = await suAll(ctx.fx, 'posts')
  const users = await suAll(ctx.fx, 'users')
  const { me } = ctx
  const key = (c: Json): string | null => {
    if (path === 'post.title') {
      const p = posts.find((x) => x.id === c.post)
      return p && visible.posts(p, me) ? (p.title as string) : null
    }
    // §3.4: a non-superuser reaches an email through a relation only where emailVisibility is on
    const u = users.find((x) => x.id === c.author)
    return u && visible.users(u, me) && (me.superuser || u.emailVisibility === true)
      ? (u.email as string)
      : null
  }
  const rows = (await suAll(ctx.fx, 'comments')).map((c) => ({ id: c.id as string, k: key(c) }))
  const cmp = (a: string | null, b: string | null) =>
    a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1
  rows.sort((a, b) => (desc ? -cmp(a.k, b.k) : cmp(a.k, b.k)) || (a.id < b.id ? -1 : 1))
  return rows.map((r) => r.id)
}
type SortPath = 'post.title' | 'author.email'

const EXPAND_ROWS: Row[] = [
  readRow(
    'expand',
    'public comments ?expand=post,author: only posts and users the requester may view',
    ALL_200,
    () => ({ path: recordsPath('comments'), query: { expand: 'post,author', perPage: '1000' } }),
    async (body, { fx, me }) => {
      const posts = await suAll(fx, 'posts')
      for (const c of items(body)) {
        const post = posts.find((p) => p.id === c.post)!
        expect(expandedId(c, 'post')).toBe(visible.posts(post, me) ? post.id : undefined)
        expectAuthorExpanded(c, me)
      }
    },
  ),
  readRow(
    'expand',
    "view of another user's comment on A's post ?expand=post.owner",
    ALL_200,
    (fx) => ({ path: recordsPath('comments', fx.ids.cX), query: { expand: 'post.owner' } }),
    async (c, { fx, me }) => {
      const post = await postOf(fx, fx.ids.pA1)
      const canPost = visible.posts(post, me)
      expect(expandedId(c, 'post')).toBe(canPost ? post.id : undefined)
      if (canPost) expect(expandedId((c.expand as Json).post as Json, 'owner')).toBe(fx.A.id)
    },
  ),
  readRow(
    'expand',
    'posts ?expand=comments_via_post.author: own posts, public comments, own author only',
    ALL_200,
    () => ({ path: recordsPath('posts'), query: { expand: 'comments_via_post.author', perPage: '1000' } }),
    async (body, { fx, me }) => {
      const comments = await suAll(fx, 'comments')
      for (const p of items(body)) {
        const mine = comments.filter((c) => c.post === p.id)
        expect(expandedIds(p, 'comments_via_post')).toEqual(idsOf(mine))
        for (const c of ((p.expand as Json | undefined)?.comments_via_post as Json[] | undefined) ?? [])
          expectAuthorExpanded(c, me)
      }
    },
  ),
  readRow(
    'expand',
    'posts ?expand=locked_via_post: a locked viewRule expands for superusers only',
    ALL_200,
    () => ({ path: recordsPath('posts'), query: { expand: 'locked_via_post', perPage: '1000' } }),
    async (body, { fx, me }) => {
      const locked = await suAll(fx, 'locked')
      for (const p of items(body)) {
        expect(expandedIds(p, 'locked_via_post')).toEqual(
          me.superuser ? idsOf(locked.filter((l) => l.post === p.id)) : [],
        )
      }
    },
  ),
  readRow(
    'expand',
    'users ?expand=posts_via_owner: the own record and its own posts',
    ALL_200,
    () => ({ path: recordsPath('users'), query: { expand: 'posts_via_owner', perPage: '1000' } }),
    async (body, { fx }) => {
      const posts = await suAll(fx, 'posts')
      for (const u of items(body)) {
        expect(expandedIds(u, 'posts_via_owner')).toEqual(idsOf(posts.filter((p) => p.owner === u.id)))
      }
    },
  ),
  readRow(
    'expand',
    'comments ?expand=post&fields=…secret: hidden fields of expanded records stay hidden',
    ALL_200,
    () => ({
      path: recordsPath('comments'),
      query: { expand: 'post', fields: 'id,secret,expand.post.secret,expand.post.id', perPage: '1000' },
    }),
    (body, { me }) => {
      for (const c of items(body)) {
        expect(Object.hasOwn(c, 'secret')).toBe(me.superuser)
        const post = (c.expand as Json | undefined)?.post as Json | undefined
        if (post) expect(Object.hasOwn(post, 'secret')).toBe(me.superuser)
      }
    },
  ),
  {
    name: "create a comment on B's post ?expand=post: the response expands only what the creator may view",
    channel: 'expand',
    status: per(400, 200, 200, 200),
    async run(ctx, status) {
      const { fx, me } = ctx
      const body = { post: fx.ids.pB1, author: me.id, body: nextMarker() }
      const res = await ctx.call('POST', recordsPath('comments'), { query: { expand: 'post' }, body })
      expect(res.status, res.text).toBe(status)
      if (status !== 200) return expectErrorShape(res, status)
      const post = await postOf(fx, fx.ids.pB1)
      expect(expandedId(res.json as Json, 'post')).toBe(visible.posts(post, me) ? post.id : undefined)
    },
  },
  {
    name: "batch: create a comment on B's post with ?expand=post in the item's url",
    channel: 'expand',
    status: per(400, 200, 200, 200),
    async run(ctx, status) {
      const { fx, me } = ctx
      const body = { post: fx.ids.pB1, author: me.id, body: nextMarker() }
      const res = await viaBatch(ctx, status, {
        method: 'POST',
        url: `${recordsPath('comments')}?expand=post`,
        body,
      })
      if (status !== 200) return
      const post = await postOf(fx, fx.ids.pB1)
      const created = (res.json as { body: Json }[])[0]!.body
      expect(expandedId(created, 'post')).toBe(visible.posts(post, me) ? post.id : undefined)
    },
  },
]

const BACK_RELATION_ROWS: Row[] = [
  readRow('back-relation', 'posts ?filter=comments_via_post.secret ~ …', SU_ONLY_400, () => ({
    path: recordsPath('posts'),
    query: { filter: `comments_via_post.secret ~ "${prefixOf(CANARY.commentSecret)}"` },
  })),
  readRow(
    'back-relation',
    'posts ?filter=comments_via_post.body ?~ "reply": only listable posts',
    ALL_200,
    () => ({ path: recordsPath('posts'), query: { filter: 'comments_via_post.body ?~ "reply"' } }),
    async (body, { fx, me }) => {
      const post = await postOf(fx, fx.ids.pA1)
      expect(idsOf(items(body))).toEqual(visible.posts(post, me) ? [fx.ids.pA1] : [])
    },
  ),
  readRow(
    'back-relation',
    "comments ?filter=post.title ~ <A's private prefix>: no oracle over unlistable posts",
    ALL_200,
    () => ({
      path: recordsPath('comments'),
      query: { filter: `post.title ~ "${prefixOf(CANARY.privateA)}"` },
    }),
    async (body, { fx, me }) => {
      const posts = await suAll(fx, 'posts')
      const match = (await suAll(fx, 'comments')).filter((c) => {
        const p = posts.find((x) => x.id === c.post)!
        return visible.posts(p, me) && String(p.title).includes(prefixOf(CANARY.privateA))
      })
      expect(idsOf(items(body))).toEqual(idsOf(match))
    },
  ),
  readRow(
    'back-relation',
    "users ?filter=posts_via_owner.title ?~ <A's private prefix>",
    ALL_200,
    () => ({
      path: recordsPath('users'),
      query: { filter: `posts_via_owner.title ?~ "${prefixOf(CANARY.privateA)}"` },
    }),
    (body, { fx, me }) =>
      expect(idsOf(items(body))).toEqual(me.superuser || me.id === fx.A.id ? [fx.A.id] : []),
  ),
  readRow(
    'back-relation',
    'comments ?filter=post.locked_via_post.title ~ … (locked listRule)',
    SU_ONLY_400,
    () => ({
      path: recordsPath('comments'),
      query: { filter: `post.locked_via_post.title ~ "${prefixOf(CANARY.locked)}"` },
    }),
  ),
  // §3.4.5: email comparisons through a hop need emailVisibility on that row, even one's own.
  readRow(
    'back-relation',
    "comments ?filter=author.email ~ <A's email prefix>",
    ALL_200,
    () => ({
      path: recordsPath('comments'),
      query: { filter: `author.email ~ "${prefixOf(CANARY.emailA)}"` },
    }),
    async (body, { fx, me }) => {
      const byA = (await suAll(fx, 'comments')).filter((c) => c.author === fx.A.id)
      expect(idsOf(items(body))).toEqual(me.superuser ? idsOf(byA) : [])
    },
  ),
  readRow('back-relation', 'comments ?filter=post.owner.ssn != "" (hidden, two hops)', SU_ONLY_400, () => ({
    path: recordsPath('comments'),
    query: { filter: 'post.owner.ssn != ""' },
  })),
]

const HIDDEN_ROWS: Row[] = [
  readRow(
    'hidden field',
    'comments ?expand=reviewer (a hidden relation): neither the value nor its expansion',
    ALL_200,
    () => ({ path: recordsPath('comments'), query: { expand: 'reviewer', perPage: '1000' } }),
    (body, { me }) => {
      for (const c of items(body)) {
        expect(Object.hasOwn(c, 'reviewer')).toBe(me.superuser)
        expect(expandedId(c, 'reviewer') !== undefined).toBe(me.superuser && c.reviewer !== '')
      }
    },
  ),
  readRow('hidden field', 'comments ?filter=reviewer = <A> (a hidden relation)', SU_ONLY_400, (fx) => ({
    path: recordsPath('comments'),
    query: { filter: `reviewer = "${fx.A.id}"` },
  })),
  readRow(
    'hidden field',
    'users ?filter=comments_via_reviewer.body != "" (back through a hidden relation)',
    SU_ONLY_400,
    () => ({
      path: recordsPath('users'),
      query: { filter: 'comments_via_reviewer.body != ""' },
    }),
  ),
  readRow('hidden field', 'posts ?sort=secret', SU_ONLY_400, () => ({
    path: recordsPath('posts'),
    query: { sort: 'secret' },
  })),
  readRow('hidden field', 'posts ?filter=secret ~ …', SU_ONLY_400, () => ({
    path: recordsPath('posts'),
    query: { filter: `secret ~ "${prefixOf(CANARY.postSecret)}"` },
  })),
  readRow('hidden field', 'comments ?sort=-post.secret', SU_ONLY_400, () => ({
    path: recordsPath('comments'),
    query: { sort: '-post.secret' },
  })),
  readRow('hidden field', 'users ?sort=ssn', SU_ONLY_400, () => ({
    path: recordsPath('users'),
    query: { sort: 'ssn' },
  })),
  readRow('hidden field', 'users ?filter=tokenKey != ""', SU_ONLY_400, () => ({
    path: recordsPath('users'),
    query: { filter: 'tokenKey != ""' },
  })),
  readRow('hidden field', 'users ?filter=password != ""', SU_ONLY_400, () => ({
    path: recordsPath('users'),
    query: { filter: 'password != ""' },
  })),
  readRow(
    'hidden field',
    'view a post ?fields=secret,title',
    per(404, 200, 404, 200),
    (fx) => ({ path: recordsPath('posts', fx.ids.pA1), query: { fields: 'secret,title' } }),
    (body, { me }) =>
      expect(Object.keys(body).sort()).toEqual(me.superuser ? ['secret', 'title'] : ['title']),
  ),
  ...(['post.title', 'author.email'] as const).flatMap((path) =>
    [false, true].map((desc) =>
      readRow(
        'hidden field',
        `comments ?sort=${desc ? '-' : ''}${path},id: no order oracle over what the requester cannot see`,
        ALL_200,
        () => ({
          path: recordsPath('comments'),
          query: { sort: `${desc ? '-' : ''}${path},id`, perPage: '1000' },
        }),
        async (body, ctx) =>
          expect(items(body).map((c) => c.id)).toEqual(await sortedByVisible(ctx, path, desc)),
      ),
    ),
  ),
]

/** `PUT` in a batch is an upsert (§12): an existing id updates through the updateRule. */
const upsertRow = (target: 'posts' | 'comments'): Row => ({
  name: `${target} upsert of an existing record (PUT)`,
  channel: 'batch',
  status: REST_STATUS[target].update,
  async run(ctx, status) {
    const marker = nextMarker()
    const id = await writeTarget(ctx, target)
    await viaBatch(ctx, status, {
      method: 'PUT',
      url: recordsPath(target),
      body: { id, ...updateBody(target, marker) },
    })
    await checkWrite(ctx, target, 'update', id, status === 200, marker)
  },
})

const BATCH_ROWS: Row[] = [
  {
    name: "posts update with A's token in the item's headers: the batch's own auth applies",
    channel: 'batch',
    status: REST_STATUS.posts.update,
    async run(ctx, status) {
      const marker = nextMarker()
      const id = await writeTarget(ctx, 'posts')
      const headers = { Authorization: ctx.fx.A.token }
      await viaBatch(ctx, status, {
        method: 'PATCH',
        url: recordsPath('posts', id),
        headers,
        body: updateBody('posts', marker),
      })
      await checkWrite(ctx, 'posts', 'update', id, status === 200, marker)
    },
  },
  upsertRow('posts'),
  upsertRow('comments'),
  {
    name: 'a GET in a batch (not a batch action): refused for everyone',
    channel: 'batch',
    status: per(400, 400, 400, 400),
    async run(ctx, status) {
      const res = await viaBatch(ctx, status, { method: 'GET', url: recordsPath('posts') })
      expect((res.json as Json).message).toBe(TX_FAILED)
    },
  },
  {
    name: "batch: create an own post, then rename A's post: all or nothing",
    channel: 'batch',
    status: per(400, 200, 400, 200),
    async run(ctx, status) {
      const { fx, me } = ctx
      const marker = nextMarker()
      const target = await freshRecord(fx, 'posts', fx.A)
      const owner = me.superuser ? fx.A.id : me.id
      const res = await ctx.call('POST', '/api/batch', {
        body: {
          requests: [
            { method: 'POST', url: recordsPath('posts'), body: { title: `own ${marker}`, owner } },
            {
              method: 'PATCH',
              url: recordsPath('posts', target),
              body: { title: `${CANARY.privateA} ${marker}` },
            },
          ],
        },
      })
      expect(res.status, res.text).toBe(status)
      const created = (await suAll(fx, 'posts')).filter((p) => String(p.title) === `own ${marker}`)
      const renamed = String((await postOf(fx, target)).title).includes(marker)
      expect([created.length, renamed]).toEqual(status === 200 ? [1, true] : [0, false])
      if (status === 200) return
      expectErrorShape(res, 400)
      // The guest fails at the create (400), the other user at the rename (404).
      const failedAt = ctx.who === 'guest' ? ['0', 400] : ['1', 404]
      const requests = (res.json as { data: { requests: Record<string, { response: Json }> } }).data.requests
      expect(Object.keys(requests)).toEqual([failedAt[0]])
      expect(requests[failedAt[0]!]!.response.status).toBe(failedAt[1])
    },
  },
]

const NULL_RULE_ROWS: Row[] = [
  // §7.2: 403 comes before any record lookup, so a missing id tells nothing either.
  readRow('REST', 'locked view of a missing id', per(403, 403, 403, 404), () => ({
    path: recordsPath('locked', 'missingrecord00'),
  })),
  {
    name: 'locked delete of a missing id',
    channel: 'REST',
    status: per(403, 403, 403, 404),
    async run(ctx, status) {
      const res = await ctx.call('DELETE', recordsPath('locked', 'missingrecord00'))
      expectErrorShape(res, status)
      expect((res.json as Json).message).toBe(status === 403 ? SUPERUSERS_ONLY : NOT_FOUND)
    },
  },
]

const TARGETS: readonly Target[] = ['posts', 'comments', 'users', 'locked']
const ACTIONS: readonly Action[] = ['list', 'view', 'create', 'update', 'delete']

const ROWS: readonly Row[] = [
  ...TARGETS.flatMap((t) => ACTIONS.flatMap((a) => crudRows(t, a))),
  ...NULL_RULE_ROWS,
  ...BATCH_ROWS,
  ...EXPAND_ROWS,
  ...BACK_RELATION_ROWS,
  ...HIDDEN_ROWS,
]

const CELLS = ROWS.flatMap((row) =>
  WHO.map((who) => ({ row, who, label: `${row.channel}: ${row.name} × ${who}` })),
)

// ---------------------------------------------------------------------------------------------

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`authorization matrix on ${kind}`, () => {
    let store: TestStore
    let g: RunningGalley
    let fx: Fixture
    let freshUsers = 0

    async function signIn(email: string, own: string[], label: string, id: string): Promise<Principal> {
      const pb = g.sdk()
      await pb.collection('users').authWithPassword(email, PASSWORD)
      return { label, id, token: pb.authStore.token, superuser: false, own }
    }

    beforeAll(async () => {
      store = await createStore(kind)
      g = await startGalley(store)
      const su = await g.asSuperuser()
      await su.settings.update({ batch: { enabled: true, maxRequests: 10, timeout: 10 } })

      const usersCollection = await su.collections.getOne('users')
      await su.collections.update('users', {
        fields: [...usersCollection.fields, { name: 'ssn', type: 'text', hidden: true }],
        listRule: 'id = @request.auth.id',
        viewRule: 'id = @request.auth.id',
        createRule: '',
        updateRule: 'id = @request.auth.id',
        deleteRule: 'id = @request.auth.id',
      })
      const mkUser = async (email: string, ssn: string) =>
        (await su.collection('users').create({ email, password: PASSWORD, passwordConfirm: PASSWORD, ssn }))
          .id
      const emailA = `${CANARY.emailA}@example.com`
      const emailB = `${CANARY.emailB}@example.com`
      const aId = await mkUser(emailA, CANARY.userSecretA)
      const bId = await mkUser(emailB, CANARY.userSecretB)

      const owner = '@request.auth.id'
      const posts = await su.collections.create({
        name: 'posts',
        type: 'base',
        fields: [
          { name: 'title', type: 'text' },
          { name: 'owner', type: 'relation', collectionId: usersCollection.id, maxSelect: 1, required: true },
          { name: 'secret', type: 'text', hidden: true },
        ],
        listRule: `owner = ${owner}`,
        viewRule: `owner = ${owner}`,
        createRule: `owner = ${owner}`,
        updateRule: `owner = ${owner}`,
        deleteRule: `owner = ${owner}`,
      })
      // `author = @request.auth.id` alone would let a guest write records without an author (§4.2:
      // `= NULL` matches ""), so the usual rule checks sign-in first.
      const byAuthor = `${owner} != "" && author = ${owner}`
      await su.collections.create({
        name: 'comments',
        type: 'base',
        fields: [
          { name: 'post', type: 'relation', collectionId: posts.id, maxSelect: 1, required: true },
          { name: 'author', type: 'relation', collectionId: usersCollection.id, maxSelect: 1 },
          { name: 'body', type: 'text' },
          { name: 'secret', type: 'text', hidden: true },
          {
            name: 'reviewer',
            type: 'relation',
            collectionId: usersCollection.id,
            maxSelect: 1,
            hidden: true,
          },
        ],
        listRule: '',
        viewRule: '',
        createRule: byAuthor,
        updateRule: byAuthor,
        deleteRule: byAuthor,
      })
      await su.collections.create({
        name: 'locked',
        type: 'base',
        fields: [
          { name: 'title', type: 'text' },
          { name: 'post', type: 'relation', collectionId: posts.id, maxSelect: 1 },
        ],
        listRule: null,
        viewRule: null,
        createRule: null,
        updateRule: null,
        deleteRule: null,
      })

      const post = async (title: string, ownerId: string) =>
        (await su.collection('posts').create({ title, owner: ownerId, secret: CANARY.postSecret })).id
      const pA1 = await post(`${CANARY.privateA} one`, aId)
      const pA2 = await post(`${CANARY.privateA} two`, aId)
      const pB1 = await post(`${CANARY.privateB} one`, bId)
      // Ids chosen so that ordering by id and by the posts' titles disagree (the sort oracle rows).
      const comment = async (id: string, postId: string, author: string, body: string) =>
        (
          await su
            .collection('comments')
            .create({ id, post: postId, author, body, secret: CANARY.commentSecret, reviewer: aId })
        ).id
      const cA = await comment('zcommenta000001', pA1, aId, 'first comment')
      const cB = await comment('acommentb000001', pB1, bId, 'second comment')
      const cX = await comment('mcommentx000001', pA1, bId, 'a reply')
      const lA = (await su.collection('locked').create({ title: CANARY.locked, post: pA1 })).id
      const lB = (await su.collection('locked').create({ title: CANARY.locked, post: pB1 })).id

      const A = await signIn(emailA, [CANARY.privateA, CANARY.emailA], 'A', aId)
      const B = await signIn(emailB, [CANARY.privateB, CANARY.emailB], 'B', bId)
      fx = {
        url: g.url,
        su,
        guest: { label: 'guest', id: '', token: undefined, superuser: false, own: [] },
        A,
        B,
        SU: { label: 'superuser', id: '', token: su.authStore.token, superuser: true, own: ALL_CANARIES },
        ids: { pA1, pA2, pB1, cA, cB, cX, lA, lB },
        async freshUser() {
          const email = `fresh${++freshUsers}${Math.random().toString(36).slice(2, 8)}@example.com`
          const id = await mkUser(email, CANARY.userSecretT)
          return signIn(email, [], `fresh user ${freshUsers}`, id)
        },
      }
    })

    afterAll(async () => {
      await g?.close()
      await store?.cleanup()
    })

    it.each(CELLS.map((c) => [c.label, c] as const))('%s', async (_label, { row, who }) => {
      const me =
        who === 'guest'
          ? fx.guest
          : who === 'superuser'
            ? fx.SU
            : who === 'other'
              ? fx.B
              : row.owner
                ? await row.owner(fx)
                : fx.A
      const exchanges: Exchange[] = []
      const ctx: CellContext = {
        fx,
        who,
        me,
        async call(method, path, opts = {}) {
          const as = opts.as ?? me
          const res = await send(fx.url, method, path, {
            token: as.token,
            query: opts.query,
            body: opts.body,
          })
          const q = opts.query ?? {}
          const sent = [
            path,
            ...(Array.isArray(q) ? q.flat() : Object.values(q)),
            JSON.stringify(opts.body ?? ''),
          ]
          exchanges.push({ res, sent })
          return res
        },
      }
      await row.run(ctx, row.status[who])
      expect(exchanges.length).toBeGreaterThan(0)
      const forbidden = ALL_CANARIES.filter((c) => !me.own.includes(c))
      for (const { res, sent } of exchanges) {
        expect(res.status, res.text).not.toBe(401)
        expect(res.status, res.text).toBeLessThan(500)
        expect(canariesIn(res, forbidden), res.text).toEqual([])
        expect(internals(res, sent)).toEqual([])
      }
    })

    it("keeps hidden fields out of a user's own sign-in and refresh responses", async () => {
      const signInRes = await send(fx.url, 'POST', '/api/collections/users/auth-with-password', {
        body: { identity: `${CANARY.emailA}@example.com`, password: PASSWORD },
      })
      const refresh = await send(fx.url, 'POST', '/api/collections/users/auth-refresh', { token: fx.A.token })
      for (const res of [signInRes, refresh]) {
        expect(res.status, res.text).toBe(200)
        const record = (res.json as { record: Json }).record
        expect(record.id).toBe(fx.A.id)
        expect(record.email).toBe(`${CANARY.emailA}@example.com`)
        expect(Object.hasOwn(record, 'ssn')).toBe(false)
        expect(
          canariesIn(
            res,
            ALL_CANARIES.filter((c) => !fx.A.own.includes(c)),
          ),
        ).toEqual([])
      }
    })

    it('has the canaries in place: the superuser reads every one of them back', async () => {
      const texts: string[] = []
      for (const c of ['posts', 'comments', 'users', 'locked'])
        texts.push(
          (await send(fx.url, 'GET', recordsPath(c), { token: fx.SU.token, query: { perPage: '1000' } }))
            .text,
        )
      const all = texts.join('\n')
      // (fresh users' hidden values come and go with the cells)
      expect(ALL_CANARIES.filter((c) => c !== CANARY.userSecretT && !all.includes(c))).toEqual([])
    })

    it('covers every collection × action × requester over REST and batch, and the other channels', () => {
      const channels = new Set(ROWS.map((r) => r.channel))
      expect([...channels].sort()).toEqual(['REST', 'back-relation', 'batch', 'expand', 'hidden field'])
      const names = (channel: Row['channel']) =>
        new Set(ROWS.filter((r) => r.channel === channel).map((r) => r.name))
      for (const t of TARGETS)
        for (const a of ACTIONS) {
          expect(names('REST').has(`${t} ${a}`)).toBe(true)
          expect(names('batch').has(`${t} ${a}`)).toBe(a !== 'list' && a !== 'view')
        }
      expect(CELLS.length).toBe(ROWS.length * WHO.length)
    })
  })
}

/**
 * `?expand=` (pocketbase-api.md §5.2, §3.1, §7.3, §7.4) through the `pocketbase` SDK and raw fetch on
 * SQLite and PostgreSQL: forward and back-relations, nesting and its depth limit, view rules with
 * `@request.context = "expand"`, hidden fields and email visibility (owner, manager) in expanded
 * records, the fan-out limits, create/update responses, a caller's transaction, and the number of
 * queries an expanded list costs.
 */
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs } from 'kysely'
import type PocketBase from 'pocketbase'
import type { RecordModel } from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashPassword, verifyPassword } from '../src/auth/index.js'
import type { RequestContext } from '../src/rules/index.js'
import {
  RecordService,
  type RecordJSON,
  MAX_BACK_RELATION_EXPAND,
  MAX_EXPAND_DEPTH,
  MAX_EXPAND_IDS_PER_QUERY,
  MAX_EXPAND_LENGTH,
  MAX_EXPAND_RECORDS,
  MAX_EXPAND_RELATIONS,
} from '../src/records/index.js'
import { LOCKED, OPEN, rel, text } from './helpers/fields.js'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'

type Json = Record<string, unknown>

const CANARY = 'canary-expand-7c2e91d4'
const PASSWORD = 'expand password 123'

/** Every string anywhere in a JSON value. */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v)
  else if (Array.isArray(v)) v.forEach((x) => strings(x, out))
  else if (v && typeof v === 'object') Object.values(v).forEach((x) => strings(x, out))
  return out
}

/** Counts the queries a Kysely instance runs. */
class QueryCounter implements KyselyPlugin {
  count = 0
  transformQuery(args: PluginTransformQueryArgs) {
    this.count++
    return args.node
  }
  transformResult(args: PluginTransformResultArgs) {
    return Promise.resolve(args.result)
  }
}

const GUEST: RequestContext = { method: 'GET', headers: {}, query: {}, body: {}, context: 'default' }

const newId = (prefix: string, i: number) => `${prefix}${String(i).padStart(15 - prefix.length, '0')}`

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`expand on ${kind}`, () => {
    let store: TestStore
    let g: RunningGalley
    let su: PocketBase
    let guest: PocketBase
    const ids: Record<string, string> = {}
    const col: Record<string, string> = {}
    /** Every body a non-superuser received, scanned for the canary at the end. */
    const seen: unknown[] = []

    function client(): PocketBase {
      const pb = g.sdk()
      pb.afterSend = (_res: Response, data: unknown) => {
        seen.push(data)
        return data
      }
      return pb
    }

    async function member(name: string, extra: Json = {}): Promise<{ id: string; pb: PocketBase }> {
      const email = `${name}@example.com`
      const r = await su
        .collection('members')
        .create({ email, password: PASSWORD, passwordConfirm: PASSWORD, name, secret: CANARY, ...extra })
      const pb = client()
      await pb.collection('members').authWithPassword(email, PASSWORD)
      return { id: r.id, pb }
    }

    /** GET as raw JSON (status and body exactly as sent). */
    async function get(path: string, token?: string): Promise<{ status: number; body: Json }> {
      const res = await fetch(`${g.url}${path}`, { headers: token ? { Authorization: token } : {} })
      const body = (await res.json()) as Json
      if (!token) seen.push(body)
      return { status: res.status, body }
    }

    /** Inserts rows straight into a table, in chunks (bulk data for the limits). */
    async function insert(table: string, rows: Json[]): Promise<void> {
      for (let i = 0; i < rows.length; i += 500)
        await g.galley.database.db
          .insertInto(table)
          .values(rows.slice(i, i + 500))
          .execute()
    }

    beforeAll(async () => {
      store = await createStore(kind)
      g = await startGalley(store)
      su = await g.asSuperuser()
      guest = client()

      const teams = await su.collections.create({
        name: 'teams',
        type: 'base',
        fields: [text('name'), text('secret', { hidden: true })],
        ...OPEN,
      })
      const members = await su.collections.create({
        name: 'members',
        type: 'auth',
        fields: [
          text('name'),
          text('role'),
          rel('team', teams.id),
          text('secret', { hidden: true }),
          rel('hiddenTeam', teams.id, { hidden: true }),
        ],
        ...OPEN,
        manageRule: '@request.auth.role = "admin"',
      })
      const tags = await su.collections.create({
        name: 'tags',
        type: 'base',
        fields: [text('name')],
        ...OPEN,
        viewRule: 'name != "private"',
      })
      const vault = await su.collections.create({
        name: 'vault',
        type: 'base',
        fields: [text('name')],
        ...LOCKED,
      })
      const direct = await su.collections.create({
        name: 'direct',
        type: 'base',
        fields: [text('name')],
        ...OPEN,
        viewRule: '@request.context != "expand"',
      })
      const posts = await su.collections.create({
        name: 'posts',
        type: 'base',
        fields: [
          text('title'),
          rel('author', members.id),
          rel('tags', tags.id, { maxSelect: 10 }),
          rel('vault', vault.id),
          rel('direct', direct.id),
          rel('hiddenTeam', teams.id, { hidden: true }),
          text('secret', { hidden: true }),
        ],
        ...OPEN,
      })
      await su.collections.create({
        name: 'comments',
        type: 'base',
        fields: [rel('post', posts.id), rel('author', members.id), text('body')],
        ...OPEN,
      })
      await su.collections.create({
        name: 'profiles',
        type: 'base',
        fields: [rel('member', members.id), text('bio')],
        indexes: ['CREATE UNIQUE INDEX idx_profiles_member ON profiles (member)'],
        ...OPEN,
      })
      await su.collections.create({
        name: 'likes',
        type: 'base',
        fields: [rel('posts', posts.id, { maxSelect: 5 }), text('note')],
        ...OPEN,
      })
      const chain = await su.collections.create({
        name: 'chain',
        type: 'base',
        fields: [text('name')],
        ...OPEN,
      })
      await su.collections.update(chain.id, { fields: [...chain.fields, rel('next', chain.id)] })
      const wide = await su.collections.create({
        name: 'wide',
        type: 'base',
        fields: [text('name')],
        ...OPEN,
      })
      await su.collections.update(wide.id, {
        fields: [...wide.fields, ...Array.from({ length: 10 }, (_, i) => rel(`r${i}`, wide.id))],
      })
      const bulk = await su.collections.create({
        name: 'bulk',
        type: 'base',
        fields: [text('name'), rel('items', posts.id, { maxSelect: MAX_EXPAND_RECORDS + 10 })],
        ...OPEN,
      })
      Object.assign(col, { teams: teams.id, members: members.id, posts: posts.id, bulk: bulk.id })

      // data
      const red = await su.collection('teams').create({ name: 'red', secret: CANARY })
      const blue = await su.collection('teams').create({ name: 'blue', secret: CANARY })
      ids.red = red.id
      ids.blue = blue.id
      const ann = await member('ann', { team: red.id, hiddenTeam: blue.id })
      const bob = await member('bob', { team: blue.id, role: 'admin' })
      const cid = await member('cid', { emailVisibility: true })
      Object.assign(ids, { ann: ann.id, bob: bob.id, cid: cid.id })
      const t1 = await su.collection('tags').create({ name: 'one' })
      const t2 = await su.collection('tags').create({ name: 'two' })
      const tp = await su.collection('tags').create({ name: 'private' })
      Object.assign(ids, { t1: t1.id, t2: t2.id, tp: tp.id })
      const v = await su.collection('vault').create({ name: CANARY })
      const d = await su.collection('direct').create({ name: 'direct' })
      const p1 = await su.collection('posts').create({
        title: 'first',
        author: ann.id,
        tags: [t2.id, tp.id, t1.id],
        vault: v.id,
        direct: d.id,
        hiddenTeam: red.id,
        secret: CANARY,
      })
      const p2 = await su.collection('posts').create({ title: 'second', author: bob.id, tags: [t1.id] })
      const p3 = await su.collection('posts').create({ title: 'third' })
      Object.assign(ids, { p1: p1.id, p2: p2.id, p3: p3.id })
      for (const [post, author, body] of [
        [p1.id, bob.id, 'c1'],
        [p1.id, ann.id, 'c2'],
        [p2.id, cid.id, 'c3'],
        [p1.id, cid.id, 'c4'],
      ] as const)
        await su.collection('comments').create({ post, author, body })
      await su.collection('profiles').create({ member: ann.id, bio: 'ann bio' })
      await su.collection('likes').create({ posts: [p1.id, p2.id], note: 'l1' })
      await su.collection('likes').create({ posts: [p2.id], note: 'l2' })
      let next = ''
      for (let i = 8; i >= 0; i--) next = (await su.collection('chain').create({ name: `n${i}`, next })).id
      ids.n0 = next
    })

    afterAll(async () => {
      await g?.close()
      await store?.cleanup()
    })

    describe('forward relations', () => {
      it('a single relation is an object, a multiple one an array in stored order, invisible ids dropped', async () => {
        const r = await guest.collection('posts').getOne(ids.p1!, { expand: 'author,tags' })
        expect(r.expand!.author).toMatchObject({ id: ids.ann, name: 'ann', collectionName: 'members' })
        // `private` fails the tags viewRule: dropped, order of the others kept
        expect((r.expand!.tags as RecordModel[]).map((t) => t.name)).toEqual(['two', 'one'])
        const r2 = await guest.collection('posts').getOne(ids.p2!, { expand: 'tags' })
        expect((r2.expand!.tags as RecordModel[]).map((t) => t.id)).toEqual([ids.t1])
      })

      it('ids that no longer exist are dropped', async () => {
        const p = await su.collection('posts').create({ title: 'dangling', tags: [ids.t1, ids.t2] })
        const enc = g.galley.database.dialect.encode('jsonArray', [
          'missing0000001',
          ids.t2,
          'missing0000002',
        ])
        await g.galley.database.db.updateTable('posts').set({ tags: enc }).where('id', '=', p.id).execute()
        const r = await guest.collection('posts').getOne(p.id, { expand: 'tags' })
        expect((r.expand!.tags as RecordModel[]).map((t) => t.id)).toEqual([ids.t2])
        await su.collection('posts').delete(p.id)
      })

      it('nests paths and merges duplicates and prefixes; spaces are stripped', async () => {
        const { body } = await get(
          `/api/collections/posts/records/${ids.p1}?expand=${encodeURIComponent(' author . team , author,author.team,.tags.')}`,
        )
        const expand = body.expand as Json
        expect(Object.keys(expand)).toEqual(['author', 'tags'])
        const author = expand.author as Json
        expect((author.expand as Json).team).toMatchObject({ id: ids.red, name: 'red' })
        // an expanded record only gets `expand` where the path goes on from it
        for (const t of expand.tags as Json[]) expect(t).not.toHaveProperty('expand')
      })

      it('every returned record gets `expand` once one path resolved, `{}` where nothing was found', async () => {
        const list = await guest
          .collection('posts')
          .getList(1, 30, { expand: 'author', sort: 'title', filter: 'title ~ "ir"' })
        expect(list.items.map((p) => [p.title, p.expand])).toEqual([
          ['first', { author: expect.objectContaining({ id: ids.ann }) }],
          ['third', {}],
        ])
      })

      it('unknown, non-relation and empty paths are ignored: no `expand` key unless one resolved', async () => {
        for (const expand of [
          'nope',
          'title',
          'author.nope',
          'author..team',
          ',',
          'nope_via_x',
          'comments_via_body',
        ]) {
          const { status, body } = await get(
            `/api/collections/posts/records/${ids.p1}?expand=${encodeURIComponent(expand)}`,
          )
          expect(status).toBe(200)
          expect(body, expand).not.toHaveProperty('expand')
        }
        const { body } = await get(
          `/api/collections/posts/records/${ids.p1}?expand=nope,author.team.nope,author`,
        )
        expect(Object.keys(body.expand as Json)).toEqual(['author'])
        expect(body.expand as Json).not.toHaveProperty('author.expand')
      })
    })

    describe('back-relations', () => {
      it('without a unique index: an array, oldest first, per parent', async () => {
        const list = await guest
          .collection('posts')
          .getFullList({ expand: 'comments_via_post.author', sort: 'title' })
        const bodies = (p: RecordModel) =>
          ((p.expand?.comments_via_post ?? []) as RecordModel[]).map((c) => [
            c.body,
            (c.expand!.author as RecordModel).name,
          ])
        expect(list.map((p) => [p.title, bodies(p)])).toEqual([
          [
            'first',
            [
              ['c1', 'bob'],
              ['c2', 'ann'],
              ['c4', 'cid'],
            ],
          ],
          ['second', [['c3', 'cid']]],
          ['third', []],
        ])
      })

      it('with a single-column unique index: one object', async () => {
        const r = await guest.collection('members').getOne(ids.ann!, { expand: 'profiles_via_member' })
        expect(r.expand!.profiles_via_member).toMatchObject({ bio: 'ann bio', member: ids.ann })
      })

      it('through a multiple relation field', async () => {
        const list = await guest.collection('posts').getFullList({ expand: 'likes_via_posts', sort: 'title' })
        expect(
          list.map((p) => ((p.expand!.likes_via_posts ?? []) as RecordModel[]).map((l) => l.note)),
        ).toEqual([['l1'], ['l1', 'l2'], []])
      })

      it('from and into view collections', async () => {
        await su.collections.create({
          name: 'post_titles',
          type: 'view',
          viewQuery: 'SELECT id, title, author FROM posts',
          listRule: '',
          viewRule: '',
        })
        try {
          const m = await guest.collection('members').getOne(ids.ann!, { expand: 'post_titles_via_author' })
          expect((m.expand!.post_titles_via_author as RecordModel[]).map((p) => p.title)).toEqual(['first'])
          const v = await guest.collection('post_titles').getOne(ids.p2!, { expand: 'author' })
          expect(v.expand!.author).toMatchObject({ id: ids.bob })
        } finally {
          await su.collections.delete('post_titles')
        }
      })

      it(`${MAX_BACK_RELATION_EXPAND} records per parent at most, the oldest`, async () => {
        const at = await su.collection('posts').create({ title: 'at limit' })
        const over = await su.collection('posts').create({ title: 'over limit' })
        const rows = (post: string, n: number, prefix: string) =>
          Array.from({ length: n }, (_, i) => ({ id: newId(prefix, i), post, body: `${prefix}${i}` }))
        await insert('comments', [
          ...rows(at.id, MAX_BACK_RELATION_EXPAND, 'ca'),
          ...rows(over.id, MAX_BACK_RELATION_EXPAND + 1, 'cb'),
        ])
        const list = await guest.collection('posts').getList(1, 2, {
          expand: 'comments_via_post',
          filter: `id = "${at.id}" || id = "${over.id}"`,
          sort: 'title',
        })
        const got = list.items.map((p) => (p.expand!.comments_via_post as RecordModel[]).map((c) => c.body))
        expect(got[0]).toHaveLength(MAX_BACK_RELATION_EXPAND)
        expect(got[1]).toEqual(Array.from({ length: MAX_BACK_RELATION_EXPAND }, (_, i) => `cb${i}`))
        await g.galley.database.db.deleteFrom('comments').where('post', 'in', [at.id, over.id]).execute()
        await su.collection('posts').delete(at.id)
        await su.collection('posts').delete(over.id)
      })
    })

    describe('depth', () => {
      const chainNames = (r: Json): string[] => {
        const out: string[] = []
        let cur: Json | undefined = r
        while (cur) {
          out.push(cur.name as string)
          cur = (cur.expand as Json | undefined)?.next as Json | undefined
        }
        return out
      }
      const path = (n: number) => Array.from({ length: n }, () => 'next').join('.')

      it(`expands ${MAX_EXPAND_DEPTH} levels and ignores deeper ones`, async () => {
        const at = await get(`/api/collections/chain/records/${ids.n0}?expand=${path(MAX_EXPAND_DEPTH)}`)
        const over = await get(
          `/api/collections/chain/records/${ids.n0}?expand=${path(MAX_EXPAND_DEPTH + 1)}`,
        )
        const below = await get(
          `/api/collections/chain/records/${ids.n0}?expand=${path(MAX_EXPAND_DEPTH - 1)}`,
        )
        expect(chainNames(at.body)).toEqual(['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6'])
        expect(over.body).toEqual(at.body)
        expect(chainNames(below.body)).toHaveLength(MAX_EXPAND_DEPTH)
      })
    })

    describe('access', () => {
      it('a locked viewRule is not expanded for others, the path fails as a whole; superusers expand it', async () => {
        const { body } = await get(`/api/collections/posts/records/${ids.p1}?expand=vault`)
        expect(body).not.toHaveProperty('expand')
        const mixed = await get(`/api/collections/posts/records/${ids.p1}?expand=vault,author`)
        expect(Object.keys(mixed.body.expand as Json)).toEqual(['author'])
        const r = await su.collection('posts').getOne(ids.p1!, { expand: 'vault' })
        expect(r.expand!.vault).toMatchObject({ name: CANARY })
      })

      it('view rules see @request.context = "expand"', async () => {
        expect((await guest.collection('direct').getFullList()).map((r) => r.name)).toEqual(['direct'])
        const r = await guest.collection('posts').getOne(ids.p1!, { expand: 'direct' })
        expect(r.expand).toEqual({})
      })

      it('view rules see the requester', async () => {
        await su.collections.update('teams', { viewRule: '@request.auth.team = id' })
        try {
          const annPb = client()
          await annPb.collection('members').authWithPassword('ann@example.com', PASSWORD)
          const list = await annPb.collection('members').getFullList({ expand: 'team', sort: 'name' })
          expect(list.map((m) => [m.name, (m.expand!.team as RecordModel | undefined)?.name])).toEqual([
            ['ann', 'red'],
            ['bob', undefined],
            ['cid', undefined],
          ])
        } finally {
          await su.collections.update('teams', { viewRule: '' })
        }
      })

      it('hidden relation fields expand for superusers only, and hidden values never reach others', async () => {
        const r = await guest
          .collection('posts')
          .getOne(ids.p1!, { expand: 'hiddenTeam,author.hiddenTeam,author' })
        expect(Object.keys(r.expand!)).toEqual(['author'])
        expect(r.expand!.author).not.toHaveProperty('secret')
        const s = await su.collection('posts').getOne(ids.p1!, { expand: 'hiddenTeam,author.hiddenTeam' })
        expect(s.expand!.hiddenTeam).toMatchObject({ name: 'red', secret: CANARY })
        expect(s.expand!.author).toMatchObject({ secret: CANARY, email: 'ann@example.com' })
        expect((s.expand!.author as RecordModel).expand!.hiddenTeam).toMatchObject({ name: 'blue' })
        // back-relations through a hidden field are not expandable either
        const comments = await su.collections.getOne('comments')
        const hidePost = (hidden: boolean) =>
          su.collections.update('comments', {
            fields: comments.fields.map((f) => (f.name === 'post' ? { ...f, hidden } : f)),
          })
        await hidePost(true)
        try {
          const b = await get(`/api/collections/posts/records/${ids.p1}?expand=comments_via_post`)
          expect(b.body).not.toHaveProperty('expand')
          const sb = await su.collection('posts').getOne(ids.p1!, { expand: 'comments_via_post' })
          expect(sb.expand!.comments_via_post).toHaveLength(3)
        } finally {
          await hidePost(false)
        }
      })

      it('expanded auth records show the email to the record itself, to managers and where visible', async () => {
        const emails = (list: RecordModel[]) =>
          list.map((c) => (c.expand!.author as RecordModel).email as string | undefined)
        const q = { expand: 'author', sort: 'body', filter: 'post.title = "first"' }
        // comments c1 (bob), c2 (ann), c4 (cid, emailVisibility)
        expect(emails(await guest.collection('comments').getFullList(q))).toEqual([
          undefined,
          undefined,
          'cid@example.com',
        ])
        const annPb = client()
        await annPb.collection('members').authWithPassword('ann@example.com', PASSWORD)
        expect(emails(await annPb.collection('comments').getFullList(q))).toEqual([
          undefined,
          'ann@example.com',
          'cid@example.com',
        ])
        // bob satisfies the manageRule (role = "admin") for every member
        const bobPb = client()
        await bobPb.collection('members').authWithPassword('bob@example.com', PASSWORD)
        expect(emails(await bobPb.collection('comments').getFullList(q))).toEqual([
          'bob@example.com',
          'ann@example.com',
          'cid@example.com',
        ])
      })
    })

    describe('managers see emails of the records they manage', () => {
      it('in list, view, create and update responses; others do not', async () => {
        const bobPb = client()
        await bobPb.collection('members').authWithPassword('bob@example.com', PASSWORD)
        const annPb = client()
        await annPb.collection('members').authWithPassword('ann@example.com', PASSWORD)
        const list = await bobPb.collection('members').getFullList({ sort: 'name' })
        expect(list.map((m) => m.email)).toEqual(['ann@example.com', 'bob@example.com', 'cid@example.com'])
        expect((await annPb.collection('members').getFullList({ sort: 'name' })).map((m) => m.email)).toEqual(
          ['ann@example.com', undefined, 'cid@example.com'],
        )
        expect((await bobPb.collection('members').getOne(ids.ann!)).email).toBe('ann@example.com')
        expect((await guest.collection('members').getOne(ids.ann!)).email).toBeUndefined()
        const created = await bobPb
          .collection('members')
          .create({ email: 'dan@example.com', password: PASSWORD, passwordConfirm: PASSWORD, name: 'dan' })
        expect(created.email).toBe('dan@example.com')
        const byGuest = await guest
          .collection('members')
          .create({ email: 'eve@example.com', password: PASSWORD, passwordConfirm: PASSWORD, name: 'eve' })
        expect(byGuest).not.toHaveProperty('email')
        const updated = await bobPb.collection('members').update(byGuest.id, { name: 'eve2' })
        expect(updated).toMatchObject({ name: 'eve2', email: 'eve@example.com' })
        expect(updated).not.toHaveProperty('secret')
        await su.collection('members').delete(created.id)
        await su.collection('members').delete(byGuest.id)
      })
    })

    describe('create, update and SDK helpers', () => {
      it('create and update responses are expanded with the requester', async () => {
        const created = await guest
          .collection('comments')
          .create({ post: ids.p2, author: ids.ann, body: 'new' }, { expand: 'post.author,author' })
        expect(created.expand!.author).toMatchObject({ id: ids.ann, name: 'ann' })
        expect(created.expand!.author).not.toHaveProperty('email')
        const post = created.expand!.post as RecordModel
        expect(post).toMatchObject({ id: ids.p2, title: 'second' })
        expect(post).not.toHaveProperty('secret')
        expect(post.expand!.author).toMatchObject({ id: ids.bob })
        const updated = await guest
          .collection('comments')
          .update(created.id, { post: ids.p3 }, { expand: 'post.comments_via_post' })
        const bodies = ((updated.expand!.post as RecordModel).expand!.comments_via_post as RecordModel[]).map(
          (c) => c.body,
        )
        expect(bodies).toEqual(['new'])
        await su.collection('comments').delete(created.id)
      })

      it('getFirstListItem and fields with expand', async () => {
        const r = await guest.collection('posts').getFirstListItem('title = "first"', {
          expand: 'author.team',
          fields: 'title,expand.author.name,expand.author.expand.team.name',
        })
        expect(r).toEqual({
          title: 'first',
          expand: { author: { name: 'ann', expand: { team: { name: 'red' } } } },
        })
      })

      it('runs inside the caller’s transaction (batch)', async () => {
        const db = g.galley.database
        const records = g.galley.records
        const posts = records.collection('posts')
        const comments = records.collection('comments')
        const seenInside = await db.transaction(async (trx) => {
          await records.create(comments, { post: ids.p3, body: 'in trx' }, GUEST, { executor: trx })
          return records.view(posts, ids.p3!, GUEST, { executor: trx, expand: 'comments_via_post' })
        })
        expect((seenInside.expand as Json).comments_via_post).toMatchObject([{ body: 'in trx' }])
        await db.db.deleteFrom('comments').where('body', '=', 'in trx').execute()
      })
    })

    describe('limits', () => {
      it(`accepts ${MAX_EXPAND_LENGTH} characters of expand and refuses one more`, async () => {
        const at = `author${','.repeat(MAX_EXPAND_LENGTH - 6)}`
        expect((await get(`/api/collections/posts/records/${ids.p1}?expand=${at}`)).status).toBe(200)
        const over = await get(`/api/collections/posts/records/${ids.p1}?expand=${at},`)
        expect(over).toEqual({
          status: 400,
          body: {
            status: 400,
            message: `Invalid "expand" parameter: longer than ${MAX_EXPAND_LENGTH} characters.`,
            data: {},
          },
        })
      })

      it(`accepts ${MAX_EXPAND_RELATIONS} relation paths and refuses one more, before a write`, async () => {
        const w = await su.collection('wide').create({ name: 'w' })
        const paths: string[] = []
        for (let i = 0; i < 10; i++) for (let j = 0; j < 10; j++) paths.push(`r${i}.r${j}`)
        // 10 first levels (r9 alone) + 90 second levels = 100 distinct relation paths
        const at = [...paths.slice(0, MAX_EXPAND_RELATIONS - 10), 'r9'].join(',')
        expect((await get(`/api/collections/wide/records/${w.id}?expand=${at}`)).status).toBe(200)
        const over = `${at},r9.r0`
        const res = await get(`/api/collections/wide/records/${w.id}?expand=${over}`)
        expect(res.status).toBe(400)
        expect(res.body.message).toBe(
          `Invalid "expand" parameter: more than ${MAX_EXPAND_RELATIONS} relation paths.`,
        )
        const write = await fetch(`${g.url}/api/collections/wide/records?expand=${over}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'never' }),
        })
        expect(write.status).toBe(400)
        expect(await su.collection('wide').getFullList({ filter: 'name = "never"' })).toEqual([])
      })

      it(`expands ${MAX_EXPAND_RECORDS} records in one response; one more refuses a read, leaves a write unexpanded`, async () => {
        const posts = Array.from({ length: MAX_EXPAND_RECORDS + 1 }, (_, i) => ({
          id: newId('bp', i),
          title: 'b',
        }))
        await insert('posts', posts)
        const all = posts.map((p) => p.id)
        const enc = (list: string[]) => g.galley.database.dialect.encode('jsonArray', list)
        await insert('bulk', [
          { id: newId('bulkat', 0), name: 'at', items: enc(all.slice(0, MAX_EXPAND_RECORDS)) },
          { id: newId('bulkover', 0), name: 'over', items: enc(all) },
        ])
        const at = await guest.collection('bulk').getOne(newId('bulkat', 0), { expand: 'items' })
        expect(at.expand!.items).toHaveLength(MAX_EXPAND_RECORDS)
        const message = `Too many records to expand (more than ${MAX_EXPAND_RECORDS}): ask for fewer records or fewer expand paths.`
        const over = await get(`/api/collections/bulk/records/${newId('bulkover', 0)}?expand=items`)
        expect(over).toEqual({ status: 400, body: { status: 400, message, data: {} } })
        const list = await get(`/api/collections/bulk/records?expand=items`)
        expect(list.status).toBe(400)
        const listAt = await guest
          .collection('bulk')
          .getList(1, 30, { expand: 'items', filter: 'name = "at"' })
        expect(listAt.items[0]!.expand!.items).toHaveLength(MAX_EXPAND_RECORDS)
        // a write is committed before it is expanded: it answers 200 without the expansion
        const updated = await guest
          .collection('bulk')
          .update(newId('bulkover', 0), { name: 'over2' }, { expand: 'items' })
        expect(updated.name).toBe('over2')
        expect(updated.expand).toEqual({})
        await g.galley.database.db.deleteFrom('bulk').execute()
        await g.galley.database.db.deleteFrom('posts').where('title', '=', 'b').execute()
      })
    })

    describe('cost', () => {
      const counter = new QueryCounter()
      /** The records service over the same database, counting its queries. */
      const countingService = () =>
        new RecordService(
          { ...g.galley.database, db: g.galley.database.db.withPlugin(counter) },
          g.galley.collections,
          { hash: hashPassword, verify: verifyPassword },
        )

      it('an expanded list costs one query per relation path, whatever the number of records', async () => {
        const service = countingService()
        const posts = service.collection('posts')
        const extra = Array.from({ length: 30 }, (_, i) => ({
          id: newId('qc', i),
          title: `qc${i}`,
          author: ids.ann,
        }))
        await insert('posts', extra)
        await insert(
          'comments',
          extra.flatMap((p, i) => [
            { id: newId('qca', i), post: p.id, author: ids.bob, body: 'x' },
            { id: newId('qcb', i), post: p.id, author: ids.cid, body: 'y' },
          ]),
        )
        const params = (perPage: number) => ({
          page: 1,
          perPage,
          sort: 'title',
          filter: 'title ~ "qc"',
          skipTotal: false,
        })
        const run = async (perPage: number) => {
          counter.count = 0
          const r = await service.list(posts, params(perPage), GUEST, {
            expand: 'author.team,comments_via_post.author',
          })
          return { queries: counter.count, items: r.items as RecordJSON[] }
        }
        const many = await run(30)
        expect(many.items).toHaveLength(30)
        for (const p of many.items) {
          const e = p.expand as Json
          expect((e.author as Json).id).toBe(ids.ann)
          expect(((e.author as Json).expand as Json).team).toMatchObject({ name: 'red' })
          expect((e.comments_via_post as Json[]).map((c) => (c.expand as Json).author)).toHaveLength(2)
        }
        // the page, the count, then 2 paths x 2 levels
        expect(many.queries).toBe(2 + 4)
        expect((await run(2)).queries).toBe(many.queries)
        // no expand: no extra query
        counter.count = 0
        await service.list(posts, params(30), GUEST)
        expect(counter.count).toBe(2)
        await g.galley.database.db.deleteFrom('comments').where('body', 'in', ['x', 'y']).execute()
        await g.galley.database.db.deleteFrom('posts').where('title', 'like', 'qc%').execute()
      })
      it(`binds ${MAX_EXPAND_IDS_PER_QUERY} ids to one query, more in the next`, async () => {
        const service = countingService()
        const posts = Array.from({ length: MAX_EXPAND_IDS_PER_QUERY + 1 }, (_, i) => ({
          id: newId('ch', i),
          title: 'chunk',
        }))
        // stored in reverse: the expanded order must follow the stored ids, not the table
        const all = posts.map((p) => p.id).reverse()
        const enc = (list: string[]) => g.galley.database.dialect.encode('jsonArray', list)
        await insert('posts', posts)
        await insert('bulk', [
          { id: newId('chunkat', 0), name: 'at', items: enc(all.slice(0, MAX_EXPAND_IDS_PER_QUERY)) },
          { id: newId('chunkover', 0), name: 'over', items: enc(all) },
        ])
        const bulk = service.collection('bulk')
        const view = async (id: string) => {
          counter.count = 0
          const r = await service.view(bulk, id, GUEST, { expand: 'items' })
          return { queries: counter.count, items: ((r.expand as Json).items as Json[]).map((p) => p.id) }
        }
        expect(await view(newId('chunkat', 0))).toEqual({
          queries: 2,
          items: all.slice(0, MAX_EXPAND_IDS_PER_QUERY),
        })
        expect(await view(newId('chunkover', 0))).toEqual({ queries: 3, items: all })
        await g.galley.database.db.deleteFrom('bulk').execute()
        await g.galley.database.db.deleteFrom('posts').where('title', '=', 'chunk').execute()
      })
    })

    it('no hidden value ever reached a non-superuser', () => {
      expect(seen.length).toBeGreaterThan(20)
      for (const body of seen) expect(strings(body)).not.toContain(CANARY)
    })
  })
}

/**
 * The records fixture of the rules tests: collections made by the real schema layer on SQLite or a
 * fresh PostgreSQL database, and a few rows in each.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPgDatabase } from '../../test/helpers/pg.js'
import {
  openDatabase,
  runMigrations,
  systemTablesMigration,
  type Database,
  type DialectName,
} from '../db/index.js'
import { silentLogger } from '../lib/index.js'
import type { RequestContext } from './index.js'
import {
  CollectionService,
  columnKind,
  systemCollectionsMigration,
  type Collection,
} from '../schema/index.js'

export const PG_URL = process.env.GALLEY_TEST_PG_URL

export interface Fixture {
  readonly database: Database
  readonly collections: CollectionService
  collection(name: string): Collection
  /** The stored row of a record, as the driver returns it. */
  row(collection: string, id: string): Promise<Record<string, unknown>>
  close(): Promise<void>
}

const rel = (name: string, collectionId: string, maxSelect = 1) => ({
  name,
  type: 'relation',
  collectionId,
  maxSelect,
})

/** Collections, in creation order. Ids are fixed so that relations can point at them. */
const SCHEMA: readonly Record<string, unknown>[] = [
  {
    id: 'tags0000000000a',
    name: 'tags',
    listRule: '',
    fields: [
      { name: 'name', type: 'text' },
      { name: 'created', type: 'autodate', onCreate: true },
    ],
  },
  { id: 'categories0000a', name: 'categories', listRule: null, fields: [{ name: 'name', type: 'text' }] },
  {
    id: 'posts000000000a',
    name: 'posts',
    listRule: '',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'views', type: 'number' },
      { name: 'published', type: 'bool' },
      { name: 'labels', type: 'select', values: ['a', 'b', 'c'], maxSelect: 3 },
      rel('author', '_pb_users_auth_'),
      rel('tags', 'tags0000000000a', 10),
      rel('category', 'categories0000a'),
      rel('parent', 'posts000000000a'),
      { name: 'meta', type: 'json' },
      { name: 'loc', type: 'geoPoint' },
      { name: 'secret', type: 'text', hidden: true },
      { name: 'created', type: 'autodate', onCreate: true },
      // one field of every other type
      { name: 'status', type: 'select', values: ['draft', 'live', 'archived'], maxSelect: 1 },
      { name: 'contact', type: 'email' },
      { name: 'site', type: 'url' },
      { name: 'body', type: 'editor' },
      { name: 'due', type: 'date' },
      { name: 'cover', type: 'file' },
      { name: 'files', type: 'file', maxSelect: 5 },
      { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
    ],
  },
  {
    id: 'comments00000aa',
    name: 'comments',
    listRule: '',
    fields: [
      rel('post', 'posts000000000a'),
      rel('author', '_pb_users_auth_'),
      { name: 'body', type: 'text' },
    ],
  },
  {
    id: 'covers00000000a',
    name: 'covers',
    listRule: '',
    fields: [rel('post', 'posts000000000a'), { name: 'caption', type: 'text' }],
    indexes: ['CREATE UNIQUE INDEX `idx_covers_post` ON `covers` (`post`)'],
  },
  {
    id: 'members0000000a',
    name: 'members',
    listRule: '',
    fields: [rel('user', '_pb_users_auth_'), rel('post', 'posts000000000a'), { name: 'role', type: 'text' }],
  },
  { id: 'empties0000000a', name: 'empties', listRule: '', fields: [{ name: 'name', type: 'text' }] },
]

export type Rows = Record<string, readonly Record<string, unknown>[]>

/** The rows of each collection in their JSON form; fields a row leaves out keep their zero value. */
export const ROWS: Rows = {
  users: [
    {
      id: 'u1',
      tokenKey: 'k1',
      email: 'ann@example.com',
      emailVisibility: true,
      verified: true,
      name: 'Ann',
    },
    {
      id: 'u2',
      tokenKey: 'k2',
      email: 'bob@example.com',
      emailVisibility: false,
      verified: false,
      name: 'Bob',
    },
    { id: 'u3', tokenKey: 'k3', email: 'cid@example.com', emailVisibility: true, verified: false, name: '' },
  ],
  tags: [
    { id: 't1', name: 'go', created: '2024-01-01 00:00:00.000Z' },
    { id: 't2', name: 'js', created: '2023-05-05 05:05:05.500Z' },
    { id: 't3', name: 'rust', created: '2024-03-03 12:00:00.000Z' },
  ],
  categories: [{ id: 'c1', name: 'news' }],
  posts: [
    {
      id: 'p1',
      title: 'Hello World',
      views: 10,
      published: true,
      labels: ['a', 'b'],
      author: 'u1',
      tags: ['t1', 't2'],
      category: 'c1',
      meta: { status: 'draft', n: 5, flag: true, items: [{ name: 'first' }, { name: 'second' }] },
      loc: { lon: 23.32, lat: 42.69 },
      secret: 's1',
      created: '2024-06-01 10:00:00.000Z',
      status: 'live',
      contact: 'ann@example.com',
      site: 'https://example.com/a',
      body: '<p>Hello <b>World</b></p>',
      due: '2024-06-20 12:00:00.000Z',
      cover: 'a.png',
      files: ['a.png', 'b.txt'],
      updated: '2024-06-15 07:59:59.999Z',
    },
    {
      id: 'p2',
      title: 'second post',
      views: 0,
      published: false,
      labels: [],
      author: 'u2',
      tags: [],
      parent: 'p1',
      meta: { status: 'live', n: '5' },
      loc: { lon: 0, lat: 0 },
      created: '2024-06-14 23:59:59.999Z',
      status: 'draft',
      files: [],
      updated: '2024-06-14 00:00:00.000Z',
    },
    {
      id: 'p3',
      title: '',
      views: -5.5,
      published: true,
      labels: ['c'],
      tags: ['t1'],
      parent: 'p2',
      meta: null,
      loc: { lon: 2.35, lat: 48.86 },
      secret: 's3',
      created: '2024-06-15 09:00:00.000Z',
      status: 'archived',
      contact: 'Cid@Example.com',
      site: 'http://b.example.org',
      body: '50% off_sale',
      due: '2024-02-29 00:00:00.000Z',
      cover: 'c.jpg',
      files: ['c.jpg'],
    },
    {
      id: 'p4',
      title: 'go%_\\',
      views: 100,
      published: false,
      labels: ['a'],
      author: 'u1',
      tags: ['t2', 't3', 'gone'],
      parent: 'p3',
      meta: { status: 'draft', n: 7 },
      loc: { lon: 23.3, lat: 42.7 },
      created: '2023-12-31 23:59:59.999Z',
      status: 'live',
      contact: 'bob@example.com',
      site: 'https://example.com/%',
      body: 'go',
      due: '2023-12-31 23:59:59.999Z',
      files: ['x.pdf', 'y.pdf', 'z.pdf'],
      updated: '2024-01-01 00:00:00.000Z',
    },
    {
      id: 'p5',
      title: 'Ünïcode',
      views: 10,
      published: true,
      labels: ['b', 'c'],
      author: 'u3',
      tags: ['t3'],
      parent: 'p4',
      meta: [1, 2],
      loc: { lon: 0, lat: 0 },
      created: '2024-06-15 12:00:00.000Z',
      status: 'draft',
      due: '2024-06-15 08:00:00.000Z',
      body: 'Line\\one',
    },
    { id: 'p6', title: 'sixth', parent: 'p5', author: 'u2', loc: { lon: 0, lat: 0 } },
    { id: 'p7', title: 'seventh', parent: 'p6', loc: { lon: 0, lat: 0 } },
  ],
  comments: [
    { id: 'k1', post: 'p1', author: 'u2', body: 'nice' },
    { id: 'k2', post: 'p1', author: 'u1', body: 'great' },
    { id: 'k3', post: 'p2', author: 'u2', body: 'meh' },
  ],
  covers: [
    { id: 'v1', post: 'p1', caption: 'sunset' },
    { id: 'v3', post: 'p3', caption: '' },
  ],
  members: [
    { id: 'm1', user: 'u1', post: 'p1', role: 'owner' },
    { id: 'm2', user: 'u2', post: 'p2', role: 'viewer' },
    { id: 'm3', user: 'u2', post: 'p1', role: 'viewer' },
  ],
}

export async function openFixture(kind: DialectName): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'galley-rules-'))
  const pg = kind === 'postgres' ? await createPgDatabase() : undefined
  const database = await openDatabase({ dir, url: pg?.url, logger: silentLogger })
  const collections = new CollectionService(database, silentLogger)
  await runMigrations(database, [systemTablesMigration, systemCollectionsMigration(collections)])
  await collections.start()
  for (const input of SCHEMA) await collections.create(input)
  for (const [name, rows] of Object.entries(ROWS)) {
    const c = collections.get(name)
    // one row at a time: columns a row leaves out keep their defaults
    for (const row of rows) {
      const out: Record<string, unknown> = {}
      for (const [key, value] of Object.entries(row)) {
        const field = c.fields.find((f) => f.name === key)!
        out[key] = database.dialect.encode(columnKind(field), value)
      }
      await database.db.insertInto(name).values(out).execute()
    }
  }
  return {
    database,
    collections,
    collection: (name) => collections.get(name),
    async row(collection, id) {
      return (await database.db
        .selectFrom(collection)
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow()) as Record<string, unknown>
    },
    async close() {
      collections.stop()
      await database.close()
      await pg?.drop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export type As = 'guest' | 'u1' | 'u2' | 'body' | 'realtime' | 'hostile'

export const NOW = new Date('2024-06-15T08:00:00.000Z')

/** A case's request as data: the auth record is named by id (see `requestAs`). */
export interface RequestData extends Omit<RequestContext, 'auth'> {
  readonly auth?: { readonly collection: 'users'; readonly id: string }
}

/** The request of a case, with the auth record by id. */
export function requestData(as: As): RequestData {
  const base: RequestData = {
    method: 'GET',
    headers: { 'x-token': 'abc', 'content-type': 'application/json' },
    query: { page: '2', q: 'Hello World' },
    body: {},
    context: 'default',
  }
  const auth = (id: string) => ({ collection: 'users' as const, id })
  switch (as) {
    case 'guest':
      return base
    case 'u1':
    case 'u2':
      return { ...base, auth: auth(as) }
    case 'body':
      // a multipart create: numbers and booleans arrive as text
      return {
        ...base,
        method: 'POST',
        auth: auth('u1'),
        body: {
          title: 'Hello World',
          views: '10',
          published: 'true',
          author: 'u1',
          tags: ['t1', 't3'],
          labels: ['a', 'b'],
          meta: { status: 'draft' },
          status: 'live',
        },
      }
    case 'realtime':
      return { ...base, context: 'realtime' }
    case 'hostile':
      return { ...base, headers: { 'x-token': "u1' OR 1=1 --" }, query: { q: "' OR '1'='1" } }
  }
}

/** The request of a case; the auth record is the stored row, as the driver returns it. */
export async function requestAs(as: As, fx: Fixture): Promise<RequestContext> {
  const { auth, ...rest } = requestData(as)
  if (auth === undefined) return rest
  return {
    ...rest,
    auth: { collection: fx.collection(auth.collection), record: await fx.row(auth.collection, auth.id) },
  }
}

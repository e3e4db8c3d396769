/**
 * The collections API (pocketbase-api.md §6, §14.4) driven by the official `pocketbase` SDK against
 * an in-process Galley, on SQLite and on PostgreSQL. Every schema change is checked twice: in the
 * API's answer and in the database itself, read through a separate connection (helpers/introspect).
 *
 * The tests of one database run in order and share one server: each step builds on the schema the
 * previous one left (create -> list -> update -> rename -> truncate -> delete -> import -> access ->
 * restart).
 */
import { crc32 } from 'node:zlib'
import type PocketBase from 'pocketbase'
import { ClientResponseError, type CollectionModel } from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashPassword } from '../src/auth/index.js'
import type { ColumnKind } from '../src/db/index.js'
import {
  createStore,
  DB_KINDS,
  startGalley,
  SU_EMAIL,
  SU_PASSWORD,
  type DbKind,
  type RunningGalley,
  type TestStore,
} from './helpers/galley.js'
import { introspect, type ColumnDesc, type Introspector } from './helpers/introspect.js'

type Json = Record<string, unknown>

// ---------------------------------------------------------------------------------------------
// Expected values, written from the reference (not from Galley's code)

/** PocketBase's default ids: `type + CRC32(name)` for fields, `pbc_ + CRC32(type + name)` for collections. */
const fieldId = (type: string, name: string) => `${type}${crc32(name)}`
const collectionId = (type: string, name: string) => `pbc_${crc32(type + name)}`

/** Appendix D: the keys of each field type at their zero values. */
const ZERO: Record<string, Json> = {
  text: { min: 0, max: 0, pattern: '', autogeneratePattern: '', required: false, primaryKey: false },
  editor: { maxSize: 0, convertURLs: false, required: false },
  number: { min: null, max: null, onlyInt: false, required: false },
  bool: { required: false },
  email: { exceptDomains: null, onlyDomains: null, required: false },
  url: { exceptDomains: null, onlyDomains: null, required: false },
  date: { min: '', max: '', required: false },
  autodate: { onCreate: true, onUpdate: false },
  select: { values: [], maxSelect: 0, required: false },
  file: { maxSelect: 0, maxSize: 0, mimeTypes: null, thumbs: null, protected: false, required: false },
  relation: { collectionId: '', cascadeDelete: false, minSelect: 0, maxSelect: 0, required: false },
  json: { maxSize: 0, required: false },
  password: { min: 0, max: 0, pattern: '', cost: 0, required: false },
  geoPoint: { required: false },
}

/** A submitted field as the API returns it: derived id, common keys and zero-valued options filled in. */
function full(f: Json): Json {
  const type = f.type as string
  return {
    id: fieldId(type, f.name as string),
    system: false,
    hidden: false,
    presentable: false,
    ...(type === 'autodate' ? {} : { help: '' }),
    ...ZERO[type],
    ...f,
  }
}

/** The `id` field of every base and auth collection (Appendix D example). */
const ID_FIELD = {
  autogeneratePattern: '[a-z0-9]{15}',
  help: '',
  hidden: false,
  id: 'text3208210256',
  max: 15,
  min: 15,
  name: 'id',
  pattern: '^[a-z0-9]+$',
  presentable: false,
  primaryKey: true,
  required: true,
  system: true,
  type: 'text',
}

/** §6.4: the system fields of an auth collection, after `id`. */
const AUTH_SYSTEM_FIELDS = [
  full({ name: 'password', type: 'password', system: true, hidden: true, required: true, min: 8 }),
  full({
    name: 'tokenKey',
    type: 'text',
    system: true,
    hidden: true,
    required: true,
    min: 30,
    max: 60,
    autogeneratePattern: '[a-zA-Z0-9]{50}',
  }),
  full({ name: 'email', type: 'email', system: true, required: true }),
  full({ name: 'emailVisibility', type: 'bool', system: true }),
  full({ name: 'verified', type: 'bool', system: true }),
]

const BUILTIN_COLLECTIONS = ['_superusers', 'users', '_externalAuths', '_mfas', '_otps', '_authOrigins']

/** How each database declares the column of a storage kind (DDL templates of docs/architecture.md). */
const COLUMN: Record<DbKind, Record<ColumnKind, Omit<ColumnDesc, 'name'>>> = {
  sqlite: {
    text: { type: 'TEXT', notNull: true, default: "''" },
    number: { type: 'NUMERIC', notNull: true, default: '0' },
    bool: { type: 'BOOLEAN', notNull: true, default: 'FALSE' },
    json: { type: 'JSON', notNull: false, default: 'NULL' },
    jsonArray: { type: 'JSON', notNull: true, default: "'[]'" },
    geoPoint: { type: 'JSON', notNull: true, default: `'{"lon":0,"lat":0}'` },
  },
  postgres: {
    text: { type: 'text', notNull: true, default: "''::text" },
    number: { type: 'double precision', notNull: true, default: '0' },
    bool: { type: 'boolean', notNull: true, default: 'false' },
    json: { type: 'jsonb', notNull: false, default: null },
    jsonArray: { type: 'jsonb', notNull: true, default: "'[]'::jsonb" },
    geoPoint: { type: 'jsonb', notNull: true, default: `'{"lat": 0, "lon": 0}'::jsonb` },
  },
}

/** The expected columns of a table: `[name, kind]` pairs after the primary key `id`. */
function expectedColumns(kind: DbKind, cols: [string, ColumnKind][]): ColumnDesc[] {
  const id: ColumnDesc =
    kind === 'sqlite'
      ? { name: 'id', type: 'TEXT', notNull: true, default: null }
      : { name: 'id', type: 'text', notNull: true, default: null }
  return [id, ...cols.map(([name, k]) => ({ name, ...COLUMN[kind][k] }))]
}

/** Index DDL as each database prints it back. */
function indexDef(
  kind: DbKind,
  o: { name: string; table: string; unique?: boolean; cols: string[]; where?: [string, string] },
): string {
  const u = o.unique ? 'UNIQUE ' : ''
  if (kind === 'sqlite') {
    const where = o.where ? ` WHERE ${o.where[0]}` : ''
    return `CREATE ${u}INDEX "${o.name}" ON "${o.table}" (${o.cols.join(', ')})${where}`
  }
  const where = o.where ? ` WHERE ${o.where[1]}` : ''
  const name = /[A-Z]/.test(o.name) ? `"${o.name}"` : o.name
  return `CREATE ${u}INDEX ${name} ON public.${o.table} USING btree (${o.cols.join(', ')})${where}`
}

// ---------------------------------------------------------------------------------------------
// Helpers

async function failure(p: Promise<unknown>): Promise<{ status: number; response: Json }> {
  try {
    await p
  } catch (err) {
    if (err instanceof ClientResponseError) return { status: err.status, response: err.response }
    throw err
  }
  throw new Error('expected the request to fail')
}

/** Every key of a JSON value, at any depth. */
function allKeys(v: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) v.forEach((x) => allKeys(x, out))
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      out.add(k)
      allKeys(x, out)
    }
  return out
}

function expectNoSecrets(v: unknown): void {
  const keys = allKeys(v)
  expect(keys.has('secret')).toBe(false)
  expect(keys.has('clientSecret')).toBe(false)
  const text = JSON.stringify(v)
  expect(text).not.toContain(PROVIDER_SECRET)
  expect(text).not.toContain(AUTH_TOKEN_SECRET)
}

const PROVIDER_SECRET = 'provider-client-secret-0123456789'
const AUTH_TOKEN_SECRET = 'members-auth-token-secret-0123456789abcdef'

const sortByName = <T extends { name: string }>(list: T[]): T[] =>
  [...list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))

/** created/updated of a new collection: canonical UTC datetimes, recent, updated not before created. */
function expectTimestamps(collection: CollectionModel): void {
  const c = collection as unknown as { created: string; updated: string }
  const format = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/
  expect(c.created).toMatch(format)
  expect(c.updated).toMatch(format)
  expect(c.updated >= c.created).toBe(true)
  expect(Math.abs(Date.parse(c.created.replace(' ', 'T')) - Date.now())).toBeLessThan(60_000)
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

// ---------------------------------------------------------------------------------------------

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`collections through the SDK (${kind})`, () => {
    let store: TestStore
    let srv: RunningGalley
    let pb: PocketBase
    let db: Introspector

    beforeAll(async () => {
      store = await createStore(kind)
      srv = await startGalley(store)
      db = await introspect(store)
    })
    afterAll(async () => {
      await db?.close()
      await srv?.close()
      await store?.cleanup()
    })

    /** The collection JSON as stored in `_collections.data` (secrets included). */
    async function stored(name: string): Promise<Json> {
      const row = await srv.galley.database.db
        .selectFrom('_collections')
        .select('data')
        .where('name', '=', name)
        .executeTakeFirstOrThrow()
      return (typeof row.data === 'string' ? JSON.parse(row.data) : row.data) as Json
    }

    /** Rows of a record table decoded per column kind, ordered by id. */
    async function readRows(table: string, kinds: Record<string, ColumnKind>): Promise<Json[]> {
      const d = srv.galley.database.dialect
      const rows = (await srv.galley.database.db
        .selectFrom(table)
        .select(Object.keys(kinds))
        .orderBy('id')
        .execute()) as Json[]
      return rows.map((r) =>
        Object.fromEntries(Object.entries(kinds).map(([k, t]) => [k, d.decode(t, r[k])])),
      )
    }

    /** A table's columns; on PostgreSQL the hidden `_rowid_` identity column is checked, then left out. */
    async function columnsOf(table: string): Promise<ColumnDesc[]> {
      const cols = await db.columns(table)
      // PostgreSQL record tables carry an identity column for @rowid ordering (architecture.md).
      expect(cols.filter((c) => c.name === '_rowid_')).toEqual(
        kind === 'postgres' ? [{ name: '_rowid_', type: 'bigint', notNull: true, default: 'identity' }] : [],
      )
      return cols.filter((c) => c.name !== '_rowid_')
    }

    const indexNames = async (table: string) => (await db.indexes(table)).map((i) => i.name).sort()

    // The collections built by the tests below.
    let tags: CollectionModel
    let members: CollectionModel
    let posts: CollectionModel

    it('signs a superuser in through _superusers', async () => {
      pb = srv.sdk()
      const auth = await pb.collection('_superusers').authWithPassword(SU_EMAIL, SU_PASSWORD)
      expect(pb.authStore.isValid).toBe(true)
      expect(pb.authStore.isSuperuser).toBe(true)
      expect(auth.record.email).toBe(SU_EMAIL)
      expect(auth.record.collectionName).toBe('_superusers')
    })

    it('creates a base collection with a custom id and gets it back by id and by name', async () => {
      const sent = {
        id: 'tags_custom_id',
        name: 'tags',
        type: 'base',
        fields: [{ name: 'label', type: 'text', max: 40, required: true, presentable: true }],
      }
      tags = await pb.collections.create(sent)
      const expected = {
        id: 'tags_custom_id',
        name: 'tags',
        type: 'base',
        system: false,
        fields: [ID_FIELD, full(sent.fields[0]!)],
        indexes: [],
        listRule: null,
        viewRule: null,
        createRule: null,
        updateRule: null,
        deleteRule: null,
        created: tags.created,
        updated: tags.updated,
      }
      expect(tags).toEqual(expected)
      expectTimestamps(tags)
      expect(await pb.collections.getOne('tags_custom_id')).toEqual(expected)
      expect(await pb.collections.getOne('TAGS')).toEqual(expected)
      expect(await columnsOf('tags')).toEqual(expectedColumns(kind, [['label', 'text']]))
    })

    it('creates an auth collection: system fields, auth options, unique indexes, no secret ever', async () => {
      await pause(3)
      const sent = {
        name: 'members',
        type: 'auth',
        listRule: 'id = @request.auth.id',
        viewRule: null,
        createRule: '',
        updateRule: 'id = @request.auth.id',
        deleteRule: null,
        authRule: 'verified = true',
        manageRule: "@request.auth.collectionName = '_superusers'",
        fields: [{ name: 'nickname', type: 'text', min: 2, max: 30, pattern: '^\\w+$' }],
        indexes: ['CREATE UNIQUE INDEX `idx_members_nickname` ON `members` (`nickname` COLLATE NOCASE)'],
        passwordAuth: { enabled: true, identityFields: ['email', 'nickname'] },
        oauth2: {
          enabled: true,
          mappedFields: { id: '', name: 'nickname', username: '', avatarURL: '' },
          providers: [
            {
              name: 'google',
              clientId: 'members-client-id',
              clientSecret: PROVIDER_SECRET,
              displayName: 'Google',
              pkce: true,
            },
          ],
        },
        mfa: { enabled: true, duration: 900, rule: "email != ''" },
        otp: { enabled: true, duration: 300, length: 6 },
        authAlert: { enabled: false },
        authToken: { duration: 3600, secret: AUTH_TOKEN_SECRET },
        fileToken: { duration: 60 },
        verificationTemplate: { subject: 'Verify {APP_NAME}', body: '<p>{TOKEN}</p>' },
      }
      members = await pb.collections.create(sent)
      const id = collectionId('auth', 'members')
      const scaffold = (await pb.collections.getScaffolds()).auth as unknown as Json
      const tpl = (key: string) => scaffold[key] as { subject: string; body: string }
      expect(tpl('resetPasswordTemplate').body).toContain('{TOKEN}')
      const expected = {
        id,
        name: 'members',
        type: 'auth',
        system: false,
        fields: [ID_FIELD, full(sent.fields[0]!), ...AUTH_SYSTEM_FIELDS],
        indexes: [
          'CREATE UNIQUE INDEX `idx_members_nickname` ON `members` (`nickname` COLLATE NOCASE)',
          `CREATE UNIQUE INDEX \`idx_tokenKey_${id}\` ON \`members\` (\`tokenKey\`)`,
          `CREATE UNIQUE INDEX \`idx_email_${id}\` ON \`members\` (\`email\`) WHERE \`email\` != ''`,
        ],
        listRule: 'id = @request.auth.id',
        viewRule: null,
        createRule: '',
        updateRule: 'id = @request.auth.id',
        deleteRule: null,
        created: members.created,
        updated: members.updated,
        authRule: 'verified = true',
        manageRule: "@request.auth.collectionName = '_superusers'",
        authAlert: { enabled: false, emailTemplate: (scaffold.authAlert as Json).emailTemplate },
        oauth2: {
          enabled: true,
          mappedFields: { id: '', name: 'nickname', username: '', avatarURL: '' },
          providers: [
            {
              name: 'google',
              clientId: 'members-client-id',
              authURL: '',
              tokenURL: '',
              userInfoURL: '',
              displayName: 'Google',
              pkce: true,
              extra: null,
            },
          ],
        },
        passwordAuth: { enabled: true, identityFields: ['email', 'nickname'] },
        mfa: { enabled: true, duration: 900, rule: "email != ''" },
        otp: { enabled: true, duration: 300, length: 6, emailTemplate: (scaffold.otp as Json).emailTemplate },
        authToken: { duration: 3600 },
        passwordResetToken: { duration: 1800 },
        emailChangeToken: { duration: 1800 },
        verificationToken: { duration: 86400 },
        fileToken: { duration: 60 },
        verificationTemplate: { subject: 'Verify {APP_NAME}', body: '<p>{TOKEN}</p>' },
        resetPasswordTemplate: tpl('resetPasswordTemplate'),
        confirmEmailChangeTemplate: tpl('confirmEmailChangeTemplate'),
      }
      expect(members).toEqual(expected)
      expectTimestamps(members)
      expect(await pb.collections.getOne('members')).toEqual(expected)
      expectNoSecrets(members)
      expectNoSecrets(await pb.collections.getOne(id))
      expectNoSecrets(await pb.collections.getFullList())
      expectNoSecrets(scaffold)

      // The secrets were stored (write-only, not ignored).
      const row = await stored('members')
      expect((row.authToken as Json).secret).toBe(AUTH_TOKEN_SECRET)
      expect(((row.oauth2 as Json).providers as Json[])[0]!.clientSecret).toBe(PROVIDER_SECRET)
      for (const k of ['passwordResetToken', 'emailChangeToken', 'verificationToken', 'fileToken'])
        expect(((row[k] as Json).secret as string).length).toBe(50)

      // The table and its unique indexes, in the database itself.
      expect(await columnsOf('members')).toEqual(
        expectedColumns(kind, [
          ['nickname', 'text'],
          ['password', 'text'],
          ['tokenKey', 'text'],
          ['email', 'text'],
          ['emailVisibility', 'bool'],
          ['verified', 'bool'],
        ]),
      )
      const idx = await db.indexes('members')
      expect(sortByName(idx)).toEqual(
        sortByName([
          {
            name: `idx_email_${id}`,
            unique: true,
            definition: indexDef(kind, {
              name: `idx_email_${id}`,
              table: 'members',
              unique: true,
              cols: kind === 'sqlite' ? ['"email"'] : ['email'],
              where: [`"email" != ''`, `(email <> ''::text)`],
            }),
          },
          {
            name: 'idx_members_nickname',
            unique: true,
            definition: indexDef(kind, {
              name: 'idx_members_nickname',
              table: 'members',
              unique: true,
              cols: kind === 'sqlite' ? ['"nickname" COLLATE NOCASE'] : ['lower(nickname)'],
            }),
          },
          {
            name: `idx_tokenKey_${id}`,
            unique: true,
            definition: indexDef(kind, {
              name: `idx_tokenKey_${id}`,
              table: 'members',
              unique: true,
              cols: kind === 'sqlite' ? ['"tokenKey"'] : ['"tokenKey"'],
            }),
          },
        ]),
      )
    })

    it('keeps write-only secrets across updates; a new authRule rotates the auth token secret', async () => {
      // The SDK round-trip: what getOne returned (no secrets) sent back as is.
      const updated = await pb.collections.update('members', {
        ...(await pb.collections.getOne('members')),
        oauth2: { ...members.oauth2, providers: [{ name: 'google', clientId: 'members-client-id-2' }] },
      })
      expectNoSecrets(updated)
      expect((updated.oauth2.providers as Json[])[0]).toEqual({
        name: 'google',
        clientId: 'members-client-id-2',
        authURL: '',
        tokenURL: '',
        userInfoURL: '',
        displayName: '',
        pkce: null,
        extra: null,
      })
      let row = await stored('members')
      expect((row.authToken as Json).secret).toBe(AUTH_TOKEN_SECRET)
      expect(((row.oauth2 as Json).providers as Json[])[0]!.clientSecret).toBe(PROVIDER_SECRET)

      members = await pb.collections.update('members', { authRule: '' })
      expect(members.authRule).toBe('')
      row = await stored('members')
      const rotated = (row.authToken as Json).secret as string
      expect(rotated).not.toBe(AUTH_TOKEN_SECRET)
      expect(rotated).toHaveLength(50)
      expectNoSecrets(members)
    })

    // One field of every type, each with non-default options.
    const postsFields = (membersId: string, tagsId: string): Json[] => [
      {
        id: 'fld_title',
        name: 'title',
        type: 'text',
        min: 3,
        max: 120,
        pattern: '^[^<>]+$',
        autogeneratePattern: '',
        required: true,
        presentable: true,
        help: 'Shown in lists',
      },
      { name: 'body', type: 'editor', maxSize: 100_000, convertURLs: true, help: 'Rich text' },
      { name: 'views', type: 'number', min: 0, max: 1_000_000, onlyInt: true },
      { name: 'rating', type: 'number', min: -1.5, max: 9.75, required: true },
      { name: 'published', type: 'bool', hidden: true },
      { name: 'contact', type: 'email', exceptDomains: ['spam.example'], required: true },
      { name: 'website', type: 'url', onlyDomains: ['example.com', 'example.org'] },
      {
        name: 'publishAt',
        type: 'date',
        min: '2020-01-01 00:00:00.000Z',
        max: '2030-12-31 23:59:59.999Z',
        required: true,
      },
      { name: 'created', type: 'autodate', onCreate: true, onUpdate: false },
      { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true, hidden: true },
      { name: 'status', type: 'select', values: ['draft', 'review', 'live'], maxSelect: 1, required: true },
      { name: 'labels', type: 'select', values: ['a', 'b', 'c', 'd'], maxSelect: 3, presentable: true },
      {
        name: 'cover',
        type: 'file',
        maxSelect: 1,
        maxSize: 2_000_000,
        mimeTypes: ['image/png', 'image/jpeg'],
        thumbs: ['100x100', '0x300', '640x480t'],
        protected: true,
      },
      {
        name: 'attachments',
        type: 'file',
        maxSelect: 5,
        maxSize: 10_000_000,
        mimeTypes: ['application/pdf'],
        thumbs: [],
        required: true,
      },
      { name: 'author', type: 'relation', collectionId: membersId, cascadeDelete: true, maxSelect: 1 },
      {
        name: 'related',
        type: 'relation',
        collectionId: tagsId,
        minSelect: 1,
        maxSelect: 4,
        required: true,
        help: 'Two to four',
      },
      { name: 'meta', type: 'json', maxSize: 2048, hidden: true },
      { name: 'secret', type: 'password', min: 10, max: 60, pattern: '^\\S+$', cost: 12, hidden: true },
      { name: 'location', type: 'geoPoint', required: true, help: 'Where' },
    ]
    const POSTS_KINDS: [string, ColumnKind][] = [
      ['title', 'text'],
      ['body', 'text'],
      ['views', 'number'],
      ['rating', 'number'],
      ['published', 'bool'],
      ['contact', 'text'],
      ['website', 'text'],
      ['publishAt', 'text'],
      ['created', 'text'],
      ['updated', 'text'],
      ['status', 'text'],
      ['labels', 'jsonArray'],
      ['cover', 'text'],
      ['attachments', 'jsonArray'],
      ['author', 'text'],
      ['related', 'jsonArray'],
      ['meta', 'json'],
      ['secret', 'text'],
      ['location', 'geoPoint'],
    ]
    const POSTS_RULES = {
      listRule: '',
      viewRule: 'published = true',
      createRule: "@request.auth.id != ''",
      updateRule: 'author = @request.auth.id',
      deleteRule: null,
    }
    const POSTS_INDEXES = [
      'CREATE UNIQUE INDEX `idx_posts_title` ON `posts` (`title`)',
      'CREATE INDEX `idx_posts_status_views` ON `posts` (`status`, `views` DESC) WHERE `published` = TRUE AND `views` > 0',
      'CREATE INDEX `idx_posts_contact` ON `posts` (`contact` COLLATE NOCASE)',
    ]

    it('creates a base collection with one field of every type and returns exactly what was sent', async () => {
      await pause(3)
      const sent = {
        name: 'posts',
        type: 'base',
        fields: postsFields(members.id, tags.id),
        indexes: POSTS_INDEXES,
        ...POSTS_RULES,
      }
      posts = await pb.collections.create(sent)
      const expected = {
        id: collectionId('base', 'posts'),
        name: 'posts',
        type: 'base',
        system: false,
        fields: [ID_FIELD, ...sent.fields.map(full)],
        indexes: POSTS_INDEXES,
        ...POSTS_RULES,
        created: posts.created,
        updated: posts.updated,
      }
      expect(posts).toEqual(expected)
      expectTimestamps(posts)
      // Spot checks on the derivation, in case `full` and the server agreed on a mistake.
      expect(posts.fields[1]).toEqual({
        id: 'fld_title',
        name: 'title',
        type: 'text',
        system: false,
        hidden: false,
        presentable: true,
        help: 'Shown in lists',
        min: 3,
        max: 120,
        pattern: '^[^<>]+$',
        autogeneratePattern: '',
        required: true,
        primaryKey: false,
      })
      expect(posts.fields.find((f) => f.name === 'created')).toEqual({
        id: 'autodate2990389176',
        name: 'created',
        type: 'autodate',
        system: false,
        hidden: false,
        presentable: false,
        onCreate: true,
        onUpdate: false,
      })
      expect(posts.fields.find((f) => f.name === 'location')).toEqual({
        id: 'geoPoint1587448267',
        name: 'location',
        type: 'geoPoint',
        system: false,
        hidden: false,
        presentable: false,
        help: 'Where',
        required: true,
      })
      expect(await pb.collections.getOne('posts')).toEqual(expected)
      expect(await pb.collections.getOne(expected.id)).toEqual(expected)
    })

    it('creates the table with the expected columns and indexes in the database', async () => {
      expect(await columnsOf('posts')).toEqual(expectedColumns(kind, POSTS_KINDS))
      const q = (c: string) => (kind === 'sqlite' ? `"${c}"` : c)
      expect(sortByName(await db.indexes('posts'))).toEqual(
        sortByName([
          {
            name: 'idx_posts_title',
            unique: true,
            definition: indexDef(kind, {
              name: 'idx_posts_title',
              table: 'posts',
              unique: true,
              cols: [q('title')],
            }),
          },
          {
            name: 'idx_posts_status_views',
            unique: false,
            definition: indexDef(kind, {
              name: 'idx_posts_status_views',
              table: 'posts',
              cols: [q('status'), `${q('views')} DESC`],
              where: [
                `"published" = TRUE AND "views" > 0`,
                `((published = true) AND (views > (0)::double precision))`,
              ],
            }),
          },
          {
            name: 'idx_posts_contact',
            unique: false,
            definition: indexDef(kind, {
              name: 'idx_posts_contact',
              table: 'posts',
              cols: kind === 'sqlite' ? ['"contact" COLLATE NOCASE'] : ['lower(contact)'],
            }),
          },
        ]),
      )
      // The same view through Galley's own dialect introspection.
      const d = srv.galley.database.dialect
      const cols = await d.listColumns(srv.galley.database.db, 'posts')
      expect(cols.map((c) => c.name).filter((n) => n !== '_rowid_')).toEqual(
        (await columnsOf('posts')).map((c) => c.name),
      )
      expect((await d.listIndexes(srv.galley.database.db, 'posts')).map((i) => i.name).sort()).toEqual(
        await indexNames('posts'),
      )
    })

    it('normalizes index statements and rejects invalid collections without touching the database', async () => {
      await pause(3)
      const archive = await pb.collections.create({
        name: 'posts_archive',
        fields: [
          { name: 'name', type: 'text' },
          { name: 'year', type: 'number', onlyInt: true },
          { name: 'archivedAt', type: 'date', min: '2024-01-01', max: '2024-06-30T12:00:00+02:00' },
        ],
        indexes: ['create index if not exists idx_archive_name on whatever (name collate nocase, year desc)'],
      })
      expect(archive.type).toBe('base')
      // Date options are stored in the canonical datetime form.
      expect(archive.fields[3]).toEqual(
        full({
          name: 'archivedAt',
          type: 'date',
          min: '2024-01-01 00:00:00.000Z',
          max: '2024-06-30 10:00:00.000Z',
        }),
      )
      expect(archive.indexes).toEqual([
        'CREATE INDEX `idx_archive_name` ON `posts_archive` (`name` COLLATE NOCASE, `year` DESC)',
      ])
      expect(await indexNames('posts_archive')).toEqual(['idx_archive_name'])

      const tablesBefore = await db.tables()
      const bad = await failure(
        pb.collections.create({
          name: 'broken',
          fields: [
            { name: 'choice', type: 'select', values: [] },
            { name: 'rel', type: 'relation', collectionId: 'nope' },
            { name: 'n', type: 'number', min: 5, max: 1 },
            { name: 'Choice', type: 'text' },
          ],
          indexes: ['CREATE INDEX `idx_broken` ON `broken` (`missing`)'],
        }),
      )
      expect(bad.status).toBe(400)
      expect(bad.response.message).toBe('Failed to create collection.')
      const data = bad.response.data as Record<string, Record<string, Record<string, { code: string }>>>
      // Field errors are indexed in the stored list, where the system `id` field comes first.
      expect(Object.keys(data.fields!)).toEqual(['1', '2', '3', '4'])
      expect(data.fields!['1']!.values!.code).toBe('validation_required')
      expect(data.fields!['2']!.collectionId!.code).toBe('validation_field_relation_missing_collection')
      expect(data.fields!['3']!.max!.code).toBe('validation_min_greater_equal_than_required')
      expect(data.fields!['4']!.name!.code).toBe('validation_duplicated_field_name')
      expect((data.indexes!['0'] as unknown as { code: string }).code).toBe(
        'validation_invalid_index_expression',
      )
      expect(await db.tables()).toEqual(tablesBefore)

      const dup = await failure(pb.collections.create({ name: 'POSTS' }))
      expect(dup.status).toBe(400)
      expect((dup.response.data as Record<string, { code: string }>).name!.code).toBe(
        'validation_collection_name_exists',
      )
    })

    it('lists collections: paging, filter, sort, skipTotal, getFullList, getFirstListItem', async () => {
      const all = await pb.collections.getFullList()
      expect(all.map((c) => c.name).sort()).toEqual(
        [...BUILTIN_COLLECTIONS, 'tags', 'members', 'posts', 'posts_archive'].sort(),
      )
      expect(all.find((c) => c.name === 'posts')).toEqual(await pb.collections.getOne('posts'))

      const page1 = await pb.collections.getList(1, 1, { filter: "name ~ 'post'", sort: '-created' })
      expect(page1.page).toBe(1)
      expect(page1.perPage).toBe(1)
      expect(page1.totalItems).toBe(2)
      expect(page1.totalPages).toBe(2)
      expect(page1.items.map((c) => c.name)).toEqual(['posts_archive'])
      const page2 = await pb.collections.getList(2, 1, { filter: "name ~ 'post'", sort: '-created' })
      expect(page2.items.map((c) => c.name)).toEqual(['posts'])
      expect(page2.items[0]).toEqual(await pb.collections.getOne('posts'))

      const asc = await pb.collections.getList(1, 10, { filter: "name ~ 'post'", sort: 'created' })
      expect(asc.items.map((c) => c.name)).toEqual(['posts', 'posts_archive'])

      const skipped = await pb.collections.getList(1, 3, { sort: 'name', skipTotal: true })
      expect(skipped.totalItems).toBe(-1)
      expect(skipped.totalPages).toBe(-1)
      expect(skipped.items.map((c) => c.name)).toEqual(['_authOrigins', '_externalAuths', '_mfas'])

      const system = await pb.collections.getList(1, 50, { filter: 'system = true', sort: 'name' })
      expect(system.totalItems).toBe(5)
      expect(system.items.map((c) => c.name)).toEqual([
        '_authOrigins',
        '_externalAuths',
        '_mfas',
        '_otps',
        '_superusers',
      ])
      const auths = await pb.collections.getList(1, 50, { filter: "type = 'auth'", sort: '-name' })
      expect(auths.items.map((c) => c.name)).toEqual(['users', 'members', '_superusers'])

      expect((await pb.collections.getFirstListItem("name = 'tags'")).id).toBe('tags_custom_id')
      expect((await pb.collections.getFirstListItem(`id = '${posts.id}'`)).name).toBe('posts')
      expect((await failure(pb.collections.getFirstListItem("name = 'nothing'"))).status).toBe(404)
      expect((await failure(pb.collections.getOne('nothing'))).status).toBe(404)
      expect((await failure(pb.collections.getList(1, 10, { filter: 'nosuchfield = 1' }))).status).toBe(400)
    })

    // Rows written straight into the table (the records API comes later).
    const ROW_KINDS: Record<string, ColumnKind> = {
      id: 'text',
      title: 'text',
      published: 'bool',
      views: 'number',
      status: 'text',
      labels: 'jsonArray',
      meta: 'json',
      location: 'geoPoint',
    }

    it('updates fields: add, remove (column dropped), change options, rename (values kept)', async () => {
      const d = srv.galley.database.dialect
      const insert = (values: Json) => srv.galley.database.db.insertInto('posts').values(values).execute()
      await insert({
        id: 'r00000000000001',
        title: 'first post',
        published: d.encode('bool', true),
        views: 10,
        status: 'draft',
        labels: d.encode('jsonArray', ['a', 'b']),
        meta: d.encode('json', { n: 1, tags: ['x'] }),
        location: d.encode('geoPoint', { lon: 1.5, lat: -2.25 }),
      })
      // Columns left out take their defaults.
      await insert({ id: 'r00000000000002', title: 'second post', published: d.encode('bool', false) })
      await insert({
        id: 'r00000000000003',
        title: 'third post',
        published: d.encode('bool', true),
        views: 3,
        status: 'live',
        labels: d.encode('jsonArray', ['c']),
        meta: d.encode('json', 'just text'),
      })
      const before = await readRows('posts', ROW_KINDS)
      expect(before).toEqual([
        {
          id: 'r00000000000001',
          title: 'first post',
          published: true,
          views: 10,
          status: 'draft',
          labels: ['a', 'b'],
          meta: { n: 1, tags: ['x'] },
          location: { lon: 1.5, lat: -2.25 },
        },
        {
          id: 'r00000000000002',
          title: 'second post',
          published: false,
          views: 0,
          status: '',
          labels: [],
          meta: null,
          location: { lon: 0, lat: 0 },
        },
        {
          id: 'r00000000000003',
          title: 'third post',
          published: true,
          views: 3,
          status: 'live',
          labels: ['c'],
          meta: 'just text',
          location: { lon: 0, lat: 0 },
        },
      ])

      // What a client does: take the stored fields, edit them, send them all back.
      const current = await pb.collections.getOne('posts')
      const fields: Json[] = [
        ...current.fields
          .filter((f) => f.name !== 'body')
          .map((f) => {
            if (f.name === 'title') return { ...f, name: 'headline', help: 'Renamed' }
            if (f.name === 'views') return { ...f, max: 500, onlyInt: false, hidden: true }
            if (f.name === 'website') return { ...f, onlyDomains: null, exceptDomains: ['bad.example'] }
            return f
          }),
        { name: 'subtitle', type: 'text', max: 50 },
        { name: 'score', type: 'number', min: 1 },
        { name: 'flag', type: 'bool' },
      ]
      const indexes = [
        'CREATE UNIQUE INDEX `idx_posts_title` ON `posts` (`headline`)',
        ...current.indexes.slice(1),
      ]
      const updated = await pb.collections.update('posts', { fields, indexes })

      const expectedFields = [
        ...posts.fields
          .filter((f) => f.name !== 'body')
          .map((f) => {
            if (f.name === 'title') return { ...f, name: 'headline', help: 'Renamed' }
            if (f.name === 'views') return { ...f, max: 500, onlyInt: false, hidden: true }
            if (f.name === 'website') return { ...f, onlyDomains: null, exceptDomains: ['bad.example'] }
            return f
          }),
        full({ name: 'subtitle', type: 'text', max: 50 }),
        full({ name: 'score', type: 'number', min: 1 }),
        full({ name: 'flag', type: 'bool' }),
      ]
      expect(updated.fields).toEqual(expectedFields)
      expect(updated.fields.find((f) => f.name === 'headline')!.id).toBe('fld_title')
      expect(updated.indexes).toEqual(indexes)
      expect(updated.created).toBe(posts.created)
      expect(updated.updated >= posts.updated).toBe(true)
      expect(await pb.collections.getOne('posts')).toEqual(updated)

      expect(await columnsOf('posts')).toEqual(
        expectedColumns(kind, [
          ...POSTS_KINDS.filter(([n]) => n !== 'body').map(([n, k]): [string, ColumnKind] => [
            n === 'title' ? 'headline' : n,
            k,
          ]),
          ['subtitle', 'text'],
          ['score', 'number'],
          ['flag', 'bool'],
        ]),
      )
      expect(await indexNames('posts')).toEqual([
        'idx_posts_contact',
        'idx_posts_status_views',
        'idx_posts_title',
      ])
      const titleIdx = (await db.indexes('posts')).find((i) => i.name === 'idx_posts_title')!
      expect(titleIdx.definition).toBe(
        indexDef(kind, {
          name: 'idx_posts_title',
          table: 'posts',
          unique: true,
          cols: [kind === 'sqlite' ? '"headline"' : 'headline'],
        }),
      )

      const { title: _t, ...rest } = ROW_KINDS
      const after = await readRows('posts', {
        ...rest,
        headline: 'text',
        subtitle: 'text',
        score: 'number',
        flag: 'bool',
      })
      expect(after).toEqual(
        before.map(({ title, ...r }) => ({ ...r, headline: title, subtitle: '', score: 0, flag: false })),
      )

      // A field's type cannot change; system fields cannot go; nothing changes on refusal.
      const typeChange = await failure(
        pb.collections.update('posts', {
          fields: updated.fields.map((f) => (f.name === 'subtitle' ? { ...f, type: 'editor' } : f)),
        }),
      )
      expect(typeChange.status).toBe(400)
      const idx = updated.fields.findIndex((f) => f.name === 'subtitle')
      expect(
        ((typeChange.response.data as Json).fields as Record<string, Record<string, { code: string }>>)[
          String(idx)
        ]!.type!.code,
      ).toBe('validation_field_type_change')
      // Fields sent without `id` get it back (PocketBase's initIdField), unchanged.
      const noId = await pb.collections.update('posts', {
        fields: updated.fields.filter((f) => f.name !== 'id'),
      })
      expect(noId.fields).toEqual(updated.fields)
      // A system field keeps its name.
      const membersNow = await pb.collections.getOne('members')
      const verifiedAt = membersNow.fields.findIndex((f) => f.name === 'verified')
      const sysRename = await failure(
        pb.collections.update('members', {
          fields: membersNow.fields.map((f) => (f.name === 'verified' ? { ...f, name: 'checked' } : f)),
        }),
      )
      expect(sysRename.status).toBe(400)
      expect(
        ((sysRename.response.data as Json).fields as Record<string, Record<string, { code: string }>>)[
          String(verifiedAt)
        ]!.name!.code,
      ).toBe('validation_system_field_name_change')
      expect(await pb.collections.getOne('members')).toEqual(membersNow)
      const dangling = await failure(
        pb.collections.update('posts', { fields: updated.fields.filter((f) => f.name !== 'headline') }),
      )
      expect(dangling.status).toBe(400)

      // A failing DDL statement (a unique index over duplicate values) rolls the whole change back.
      const colsBefore = await columnsOf('posts')
      const ddl = await failure(
        pb.collections.update('posts', {
          fields: [...updated.fields, { name: 'extra', type: 'text' }],
          indexes: [...updated.indexes, 'CREATE UNIQUE INDEX `idx_posts_published` ON `posts` (`published`)'],
        }),
      )
      expect(ddl.status).toBe(400)
      expect(ddl.response.message).toMatch(/^Failed to update collection\. Raw error: ./)
      expect(await columnsOf('posts')).toEqual(colsBefore)
      expect(await indexNames('posts')).toEqual([
        'idx_posts_contact',
        'idx_posts_status_views',
        'idx_posts_title',
      ])
      expect((await pb.collections.getOne('posts')).fields).toEqual(updated.fields)
      posts = await pb.collections.getOne('posts')
    })

    it('swaps two field names in one update without losing either column', async () => {
      const current = await pb.collections.getOne('posts')
      const swapped = current.fields.map((f) =>
        f.name === 'subtitle'
          ? { ...f, name: 'contact' }
          : f.name === 'contact'
            ? { ...f, name: 'subtitle' }
            : f,
      )
      await srv.galley.database.db
        .updateTable('posts')
        .set({ contact: 'a@example.com', subtitle: 'sub' })
        .where('id', '=', 'r00000000000001')
        .execute()
      const updated = await pb.collections.update('posts', {
        fields: swapped,
        indexes: current.indexes.map((i) => i.replace('`contact`', '`subtitle`')),
      })
      expect(updated.fields.find((f) => f.name === 'contact')!.type).toBe('text')
      expect(updated.fields.find((f) => f.name === 'subtitle')!.type).toBe('email')
      const [row] = await readRows('posts', { id: 'text', contact: 'text', subtitle: 'text' })
      expect(row).toEqual({ id: 'r00000000000001', contact: 'sub', subtitle: 'a@example.com' })
      // And back.
      posts = await pb.collections.update('posts', { fields: current.fields, indexes: current.indexes })
      expect(posts.fields).toEqual(current.fields)
      const [back] = await readRows('posts', { id: 'text', contact: 'text', subtitle: 'text' })
      expect(back).toEqual({ id: 'r00000000000001', contact: 'a@example.com', subtitle: 'sub' })
    })

    it('converts stored select values when maxSelect crosses 1, both ways', async () => {
      const withMax = (name: string, maxSelect: number) =>
        posts.fields.map((f) => (f.name === name ? { ...f, maxSelect } : f))
      const kinds = { id: 'text', status: 'jsonArray', labels: 'jsonArray' } as const

      // status: single -> multiple. '' -> [], 'draft' -> ['draft'].
      posts = await pb.collections.update('posts', { fields: withMax('status', 3) })
      expect(posts.fields.find((f) => f.name === 'status')!.maxSelect).toBe(3)
      expect((await columnsOf('posts')).find((c) => c.name === 'status')).toEqual({
        name: 'status',
        ...COLUMN[kind].jsonArray,
      })
      expect(await readRows('posts', kinds)).toEqual([
        { id: 'r00000000000001', status: ['draft'], labels: ['a', 'b'] },
        { id: 'r00000000000002', status: [], labels: [] },
        { id: 'r00000000000003', status: ['live'], labels: ['c'] },
      ])
      // The index over status was rebuilt on the converted column.
      expect(await indexNames('posts')).toEqual([
        'idx_posts_contact',
        'idx_posts_status_views',
        'idx_posts_title',
      ])

      // Two values stored, then back to single: the last element wins.
      const d = srv.galley.database.dialect
      await srv.galley.database.db
        .updateTable('posts')
        .set({ status: d.encode('jsonArray', ['review', 'live']) })
        .where('id', '=', 'r00000000000001')
        .execute()
      posts = await pb.collections.update('posts', {
        fields: posts.fields.map((f) =>
          f.name === 'status' ? { ...f, maxSelect: 1 } : f.name === 'labels' ? { ...f, maxSelect: 0 } : f,
        ),
      })
      expect(posts.fields.filter((f) => f.type === 'select').map((f) => f.maxSelect)).toEqual([1, 0])
      const cols = await columnsOf('posts')
      expect(cols.find((c) => c.name === 'status')).toEqual({ name: 'status', ...COLUMN[kind].text })
      expect(cols.find((c) => c.name === 'labels')).toEqual({ name: 'labels', ...COLUMN[kind].text })
      expect(await readRows('posts', { id: 'text', status: 'text', labels: 'text' })).toEqual([
        { id: 'r00000000000001', status: 'live', labels: 'b' },
        { id: 'r00000000000002', status: '', labels: '' },
        { id: 'r00000000000003', status: 'live', labels: 'c' },
      ])
      expect(await indexNames('posts')).toEqual([
        'idx_posts_contact',
        'idx_posts_status_views',
        'idx_posts_title',
      ])
    })

    it('renames the collection: table renamed, data and indexes kept, relations still valid', async () => {
      const before = await readRows('posts', { id: 'text', headline: 'text', status: 'text' })
      const renamed = await pb.collections.update('posts', { name: 'articles' })
      expect(renamed.id).toBe(posts.id)
      expect(renamed.name).toBe('articles')
      expect(renamed.fields).toEqual(posts.fields)
      expect(renamed.indexes).toEqual(posts.indexes.map((i) => i.replace('ON `posts`', 'ON `articles`')))
      const tables = await db.tables()
      expect(tables).toContain('articles')
      expect(tables).not.toContain('posts')
      expect(await readRows('articles', { id: 'text', headline: 'text', status: 'text' })).toEqual(before)
      expect(await indexNames('articles')).toEqual([
        'idx_posts_contact',
        'idx_posts_status_views',
        'idx_posts_title',
      ])
      expect((await db.indexes('articles')).find((i) => i.name === 'idx_posts_title')!.definition).toBe(
        indexDef(kind, {
          name: 'idx_posts_title',
          table: 'articles',
          unique: true,
          cols: [kind === 'sqlite' ? '"headline"' : 'headline'],
        }),
      )
      expect((await failure(pb.collections.getOne('posts'))).status).toBe(404)
      expect(await pb.collections.getOne(posts.id)).toEqual(renamed)
      posts = renamed
    })

    it('renames a collection by letter case only', async () => {
      const upper = await pb.collections.update('articles', { name: 'Articles' })
      expect(upper.name).toBe('Articles')
      expect(await db.tables()).toContain('Articles')
      expect(await readRows('Articles', { id: 'text' })).toHaveLength(3)
      posts = await pb.collections.update(posts.id, { name: 'articles' })
      expect(posts.name).toBe('articles')
      expect(await db.tables()).toContain('articles')
      expect(await readRows('articles', { id: 'text' })).toHaveLength(3)
      expect(await indexNames('articles')).toEqual([
        'idx_posts_contact',
        'idx_posts_status_views',
        'idx_posts_title',
      ])
    })

    it('truncates a collection and serves the scaffolds', async () => {
      const cols = await columnsOf('articles')
      const indexes = await db.indexes('articles')
      expect(await readRows('articles', { id: 'text' })).toHaveLength(3)
      expect(await pb.collections.truncate('articles')).toBe(true)
      expect(await readRows('articles', { id: 'text' })).toEqual([])
      expect(await columnsOf('articles')).toEqual(cols)
      expect(await db.indexes('articles')).toEqual(indexes)
      expect(await pb.collections.getOne('articles')).toEqual(posts)
      expect((await failure(pb.collections.truncate('nothing'))).status).toBe(404)

      const scaffolds = await pb.collections.getScaffolds()
      expect(Object.keys(scaffolds).sort()).toEqual(['auth', 'base', 'view'])
      expect(scaffolds.base).toEqual({
        id: '',
        name: '',
        type: 'base',
        system: false,
        fields: [ID_FIELD],
        indexes: [],
        listRule: null,
        viewRule: null,
        createRule: null,
        updateRule: null,
        deleteRule: null,
        created: '',
        updated: '',
      })
      const auth = scaffolds.auth as unknown as Json
      expect(auth.id).toBe('')
      expect(auth.name).toBe('')
      expect(auth.type).toBe('auth')
      expect(auth.fields).toEqual([ID_FIELD, ...AUTH_SYSTEM_FIELDS])
      expect(auth.authRule).toBe('')
      expect(auth.manageRule).toBe(null)
      expect(auth.passwordAuth).toEqual({ enabled: true, identityFields: ['email'] })
      expect(auth.mfa).toEqual({ enabled: false, duration: 600, rule: '' })
      expect((auth.otp as Json).duration).toBe(180)
      expect((auth.otp as Json).length).toBe(8)
      expect(auth.authToken).toEqual({ duration: 432000 })
      expect(auth.passwordResetToken).toEqual({ duration: 1800 })
      expect(auth.emailChangeToken).toEqual({ duration: 1800 })
      expect(auth.verificationToken).toEqual({ duration: 86400 })
      expect(auth.fileToken).toEqual({ duration: 180 })
      expect(auth.oauth2).toEqual({
        enabled: false,
        mappedFields: { id: '', name: '', username: '', avatarURL: '' },
        providers: [],
      })
      expect(scaffolds.view).toEqual({
        id: '',
        name: '',
        type: 'view',
        system: false,
        fields: [],
        indexes: [],
        listRule: null,
        viewRule: null,
        createRule: null,
        updateRule: null,
        deleteRule: null,
        created: '',
        updated: '',
        viewQuery: '',
      })
    })

    it('deletes a collection (table dropped); refuses referenced and system collections', async () => {
      expect(await pb.collections.delete('posts_archive')).toBe(true)
      expect(await db.tables()).not.toContain('posts_archive')
      expect((await failure(pb.collections.getOne('posts_archive'))).status).toBe(404)
      expect((await failure(pb.collections.delete('posts_archive'))).status).toBe(404)

      for (const target of ['tags', 'members']) {
        const refused = await failure(pb.collections.delete(target))
        expect(refused.status).toBe(400)
        expect(refused.response.message).toBe(
          'Failed to delete collection due to existing relation references: articles.',
        )
        expect(await db.tables()).toContain(target)
      }
      for (const target of ['_superusers', '_mfas', '_otps', '_externalAuths', '_authOrigins']) {
        const refused = await failure(pb.collections.delete(target))
        expect(refused.status).toBe(400)
        expect(refused.response.message).toBe('System collections cannot be deleted.')
        expect(await db.tables()).toContain(target)
      }
      // A system collection keeps its name and rules.
      const rename = await failure(pb.collections.update('_mfas', { name: 'mfas2' }))
      expect(rename.status).toBe(400)
      expect((rename.response.data as Record<string, { code: string }>).name!.code).toBe(
        'validation_collection_system_name_change',
      )
    })

    it('imports several collections at once: create, update and deleteMissing', async () => {
      await pb.collections.create({ name: 'scratch', fields: [{ name: 'x', type: 'text' }] })
      expect(await db.tables()).toContain('scratch')

      const membersBefore = await stored('members')
      const current = (await pb.collections.getFullList()).filter((c) => c.name !== 'scratch')
      const tagsNow = current.find((c) => c.name === 'tags')!
      const imported = current.map((c) =>
        c.name === 'tags'
          ? {
              ...c,
              fields: [...c.fields, { name: 'color', type: 'select', values: ['red', 'blue'], maxSelect: 1 }],
              indexes: ['CREATE INDEX `idx_tags_color` ON `tags` (`color`)'],
              listRule: '',
            }
          : c,
      )
      const notebooks = {
        id: 'nb_collection_1',
        name: 'notebooks',
        type: 'base',
        fields: [{ name: 'title', type: 'text' }],
      }
      const notes = {
        name: 'notes',
        type: 'base',
        fields: [
          {
            name: 'notebook',
            type: 'relation',
            collectionId: 'nb_collection_1',
            maxSelect: 1,
            required: true,
          },
          { name: 'article', type: 'relation', collectionId: posts.id, maxSelect: 1 },
          { name: 'text', type: 'editor' },
        ],
        indexes: ['CREATE INDEX `idx_notes_notebook` ON `notes` (`notebook`)'],
      }
      expect(
        await pb.collections.import([...imported, notes, notebooks] as unknown as CollectionModel[], true),
      ).toBe(true)

      const after = await pb.collections.getFullList()
      expect(after.map((c) => c.name).sort()).toEqual(
        [...BUILTIN_COLLECTIONS, 'tags', 'members', 'articles', 'notes', 'notebooks'].sort(),
      )
      const tables = await db.tables()
      expect(tables).not.toContain('scratch')
      for (const t of ['notes', 'notebooks', 'tags', 'articles', 'members']) expect(tables).toContain(t)

      const newTags = after.find((c) => c.name === 'tags')!
      expect(newTags.fields).toEqual([
        ...tagsNow.fields,
        full({ name: 'color', type: 'select', values: ['red', 'blue'], maxSelect: 1 }),
      ])
      expect(newTags.listRule).toBe('')
      expect(newTags.created).toBe(tagsNow.created)
      expect(await columnsOf('tags')).toEqual(
        expectedColumns(kind, [
          ['label', 'text'],
          ['color', 'text'],
        ]),
      )
      expect(await indexNames('tags')).toEqual(['idx_tags_color'])
      expect(await columnsOf('notes')).toEqual(
        expectedColumns(kind, [
          ['notebook', 'text'],
          ['article', 'text'],
          ['text', 'text'],
        ]),
      )
      expect(await indexNames('notes')).toEqual(['idx_notes_notebook'])
      const notesJson = after.find((c) => c.name === 'notes')!
      expect(notesJson.id).toBe(collectionId('base', 'notes'))
      expect(notesJson.fields[1]).toEqual(
        full({
          name: 'notebook',
          type: 'relation',
          collectionId: 'nb_collection_1',
          maxSelect: 1,
          required: true,
        }),
      )
      // Unchanged collections came through unchanged, secrets included.
      for (const name of ['articles', 'members', 'users', '_superusers'])
        expect(after.find((c) => c.name === name)!.fields).toEqual(
          current.find((c) => c.name === name)!.fields,
        )
      const row = await stored('members')
      expect(((row.oauth2 as Json).providers as Json[])[0]!.clientSecret).toBe(PROVIDER_SECRET)
      expect((row.authToken as Json).secret).toBe((membersBefore.authToken as Json).secret)
    })

    it('rejects an import with one invalid entry and changes nothing', async () => {
      const before = await pb.collections.getFullList()
      const tablesBefore = await db.tables()
      const tagsCols = await columnsOf('tags')
      const invalid = [
        { name: 'ghost', type: 'base', fields: [{ name: 'g', type: 'text' }] },
        {
          ...before.find((c) => c.name === 'tags')!,
          fields: [
            ...before.find((c) => c.name === 'tags')!.fields,
            { name: 'extra', type: 'number' },
            { name: 'broken', type: 'select', values: [] },
          ],
        },
      ]
      const res = await failure(pb.collections.import(invalid as unknown as CollectionModel[], true))
      expect(res.status).toBe(400)
      expect(res.response.message).toBe('Failed to import collections.')
      const data = res.response.data as Record<string, Record<string, Json>>
      expect(Object.keys(data.collections!)).toEqual(['1'])
      expect(
        (data.collections!['1']!.fields as Record<string, Record<string, { code: string }>>)['4']!.values!
          .code,
      ).toBe('validation_required')

      expect(await pb.collections.getFullList()).toEqual(before)
      expect(await db.tables()).toEqual(tablesBefore)
      expect(await columnsOf('tags')).toEqual(tagsCols)

      // An empty import is refused too (it would otherwise delete everything with deleteMissing).
      const empty = await failure(pb.collections.import([], true))
      expect(empty.status).toBe(400)
      expect(await db.tables()).toEqual(tablesBefore)
    })

    it('renames a field and adds a new one under its old name: the derived id gets a suffix', async () => {
      await srv.galley.database.db
        .insertInto('tags')
        .values({ id: 't00000000000001', label: 'warm', color: 'red' })
        .execute()
      const current = await pb.collections.getOne('tags')
      const labelId = fieldId('text', 'label')
      expect(current.fields[1]!.id).toBe(labelId)
      const updated = await pb.collections.update('tags', {
        fields: [
          ...current.fields.map((f) => (f.name === 'label' ? { ...f, name: 'title' } : f)),
          { name: 'label', type: 'text', max: 10 },
        ],
      })
      expect(updated.fields).toEqual([
        ID_FIELD,
        { ...current.fields[1], name: 'title' },
        current.fields[2],
        full({ id: `${labelId}2`, name: 'label', type: 'text', max: 10 }),
      ])
      expect(await columnsOf('tags')).toEqual(
        expectedColumns(kind, [
          ['title', 'text'],
          ['color', 'text'],
          ['label', 'text'],
        ]),
      )
      expect(await readRows('tags', { id: 'text', title: 'text', color: 'text', label: 'text' })).toEqual([
        { id: 't00000000000001', title: 'warm', color: 'red', label: '' },
      ])
    })

    it('answers 401 without a token and 403 to a non-superuser on every collections endpoint', async () => {
      const d = srv.galley.database.dialect
      const now = '2025-01-01 00:00:00.000Z'
      await srv.galley.database.db
        .insertInto('users')
        .values({
          id: 'u00000000000001',
          email: 'someone@example.com',
          password: await hashPassword('user password 1'),
          tokenKey: 'k'.repeat(50),
          emailVisibility: d.encode('bool', false),
          verified: d.encode('bool', true),
          name: 'Someone',
          created: now,
          updated: now,
        })
        .execute()
      const user = srv.sdk()
      const auth = await user.collection('users').authWithPassword('someone@example.com', 'user password 1')
      expect(auth.record.id).toBe('u00000000000001')
      expect(user.authStore.isValid).toBe(true)
      expect(user.authStore.isSuperuser).toBe(false)
      const guest = srv.sdk()

      const calls: [string, (c: PocketBase) => Promise<unknown>][] = [
        ['getList', (c) => c.collections.getList(1, 10)],
        ['getFullList', (c) => c.collections.getFullList()],
        ['getFirstListItem', (c) => c.collections.getFirstListItem("name = 'tags'")],
        ['getOne', (c) => c.collections.getOne('tags')],
        ['getOne (missing)', (c) => c.collections.getOne('nothing')],
        ['create', (c) => c.collections.create({ name: 'intruder' })],
        ['update', (c) => c.collections.update('tags', { listRule: null })],
        ['delete', (c) => c.collections.delete('notes')],
        ['truncate', (c) => c.collections.truncate('tags')],
        ['import', (c) => c.collections.import([{ name: 'intruder' } as unknown as CollectionModel], true)],
        ['getScaffolds', (c) => c.collections.getScaffolds()],
      ]
      for (const [name, call] of calls) {
        const g = await failure(call(guest))
        expect([name, g.status, g.response.message]).toEqual([
          name,
          401,
          'The request requires valid record authorization token.',
        ])
        const u = await failure(call(user))
        expect([name, u.status, u.response.message]).toEqual([
          name,
          403,
          'The authorized record is not allowed to perform this action.',
        ])
      }
      // A forged or foreign token is a guest.
      const forged = srv.sdk()
      forged.authStore.save(`${user.authStore.token.slice(0, -4)}AAAA`, null)
      expect((await failure(forged.collections.getList())).status).toBe(401)

      // Nothing changed.
      expect(await db.tables()).not.toContain('intruder')
      expect((await pb.collections.getOne('tags')).listRule).toBe('')
      expect(await db.tables()).toContain('notes')
    })

    it('a restarted server on the same store still sees every collection', async () => {
      const before = await pb.collections.getFullList({ sort: 'name' })
      const rows = await readRows('members', { id: 'text' })
      await srv.close()
      srv = await startGalley(store)
      const again = await srv.asSuperuser()
      expect(await again.collections.getFullList({ sort: 'name' })).toEqual(before)
      expect(await readRows('members', { id: 'text' })).toEqual(rows)
      expect((await again.collections.getOne('articles')).fields).toEqual(posts.fields)
      // And the restarted server still changes the schema.
      await again.collections.update('notes', { fields: [{ name: 'plain', type: 'text' }], indexes: [] })
      expect(await columnsOf('notes')).toEqual(expectedColumns(kind, [['plain', 'text']]))
    })
  })
}

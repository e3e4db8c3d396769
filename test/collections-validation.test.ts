/**
 * Bad input against the collections management API (§6.2–§6.7): every rejected request answers
 * 400 (413 when oversized) in PocketBase's `{status, message, data}` shape with the exact per-field
 * codes, and leaves the schema, the tables, their indexes and their rows exactly as they were —
 * including changes that fail half-way through table sync. Runs on SQLite and PostgreSQL.
 */
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  MAX_BODY_BYTES,
  MAX_COLLECTION_NAME_LENGTH,
  MAX_FIELD_NAME_LENGTH,
  MAX_FIELDS,
  MAX_HELP_LENGTH,
  MAX_INDEX_LENGTH,
  MAX_INDEXES,
  MAX_JSON_DEPTH,
  MAX_RULE_LENGTH,
} from '../src/lib/index.js'
import { DB_KINDS, createStore, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'

type Json = Record<string, unknown>
type Method = 'POST' | 'PATCH' | 'PUT'

const USERS_ID = '_pb_users_auth_'
const CREATE_FAILED = 'Failed to create collection.'
const UPDATE_FAILED = 'Failed to update collection.'
const IMPORT_FAILED = 'Failed to import collections.'

/** Error response texts that would leak internals: stacks, file paths, SQL, driver names. */
const LEAKS: readonly RegExp[] = [
  /\n\s+at /,
  /\bat .+:\d+:\d+/,
  /(\/work\/|\/home\/|\/tmp\/|\/usr\/|node_modules|file:\/\/)/,
  /\.(ts|js|mjs):\d+/,
  /\b(CREATE (UNIQUE )?INDEX|CREATE TABLE|ALTER TABLE|DROP (TABLE|INDEX)|INSERT INTO|DELETE FROM)\b/,
  /\bSELECT\b[^"]*\bFROM\b/,
  /sqlite/i,
  /syntax error at/i,
  /pragma_|information_schema|pg_catalog/i,
]

interface Reply {
  readonly status: number
  readonly text: string
  readonly body: Json
}

/** Flattens `data` into `path -> code` (`fields.1.name -> validation_...`). */
function codesOf(data: unknown, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {}
  if (typeof data !== 'object' || data === null) return out
  for (const [key, value] of Object.entries(data)) {
    const path = prefix ? `${prefix}.${key}` : key
    const v = value as Json
    if (typeof v?.code === 'string' && typeof v.message === 'string') out[path] = v.code
    else Object.assign(out, codesOf(v, path))
  }
  return out
}

/** Every `{code, message}` leaf of `data`, to check their shape. */
function leavesOf(data: unknown): Json[] {
  if (typeof data !== 'object' || data === null) return []
  const v = data as Json
  if (typeof v.code === 'string') return [v]
  return Object.values(v).flatMap(leavesOf)
}

const textField = (name: string, extra: Json = {}): Json => ({ type: 'text', name, ...extra })
const longName = (n: number): string => 'n'.repeat(n)
/** A nesting of `depth` arrays, as raw JSON text. */
const deepArrays = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth)
const deepObject = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
/** A valid index statement on `table`, exactly `length` characters and already in canonical form. */
function indexOfLength(length: number, table = 'posts'): string {
  const head = `CREATE INDEX \`idx_${table}_long\` ON \`${table}\` (\`title\`) WHERE \`title\` != '`
  return head + 'x'.repeat(length - head.length - 1) + "'"
}
/** The same statement written without quotes: 8 characters shorter than its canonical form. */
const unquoted = (statement: string): string => statement.replace(/`/g, '')

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`collections validation on ${kind}`, () => {
    let store: TestStore
    let g: RunningGalley
    let token = ''
    /** Ids of the fixture collections, by name. */
    const ids: Record<string, string> = {}
    let postsFields: Json[] = []
    let membersFields: Json[] = []
    /** Every response of the suite, to scan once more at the end. */
    const seen: { what: string; reply: Reply }[] = []

    async function call(
      method: string,
      path: string,
      body?: unknown,
      opts: { raw?: string; type?: string } = {},
    ) {
      const init: RequestInit = { method, headers: { authorization: token } }
      if (opts.raw !== undefined || body !== undefined) {
        init.headers = { ...init.headers, 'content-type': opts.type ?? 'application/json' }
        init.body = opts.raw ?? JSON.stringify(body)
      }
      const res = await fetch(`${g.url}${path}`, init)
      const text = await res.text()
      let parsed: Json = {}
      try {
        parsed = text === '' ? {} : (JSON.parse(text) as Json)
      } catch {
        parsed = { unparsable: text.slice(0, 200) }
      }
      const reply = { status: res.status, text, body: parsed }
      seen.push({ what: `${method} ${path}`, reply })
      expect(res.status, `${method} ${path}: ${text.slice(0, 300)}`).toBeLessThan(500)
      // Successful collection JSON legitimately holds index statements; errors must never hold SQL.
      if (res.status >= 400)
        for (const leak of LEAKS) expect(text, `${method} ${path} leaks ${leak}`).not.toMatch(leak)
      return reply
    }

    const db = () => g.galley.database.db
    const dialect = () => g.galley.database.dialect

    async function tableNames(): Promise<string[]> {
      const q =
        kind === 'sqlite'
          ? sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
          : sql<{
              name: string
            }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`
      return (await q.execute(db())).rows.map((r) => r.name)
    }

    async function postsRows(): Promise<Json[]> {
      return (await sql<Json>`SELECT * FROM ${sql.id('posts')} ORDER BY ${sql.id('id')}`.execute(db())).rows
    }

    /** Everything a failed request must leave as it was. */
    async function snapshot() {
      const list = await call('GET', '/api/collections?perPage=1000&sort=name')
      expect(list.status).toBe(200)
      const items = list.body.items as Json[]
      const cached: Json[] = []
      const schema: Record<string, unknown> = {}
      for (const c of items) {
        const one = await call('GET', `/api/collections/${String(c.id)}`)
        cached.push(one.body)
        const name = String(c.name)
        schema[name] = {
          columns: await dialect().listColumns(db(), name),
          indexes: await dialect().listIndexes(db(), name),
        }
      }
      return { items, cached, tables: await tableNames(), schema, rows: await postsRows() }
    }

    let baseline: Awaited<ReturnType<typeof snapshot>>

    beforeAll(async () => {
      store = await createStore(kind)
      g = await startGalley(store)
      token = (await g.asSuperuser()).authStore.token

      const create = async (body: Json) => {
        const r = await call('POST', '/api/collections', body)
        expect(r.status, r.text).toBe(200)
        ids[String(body.name)] = String(r.body.id)
        return r.body
      }
      await create({
        name: 'other',
        fields: [textField('label')],
        indexes: ['CREATE UNIQUE INDEX idx_other_label ON other (label)'],
      })
      const posts = await create({
        name: 'posts',
        fields: [
          textField('title', { max: 200 }),
          textField('body'),
          { type: 'number', name: 'views', min: 0 },
          { type: 'select', name: 'status', values: ['draft', 'published'], maxSelect: 1 },
          { type: 'relation', name: 'author', collectionId: USERS_ID, maxSelect: 1 },
          { type: 'file', name: 'cover', maxSelect: 1, thumbs: ['100x100'] },
          { type: 'autodate', name: 'created', onCreate: true },
        ],
        indexes: ['CREATE INDEX idx_posts_title ON posts (title)'],
      })
      postsFields = posts.fields as Json[]
      const members = await create({ name: 'members', type: 'auth', fields: [textField('nick')] })
      membersFields = members.fields as Json[]

      // Rows written behind the API: the body column holds a duplicate for the rollback test.
      for (const [id, title, body] of [
        ['aaaaaaaaaaaaaa1', 'First', 'same'],
        ['aaaaaaaaaaaaaa2', 'Second', 'same'],
        ['aaaaaaaaaaaaaa3', 'Third', 'other'],
      ])
        await sql`INSERT INTO ${sql.id('posts')} (${sql.id('id')}, ${sql.id('title')}, ${sql.id('body')}) VALUES (${id}, ${title}, ${body})`.execute(
          db(),
        )
      baseline = await snapshot()
      expect(baseline.rows).toHaveLength(3)
      expect(baseline.tables).toEqual(expect.arrayContaining(['posts', 'other', 'members', 'users']))
    })

    afterAll(async () => {
      await g?.close()
      await store?.cleanup()
    })

    /** posts' fields with `name` replaced by `patch` (matched by name). */
    const postsWith = (name: string, patch: Json): Json[] =>
      postsFields.map((f) => (f.name === name ? { ...f, ...patch } : f))
    const postsIndexOf = (name: string) => postsFields.findIndex((f) => f.name === name)

    type Codes = Record<string, string> | (() => Record<string, string>)
    interface Scenario {
      readonly name: string
      readonly method: Method
      /** Collection to PATCH; absent for POST / PUT import. */
      readonly target?: string
      readonly body?: () => unknown
      readonly raw?: () => string
      readonly contentType?: string
      readonly status?: number
      readonly message?: string
      /** The exact `data` map, flattened to `path -> code` (a function when it needs the fixtures). */
      readonly codes: Codes
      /** Expected leaf message(s) by path, where the text matters. */
      readonly messages?: Record<string, string | RegExp>
    }

    const post = (name: string, body: () => unknown, codes: Codes, more: Partial<Scenario> = {}) =>
      ({ name, method: 'POST', body, codes, ...more }) as Scenario
    const patch = (
      name: string,
      target: string,
      body: () => unknown,
      codes: Codes,
      more: Partial<Scenario> = {},
    ) => ({ name, method: 'PATCH', target, body, codes, ...more }) as Scenario
    const imp = (name: string, body: () => unknown, codes: Codes, more: Partial<Scenario> = {}) =>
      ({ name, method: 'PUT', body, codes, ...more }) as Scenario
    /** A new base collection `fresh` with the given fields (the id field is prepended at index 0). */
    const fresh =
      (fields: Json[], extra: Json = {}) =>
      () => ({ name: 'fresh', fields, ...extra })
    const idx =
      (...indexes: unknown[]) =>
      () => ({ indexes })

    const scenarios: Scenario[] = [
      // ---- collection names
      post('empty name', () => ({ name: '' }), { name: 'validation_required' }),
      post('missing name', () => ({ type: 'base' }), { name: 'validation_required' }),
      post(
        'name with spaces',
        () => ({ name: 'my posts' }),
        { name: 'validation_collection_name_invalid' },
        { messages: { name: 'Invalid collection name.' } },
      ),
      post('name with a dash', () => ({ name: 'a-b' }), { name: 'validation_collection_name_invalid' }),
      post(
        `name of ${MAX_COLLECTION_NAME_LENGTH + 1} characters`,
        () => ({ name: longName(MAX_COLLECTION_NAME_LENGTH + 1) }),
        { name: 'validation_collection_name_invalid' },
      ),
      post('name containing _via_', () => ({ name: 'posts_via_author' }), {
        name: 'validation_collection_name_invalid',
      }),
      post('unicode name', () => ({ name: 'pöstß' }), { name: 'validation_collection_name_invalid' }),
      post('SQL in the name', () => ({ name: 'x"; DROP TABLE posts; --' }), {
        name: 'validation_collection_name_invalid',
      }),
      post('quote injection in the name', () => ({ name: "x' OR '1'='1" }), {
        name: 'validation_collection_name_invalid',
      }),
      post('name of another collection, other case', () => ({ name: 'POSTS' }), {
        name: 'validation_collection_name_exists',
      }),
      post('name of the users collection, other case', () => ({ name: 'Users' }), {
        name: 'validation_collection_name_exists',
      }),
      post('name of a system collection', () => ({ name: '_superusers' }), {
        name: 'validation_collection_name_exists',
      }),
      post(
        'internal table _collections',
        () => ({ name: '_collections' }),
        { name: 'validation_collection_name_invalid' },
        { messages: { name: 'The name is reserved.' } },
      ),
      post('internal table _params, other case', () => ({ name: '_PARAMS' }), {
        name: 'validation_collection_name_invalid',
      }),
      post('internal table _migrations', () => ({ name: '_migrations' }), {
        name: 'validation_collection_name_invalid',
      }),
      post('internal table _otpAttempts', () => ({ name: '_otpAttempts' }), {
        name: 'validation_collection_name_invalid',
      }),
      post('internal table _realtimeEvents, other case', () => ({ name: '_REALTIMEevents' }), {
        name: 'validation_collection_name_invalid',
      }),
      post('sqlite_master', () => ({ name: 'sqlite_master' }), {
        name: 'validation_collection_name_invalid',
      }),
      post('pg_class', () => ({ name: 'pg_class' }), { name: 'validation_collection_name_invalid' }),
      post("another collection's id as name", () => ({ name: USERS_ID }), {
        name: 'validation_collection_name_invalid',
      }),
      post('name is a number', () => ({ name: 123 }), { name: 'validation_invalid_value' }),
      post('unknown collection type', () => ({ name: 'fresh', type: 'table' }), {
        type: 'validation_in_invalid',
      }),
      post(
        'a view query without an id column',
        () => ({ name: 'fresh', type: 'view', viewQuery: 'SELECT 1' }),
        {
          viewQuery: 'validation_invalid_view_query',
        },
      ),
      post('invalid custom id', () => ({ name: 'fresh', id: 'bad id!' }), { id: 'validation_invalid_id' }),
      post('id of an existing collection', () => ({ name: 'fresh', id: USERS_ID }), {
        id: 'validation_collection_id_exists',
      }),

      // ---- field names and ids
      post('empty field name', fresh([textField('')]), { 'fields.1.name': 'validation_required' }),
      post('field name with spaces', fresh([textField('my field')]), {
        'fields.1.name': 'validation_field_name_invalid',
      }),
      post(
        `field name of ${MAX_FIELD_NAME_LENGTH + 1} characters`,
        fresh([textField(longName(MAX_FIELD_NAME_LENGTH + 1))]),
        { 'fields.1.name': 'validation_field_name_invalid' },
      ),
      post('field name is not a string', fresh([{ type: 'text', name: 42 }]), {
        'fields.0.name': 'validation_invalid_value',
      }),
      // The second derived id gets a suffix (PocketBase's FieldsList.add), so only the name clashes.
      post('id field twice', fresh([textField('id'), textField('id')]), {
        'fields.1.name': 'validation_duplicated_field_name',
      }),
      post('duplicate field names, other case', fresh([textField('Title'), textField('title')]), {
        'fields.2.name': 'validation_duplicated_field_name',
      }),
      post('reserved field name expand', fresh([textField('expand')]), {
        'fields.1.name': 'validation_reserved_field_name',
      }),
      post('reserved field name collectionId', fresh([textField('collectionId')]), {
        'fields.1.name': 'validation_reserved_field_name',
      }),
      post('reserved field name COLLECTIONNAME', fresh([textField('COLLECTIONNAME')]), {
        'fields.1.name': 'validation_reserved_field_name',
      }),
      post('reserved field name _rowid_', fresh([textField('_rowid_')]), {
        'fields.1.name': 'validation_reserved_field_name',
      }),
      post('reserved field name null', fresh([{ type: 'bool', name: 'null' }]), {
        'fields.1.name': 'validation_reserved_field_name',
      }),
      post('field name containing _via_', fresh([textField('a_via_b')]), {
        'fields.1.name': 'validation_reserved_field_name',
      }),
      post(
        'passwordConfirm on a new auth collection',
        fresh([textField('passwordConfirm')], { type: 'auth' }),
        {
          'fields.1.name': 'validation_reserved_field_name',
        },
      ),
      patch(
        'oldPassword added to an auth collection',
        'members',
        () => ({
          fields: [...membersFields, textField('oldPassword')],
        }),
        () => ({ [`fields.${membersFields.length}.name`]: 'validation_reserved_field_name' }),
      ),
      post('duplicate field ids', fresh([textField('a', { id: 'fdup' }), textField('b', { id: 'fdup' })]), {
        'fields.2.id': 'validation_duplicated_field_id',
      }),
      post('invalid field id', fresh([textField('a', { id: 'bad id' })]), {
        'fields.1.id': 'validation_invalid_field_id',
      }),
      post('unknown field type', fresh([{ type: 'blob', name: 'data' }]), {
        'fields.0.type': 'validation_invalid_field_type',
      }),
      post('missing field type', fresh([{ name: 'data' }]), {
        'fields.0.type': 'validation_invalid_field_type',
      }),
      post('field is not an object', fresh(['text'] as unknown as Json[]), {
        'fields.0': 'validation_invalid_value',
      }),
      post('fields is not an array', () => ({ name: 'fresh', fields: { 0: textField('a') } }), {
        fields: 'validation_invalid_value',
      }),
      post('only the id field may be a primary key', fresh([textField('a', { primaryKey: true })]), {
        'fields.1.primaryKey': 'validation_primary_key_not_id',
      }),

      // ---- field options
      post('text max as a string', fresh([textField('a', { max: '10' })]), {
        'fields.0.max': 'validation_invalid_value',
      }),
      post('text min negative', fresh([textField('a', { min: -1 })]), {
        'fields.0.min': 'validation_invalid_value',
      }),
      post('text max fractional', fresh([textField('a', { max: 1.5 })]), {
        'fields.0.max': 'validation_invalid_value',
      }),
      post('text min > max', fresh([textField('a', { min: 10, max: 5 })]), {
        'fields.1.max': 'validation_min_greater_equal_than_required',
      }),
      post('text bad regex pattern', fresh([textField('a', { pattern: '([a-z' })]), {
        'fields.1.pattern': 'validation_invalid_regex',
      }),
      post('text bad autogenerate pattern', fresh([textField('a', { autogeneratePattern: '*' })]), {
        'fields.1.autogeneratePattern': 'validation_invalid_regex',
      }),
      post('number min > max', fresh([{ type: 'number', name: 'n', min: 5, max: 1 }]), {
        'fields.1.max': 'validation_min_greater_equal_than_required',
      }),
      post('number min as a string', fresh([{ type: 'number', name: 'n', min: '1' }]), {
        'fields.0.min': 'validation_invalid_value',
      }),
      post(
        'number onlyInt with a decimal bound',
        fresh([{ type: 'number', name: 'n', onlyInt: true, max: 1.5 }]),
        {
          'fields.1.max': 'validation_only_int_constraint',
        },
      ),
      post('select without values', fresh([{ type: 'select', name: 's' }]), {
        'fields.1.values': 'validation_required',
      }),
      post('select with duplicate values', fresh([{ type: 'select', name: 's', values: ['a', 'a'] }]), {
        'fields.1.values': 'validation_duplicated_values',
      }),
      post('select values not strings', fresh([{ type: 'select', name: 's', values: [1, 2] }]), {
        'fields.0.values': 'validation_invalid_value',
      }),
      post(
        'select maxSelect above the values',
        fresh([{ type: 'select', name: 's', values: ['a'], maxSelect: 2 }]),
        {
          'fields.1.maxSelect': 'validation_max_less_equal_than_required',
        },
      ),
      post(
        'relation to a missing collection',
        fresh([{ type: 'relation', name: 'r', collectionId: 'nope' }]),
        {
          'fields.1.collectionId': 'validation_field_relation_missing_collection',
        },
      ),
      post(
        'relation by collection name instead of id',
        fresh([{ type: 'relation', name: 'r', collectionId: 'users' }]),
        {
          'fields.1.collectionId': 'validation_field_relation_missing_collection',
        },
      ),
      patch(
        'relation collectionId changed',
        'posts',
        () => ({
          fields: postsWith('author', { collectionId: ids.other }),
        }),
        () => ({ [`fields.${postsIndexOf('author')}.collectionId`]: 'validation_field_relation_change' }),
      ),
      post('file thumb 0x0', fresh([{ type: 'file', name: 'f', thumbs: ['0x0'] }]), {
        'fields.1.thumbs': 'validation_invalid_thumb_format',
      }),
      post('file thumb abc', fresh([{ type: 'file', name: 'f', thumbs: ['100x100', 'abc'] }]), {
        'fields.1.thumbs': 'validation_invalid_thumb_format',
      }),
      post('file bad mime type', fresh([{ type: 'file', name: 'f', mimeTypes: ['image'] }]), {
        'fields.1.mimeTypes': 'validation_invalid_mime_type',
      }),
      post('password cost 3', fresh([{ type: 'password', name: 'p', cost: 3 }]), {
        'fields.1.cost': 'validation_out_of_range',
      }),
      post('password min above bcrypt limit', fresh([{ type: 'password', name: 'p', min: 72 }]), {
        'fields.1.min': 'validation_max_less_equal_than_required',
      }),
      post(
        'autodate with both flags false',
        fresh([{ type: 'autodate', name: 'd', onCreate: false, onUpdate: false }]),
        {
          'fields.1.onUpdate': 'validation_required',
        },
      ),
      post(
        'email with only and except domains',
        fresh([{ type: 'email', name: 'e', onlyDomains: ['a.com'], exceptDomains: ['b.com'] }]),
        { 'fields.1.onlyDomains': 'validation_either_except_or_only' },
      ),
      post('url with an invalid domain', fresh([{ type: 'url', name: 'u', onlyDomains: ['not a domain'] }]), {
        'fields.1.onlyDomains': 'validation_invalid_domain',
      }),
      post('date min not a date', fresh([{ type: 'date', name: 'd', min: 'yesterday' }]), {
        'fields.1.min': 'validation_date_invalid',
      }),
      post('hidden is not a boolean', fresh([textField('a', { hidden: 'yes' })]), {
        'fields.0.hidden': 'validation_invalid_value',
      }),
      post(
        `help of ${MAX_HELP_LENGTH + 1} characters`,
        fresh([textField('a', { help: 'h'.repeat(MAX_HELP_LENGTH + 1) })]),
        {
          'fields.0.help': 'validation_length_too_long',
        },
      ),
      post(
        'max out of float range (1e309)',
        () => '',
        {
          'fields.0.max': 'validation_invalid_value',
        },
        { raw: () => '{"name":"fresh","fields":[{"type":"text","name":"a","max":1e309}]}' },
      ),

      // ---- changes of existing fields and collections
      patch(
        'field type change',
        'posts',
        () => ({ fields: postsWith('title', { type: 'number' }) }),
        () => ({
          [`fields.${postsIndexOf('title')}.type`]: 'validation_field_type_change',
        }),
      ),
      // The id field is re-created in front (PocketBase's initIdField), so the renamed one moves to 1.
      patch('system field renamed (id)', 'posts', () => ({ fields: postsWith('id', { name: 'pk' }) }), {
        'fields.1.name': 'validation_system_field_name_change',
        'fields.1.id': 'validation_duplicated_field_id',
        'fields.1.primaryKey': 'validation_primary_key_not_id',
      }),
      patch(
        'system auth field renamed (email)',
        'members',
        () => ({
          fields: membersFields.map((f) => (f.name === 'email' ? { ...f, name: 'mail' } : f)),
        }),
        // The missing email field is re-created at the end with its default id.
        () => ({
          [`fields.${membersFields.findIndex((f) => f.name === 'email')}.name`]:
            'validation_system_field_name_change',
          [`fields.${membersFields.length}.id`]: 'validation_duplicated_field_id',
        }),
      ),
      patch(
        'duplicate name by renaming',
        'posts',
        () => ({ fields: postsWith('body', { name: 'TITLE' }) }),
        () => ({
          [`fields.${postsIndexOf('body')}.name`]: 'validation_duplicated_field_name',
        }),
      ),
      patch('collection type change', 'posts', () => ({ type: 'auth' }), {
        type: 'validation_collection_type_change',
      }),
      patch('system collection renamed', '_superusers', () => ({ name: 'admins' }), {
        name: 'validation_collection_system_name_change',
      }),
      patch('system collection rule changed', '_superusers', () => ({ listRule: '' }), {
        listRule: 'validation_collection_system_rule_change',
      }),
      patch('rename to an existing name', 'posts', () => ({ name: 'Other' }), {
        name: 'validation_collection_name_exists',
      }),
      patch('rename to an invalid name', 'posts', () => ({ name: 'my posts' }), {
        name: 'validation_collection_name_invalid',
      }),
      patch('rename to a reserved name', 'posts', () => ({ name: '_params' }), {
        name: 'validation_collection_name_invalid',
      }),

      // ---- rules
      patch(
        'rule with a syntax error',
        'posts',
        () => ({ listRule: 'title =' }),
        { listRule: 'validation_invalid_rule' },
        { messages: { listRule: /^Invalid rule\. Raw error: .+/ } },
      ),
      patch('rule with unbalanced parentheses', 'posts', () => ({ viewRule: '((title = 1)' }), {
        viewRule: 'validation_invalid_rule',
      }),
      patch(
        `rule of ${MAX_RULE_LENGTH + 1} characters`,
        'posts',
        () => ({
          createRule: `title = '${'x'.repeat(MAX_RULE_LENGTH - 9)}'`,
        }),
        { createRule: 'validation_invalid_rule' },
      ),
      patch('rule is not a string', 'posts', () => ({ deleteRule: 1 }), {
        deleteRule: 'validation_invalid_value',
      }),
      patch(
        'manageRule empty string',
        'members',
        () => ({ manageRule: '' }),
        { manageRule: 'validation_nil_or_not_empty_required' },
        { messages: { manageRule: 'Cannot be blank.' } },
      ),
      patch('invalid mfa rule', 'members', () => ({ mfa: { rule: '&&' } }), {
        'mfa.rule': 'validation_invalid_rule',
      }),

      // ---- indexes
      patch(
        'index followed by DROP TABLE',
        'posts',
        idx('CREATE INDEX idx_x ON posts (title); DROP TABLE posts'),
        {
          'indexes.0': 'validation_invalid_index_expression',
        },
      ),
      patch('index with a line comment', 'posts', idx('CREATE INDEX idx_x ON posts (title) -- comment'), {
        'indexes.0': 'validation_invalid_index_expression',
      }),
      patch('index with a block comment', 'posts', idx('CREATE INDEX /* x */ idx_x ON posts (title)'), {
        'indexes.0': 'validation_invalid_index_expression',
      }),
      patch(
        'index with a subquery',
        'posts',
        idx('CREATE INDEX idx_x ON posts (title) WHERE title IN (SELECT name FROM sqlite_master)'),
        { 'indexes.0': 'validation_invalid_index_expression' },
      ),
      patch('index on a function', 'posts', idx('CREATE INDEX idx_x ON posts (lower(title))'), {
        'indexes.0': 'validation_invalid_index_expression',
      }),
      patch('index on an unknown column', 'posts', idx('CREATE INDEX idx_x ON posts (nope)'), {
        'indexes.0': 'validation_invalid_index_expression',
      }),
      patch(
        'index WHERE on an unknown column',
        'posts',
        idx("CREATE INDEX idx_x ON posts (title) WHERE nope = ''"),
        {
          'indexes.0': 'validation_invalid_index_expression',
        },
      ),
      patch(
        'index with an injected quoted name',
        'posts',
        idx('CREATE INDEX "x"" ON posts" ON posts (title)'),
        {
          'indexes.0': 'validation_invalid_index_expression',
        },
      ),
      patch(
        'duplicate index names',
        'posts',
        idx('CREATE INDEX idx_dup ON posts (title)', 'CREATE INDEX IDX_DUP ON posts (body)'),
        { 'indexes.1': 'validation_duplicated_index_name' },
      ),
      patch(
        'index name used by another collection',
        'posts',
        idx('CREATE INDEX idx_other_label ON posts (title)'),
        {
          'indexes.0': 'validation_existing_index_name',
        },
      ),
      patch(
        'duplicate index definition',
        'posts',
        idx('CREATE INDEX idx_a ON posts (title)', 'CREATE INDEX idx_b ON posts (`title`)'),
        { 'indexes.1': 'validation_duplicated_index_definition' },
      ),
      patch(
        `index of ${MAX_INDEX_LENGTH + 1} characters`,
        'posts',
        () => ({
          indexes: [indexOfLength(MAX_INDEX_LENGTH + 1)],
        }),
        { 'indexes.0': 'validation_invalid_index_expression' },
      ),
      patch(
        `${MAX_INDEXES + 1} indexes`,
        'posts',
        () => ({
          indexes: Array.from(
            { length: MAX_INDEXES + 1 },
            (_, i) => `CREATE INDEX idx_${i} ON posts (title)`,
          ),
        }),
        { indexes: 'validation_invalid_value' },
      ),
      patch(
        'index that grows past the limit once normalized',
        'posts',
        () => ({
          indexes: [unquoted(indexOfLength(MAX_INDEX_LENGTH + 8))],
        }),
        { 'indexes.0': 'validation_invalid_index_expression' },
        {
          messages: {
            'indexes.0': `Invalid index expression: longer than ${MAX_INDEX_LENGTH} characters once normalized.`,
          },
        },
      ),
      patch('indexes is not an array', 'posts', () => ({ indexes: 'CREATE INDEX idx_x ON posts (title)' }), {
        indexes: 'validation_invalid_value',
      }),
      patch('index is not a string', 'posts', idx({ name: 'idx_x' }), {
        indexes: 'validation_invalid_value',
      }),
      post(
        'index in a new collection on a missing column',
        () => ({
          name: 'fresh',
          fields: [textField('a')],
          indexes: ['CREATE INDEX idx_fresh ON fresh (b)'],
        }),
        { 'indexes.0': 'validation_invalid_index_expression' },
      ),

      // ---- auth options
      patch('token duration 5', 'members', () => ({ authToken: { duration: 5 } }), {
        'authToken.duration': 'validation_out_of_range',
      }),
      patch(
        'token secret of 10 characters',
        'members',
        () => ({ passwordResetToken: { secret: 's'.repeat(10) } }),
        {
          'passwordResetToken.secret': 'validation_length_out_of_range',
        },
      ),
      patch('token duration as a string', 'members', () => ({ fileToken: { duration: '60' } }), {
        'fileToken.duration': 'validation_invalid_value',
      }),
      patch('otp length 100', 'members', () => ({ otp: { length: 100 } }), {
        'otp.length': 'validation_out_of_range',
      }),
      patch('mfa duration 0', 'members', () => ({ mfa: { duration: 0 } }), {
        'mfa.duration': 'validation_out_of_range',
      }),
      patch('auth options not an object', 'members', () => ({ passwordAuth: true }), {
        passwordAuth: 'validation_invalid_value',
      }),
      patch(
        'identity field that does not exist',
        'members',
        () => ({
          passwordAuth: { enabled: true, identityFields: ['nope'] },
        }),
        { 'passwordAuth.identityFields.0': 'validation_missing_field' },
      ),
      patch(
        'identity field without a unique index',
        'members',
        () => ({
          passwordAuth: { enabled: true, identityFields: ['email', 'nick'] },
        }),
        { 'passwordAuth.identityFields.1': 'validation_missing_unique_constraint' },
      ),
      patch(
        'duplicate OAuth2 providers',
        'members',
        () => ({
          oauth2: {
            providers: [
              { name: 'google', clientId: 'a' },
              { name: 'google', clientId: 'b' },
            ],
          },
        }),
        { 'oauth2.providers.1.name': 'validation_duplicated_provider' },
      ),

      // ---- bodies
      post(
        'invalid JSON',
        () => '',
        {},
        { raw: () => '{"name": ', message: 'Failed to read the submitted data.' },
      ),
      post('array body', () => [], {}),
      patch('string body', 'posts', () => 'x', {}),
      post('null body', () => null, {}),
      post(
        'unsupported content type',
        () => '',
        {},
        {
          raw: () => 'name=x',
          contentType: 'text/plain',
          message: 'Unsupported Content-Type.',
        },
      ),
      post(
        '100k nested arrays',
        () => '',
        {},
        { raw: () => deepArrays(100_000), message: 'Failed to read the submitted data.' },
      ),
      post(
        `JSON nested ${MAX_JSON_DEPTH} deep is read`,
        () => '',
        { name: 'validation_collection_name_invalid' },
        { raw: () => `{"name":"a b","x":${deepArrays(MAX_JSON_DEPTH - 1)}}` },
      ),
      post(
        `JSON nested ${MAX_JSON_DEPTH + 1} deep is not`,
        () => '',
        {},
        {
          raw: () => `{"name":"a b","x":${deepArrays(MAX_JSON_DEPTH)}}`,
          message: 'Failed to read the submitted data.',
        },
      ),
      post(
        'brackets inside strings do not count as nesting',
        () => '',
        { name: 'validation_collection_name_invalid' },
        { raw: () => JSON.stringify({ name: 'a b', x: '[{\\"'.repeat(MAX_JSON_DEPTH + 1) }) },
      ),
      post(
        'a decode error hides validation (no shifted indexes)',
        fresh([textField('expand'), { type: 'text', name: 'a', min: '1' }]),
        { 'fields.1.min': 'validation_invalid_value' },
      ),
      post('auth collection with an invalid name', () => ({ name: 'a b', type: 'auth' }), {
        name: 'validation_collection_name_invalid',
      }),
      post(
        'invalid name with an index',
        () => ({ name: 'a b', fields: [textField('t')], indexes: ['CREATE INDEX i ON x (t)'] }),
        {
          name: 'validation_collection_name_invalid',
        },
      ),
      post(
        '100k nested objects in an OAuth2 provider',
        () => '',
        {},
        {
          raw: () =>
            `{"name":"fresh","type":"auth","oauth2":{"providers":[{"name":"google","clientId":"x","extra":${deepObject(100_000)}}]}}`,
          message: 'Failed to read the submitted data.',
        },
      ),
      post('10,000 fields', fresh(Array.from({ length: 10_000 }, (_, i) => textField(`f${i}`))), {
        fields: 'validation_invalid_value',
      }),
      post(
        `${MAX_FIELDS + 1} fields`,
        fresh(Array.from({ length: MAX_FIELDS + 1 }, (_, i) => textField(`f${i}`))),
        {
          fields: 'validation_invalid_value',
        },
      ),
      post(
        'prototype keys without a name',
        () => '',
        { name: 'validation_required' },
        {
          raw: () =>
            '{"__proto__":{"name":"polluted","type":"auth"},"constructor":{"prototype":{"polluted":true}}}',
        },
      ),
      patch(
        'prototype keys with a bad update',
        'posts',
        () => '',
        { fields: 'validation_invalid_value' },
        {
          raw: () => '{"__proto__":{"system":true,"name":"hijacked"},"fields":"x"}',
        },
      ),

      // ---- import
      imp('import without collections', () => ({}), { collections: 'validation_required' }),
      imp('import with an empty list', () => ({ collections: [] }), { collections: 'validation_required' }),
      imp('import of a non-object', () => ({ collections: ['x', { name: 'a b' }] }), {
        'collections.0': 'validation_invalid_value',
        'collections.1.name': 'validation_collection_name_invalid',
      }),
      imp(
        'import with a bad index on an existing collection',
        () => ({
          collections: [{ id: ids.posts, name: 'posts', indexes: ['CREATE INDEX x ON posts (nope)'] }],
        }),
        { 'collections.0.indexes.0': 'validation_invalid_index_expression' },
      ),
      imp(
        'import of two new collections with one name',
        () => ({
          collections: [
            { name: 'imp_a', fields: [textField('a')] },
            { name: 'IMP_A', fields: [textField('a')] },
          ],
        }),
        {
          'collections.0.name': 'validation_collection_name_exists',
          'collections.1.name': 'validation_collection_name_exists',
        },
      ),
      imp(
        'import that changes a system collection',
        () => ({
          collections: [{ id: 'pbc_3142635823', name: '_superusers', listRule: '' }],
        }),
        { 'collections.0.listRule': 'validation_collection_system_rule_change' },
      ),
      imp(
        'import errors keep the index of their input after a bad entry',
        () => ({
          collections: [
            { name: 'imp_c', fields: [{ type: 'blob', name: 'x' }] },
            'not a collection',
            { name: 'imp_d', fields: [textField('a', { pattern: '(' })] },
          ],
        }),
        {
          'collections.0.fields.0.type': 'validation_invalid_field_type',
          'collections.1': 'validation_invalid_value',
          'collections.2.fields.1.pattern': 'validation_invalid_regex',
        },
      ),
      imp(
        'import with a relation to a missing collection',
        () => ({
          collections: [{ name: 'imp_b', fields: [{ type: 'relation', name: 'r', collectionId: 'nope' }] }],
        }),
        { 'collections.0.fields.1.collectionId': 'validation_field_relation_missing_collection' },
      ),
    ]

    it(`has at least 60 scenarios (${scenarios.length})`, () => {
      expect(scenarios.length).toBeGreaterThanOrEqual(60)
    })

    for (const s of scenarios) {
      it(`${s.method} rejects: ${s.name}`, async () => {
        const path =
          s.method === 'POST'
            ? '/api/collections'
            : s.method === 'PUT'
              ? '/api/collections/import'
              : `/api/collections/${s.target!}`
        const raw = s.raw?.()
        const body = raw === undefined ? s.body?.() : undefined
        const r = await call(s.method, path, body, {
          ...(raw !== undefined && { raw }),
          ...(s.contentType && { type: s.contentType }),
        })
        const status = s.status ?? 400
        const message =
          s.message ??
          (s.method === 'POST' ? CREATE_FAILED : s.method === 'PATCH' ? UPDATE_FAILED : IMPORT_FAILED)
        expect(r.body, r.text).toEqual({ status, message, data: expect.any(Object) })
        expect(codesOf(r.body.data), r.text).toEqual(typeof s.codes === 'function' ? s.codes() : s.codes)
        for (const leaf of leavesOf(r.body.data)) {
          expect(Object.keys(leaf).sort()).toEqual(expect.arrayContaining(['code', 'message']))
          expect(leaf.message).toMatch(/^[A-Z].*[.!?]$/s)
        }
        for (const [p, m] of Object.entries(s.messages ?? {})) {
          const leaf = p.split('.').reduce<unknown>((o, k) => (o as Json)?.[k], r.body.data) as Json
          if (typeof m === 'string') expect(leaf?.message).toBe(m)
          else expect(leaf?.message).toMatch(m)
        }
        expect(await snapshot()).toEqual(baseline)
        expect(({} as Json).polluted).toBeUndefined()
        expect(({} as Json).system).toBeUndefined()
        expect(({} as Json).name).toBeUndefined()
      })
    }

    it('answers 413 to a body over the limit and stays unchanged', async () => {
      const r = await call('POST', '/api/collections', undefined, {
        raw: JSON.stringify({ name: 'fresh', help: 'x'.repeat(MAX_BODY_BYTES) }),
      })
      expect(r.body).toEqual({ status: 413, message: 'Request entity too large.', data: {} })
      expect(await snapshot()).toEqual(baseline)
    })

    it('answers 404 for PATCH of a missing collection', async () => {
      const r = await call('PATCH', '/api/collections/nope', { name: 'x' })
      expect(r.body).toEqual({ status: 404, message: "The requested resource wasn't found.", data: {} })
      expect(await snapshot()).toEqual(baseline)
    })

    // ---- multi-step changes that fail in the database roll back completely

    it('rolls back a rename whose new UNIQUE index fails on duplicate rows', async () => {
      const r = await call('PATCH', '/api/collections/posts', {
        fields: postsWith('title', { name: 'headline' }),
        indexes: [
          'CREATE INDEX idx_posts_headline ON posts (headline)',
          'CREATE UNIQUE INDEX idx_posts_body ON posts (body)',
        ],
      })
      expect(r.status, r.text).toBe(400)
      expect(r.body.message).toMatch(/^Failed to update collection\. Raw error: /)
      expect(r.body.data).toEqual({})
      expect(await snapshot()).toEqual(baseline)
      const columns = (await dialect().listColumns(db(), 'posts')).map((c) => c.name)
      expect(columns).toContain('title')
      expect(columns).not.toContain('headline')
      expect((await postsRows()).map((row) => row.title)).toEqual(['First', 'Second', 'Third'])
      expect((await dialect().listIndexes(db(), 'posts')).map((i) => i.name)).toEqual(['idx_posts_title'])
    })

    it('rolls back an import whose second collection fails in the database', async () => {
      const r = await call('PUT', '/api/collections/import', {
        collections: [
          {
            name: 'imp_new',
            fields: [textField('a')],
            indexes: ['CREATE INDEX idx_imp_new_a ON imp_new (a)'],
          },
          {
            id: ids.posts,
            name: 'posts_renamed',
            fields: postsWith('body', { name: 'content' }),
            indexes: ['CREATE UNIQUE INDEX idx_posts_content ON posts_renamed (content)'],
          },
        ],
      })
      expect(r.status, r.text).toBe(400)
      expect(r.body.message).toMatch(/^Failed to import collections\. Raw error: /)
      expect(r.body.data).toEqual({})
      expect(await snapshot()).toEqual(baseline)
      expect(await dialect().tableExists(db(), 'imp_new')).toBe(false)
      expect(await dialect().tableExists(db(), 'posts_renamed')).toBe(false)
      expect((await call('GET', '/api/collections/imp_new')).status).toBe(404)
    })

    // ---- limits at the limit are accepted (and limit+1 rejected above)

    describe('limits at the limit', () => {
      const created: string[] = []
      afterAll(async () => {
        for (const name of created.reverse()) await call('DELETE', `/api/collections/${name}`)
        expect(await snapshot()).toEqual(baseline)
      })
      /**
       * Creates a collection and reads its table by the full name. (PostgreSQL truncates identifiers
       * to 63 bytes consistently, so long names work through SQL but not through introspection.)
       */
      const accept = async (body: Json) => {
        const r = await call('POST', '/api/collections', body)
        expect(r.status, r.text.slice(0, 500)).toBe(200)
        const name = String(r.body.name)
        created.push(name)
        const count = await sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.id(name)}`.execute(db())
        expect(Number(count.rows[0]!.n)).toBe(0)
        return r.body
      }

      it(`collection name of ${MAX_COLLECTION_NAME_LENGTH} characters`, async () => {
        const c = await accept({ name: longName(MAX_COLLECTION_NAME_LENGTH) })
        expect(c.name).toBe(longName(MAX_COLLECTION_NAME_LENGTH))
      })

      it(`field name of ${MAX_FIELD_NAME_LENGTH} characters and help of ${MAX_HELP_LENGTH}`, async () => {
        const c = await accept({
          name: 'lim_field',
          fields: [textField(longName(MAX_FIELD_NAME_LENGTH), { help: 'h'.repeat(MAX_HELP_LENGTH) })],
        })
        const f = (c.fields as Json[])[1]!
        expect(f.name).toBe(longName(MAX_FIELD_NAME_LENGTH))
        expect(f.help).toBe('h'.repeat(MAX_HELP_LENGTH))
        const long = longName(MAX_FIELD_NAME_LENGTH)
        await sql`INSERT INTO ${sql.id('lim_field')} (${sql.id('id')}, ${sql.id(long)}) VALUES (${'r'.repeat(15)}, ${'v'})`.execute(
          db(),
        )
        const row = await sql<Json>`SELECT ${sql.id(long)} AS v FROM ${sql.id('lim_field')}`.execute(db())
        expect(row.rows).toEqual([{ v: 'v' }])
      })

      it('an auth collection with a 100-character id keeps its system index names within 63', async () => {
        const id = 'i'.repeat(100)
        const c = await accept({ id, name: 'lim_auth_id', type: 'auth' })
        expect(c.id).toBe(id)
        const names = (await dialect().listIndexes(db(), 'lim_auth_id')).map((i) => i.name)
        expect(names).toHaveLength(2)
        for (const n of names) expect(n.length).toBeLessThanOrEqual(63)
      })

      it(`${MAX_FIELDS} fields`, async () => {
        const fields = Array.from({ length: MAX_FIELDS - 1 }, (_, i) => textField(`f${i}`))
        const c = await accept({ name: 'lim_fields', fields })
        expect(c.fields).toHaveLength(MAX_FIELDS)
      })

      it(`${MAX_INDEXES} indexes`, async () => {
        const fields = Array.from({ length: MAX_INDEXES }, (_, i) => textField(`f${i}`))
        const indexes = fields.map((_, i) => `CREATE INDEX idx_lim_${i} ON lim_indexes (f${i})`)
        const c = await accept({ name: 'lim_indexes', fields, indexes })
        expect(c.indexes).toHaveLength(MAX_INDEXES)
        expect(await dialect().listIndexes(db(), 'lim_indexes')).toHaveLength(MAX_INDEXES)
      })

      it(`index statement of ${MAX_INDEX_LENGTH} characters, kept through later updates`, async () => {
        const statement = indexOfLength(MAX_INDEX_LENGTH, 'lim_index')
        const c = await accept({ name: 'lim_index', fields: [textField('title')], indexes: [statement] })
        expect(c.indexes).toEqual([statement])
        const again = await call('PATCH', '/api/collections/lim_index', { listRule: '' })
        expect(again.status, again.text.slice(0, 300)).toBe(200)
        expect(again.body.indexes).toEqual(c.indexes)
      })

      it(`rule of ${MAX_RULE_LENGTH} characters`, async () => {
        const rule = `title = '${'x'.repeat(MAX_RULE_LENGTH - 10)}'`
        expect(rule).toHaveLength(MAX_RULE_LENGTH)
        const c = await accept({ name: 'lim_rule', fields: [textField('title')], listRule: rule })
        expect(c.listRule).toBe(rule)
      })
    })

    it('ignores prototype keys on a successful create', async () => {
      const r = await call('POST', '/api/collections', undefined, {
        raw: JSON.stringify({ name: 'proto_ok', fields: [textField('t')] }).replace(
          '{',
          '{"__proto__":{"type":"auth","system":true,"listRule":""},"constructor":{"prototype":{"polluted":1}},',
        ),
      })
      expect(r.status, r.text).toBe(200)
      expect(r.body).toMatchObject({ name: 'proto_ok', type: 'base', system: false, listRule: null })
      expect(({} as Json).polluted).toBeUndefined()
      expect(({} as Json).type).toBeUndefined()
      expect((await call('DELETE', '/api/collections/proto_ok')).status).toBe(204)
      expect(await snapshot()).toEqual(baseline)
    })

    // Names are SQL identifiers limited to PostgreSQL's 63 bytes on both databases, so two names can
    // never collide after PostgreSQL's silent truncation and a schema moves between databases unchanged.
    it('refuses names longer than 63 characters on every database', async () => {
      const long = 'c'.repeat(64)
      const r = await call('POST', '/api/collections', { name: long, fields: [textField('f'.repeat(64))] })
      expect(r.status).toBe(400)
      expect(r.body.data).toMatchObject({
        name: { code: 'validation_collection_name_invalid' },
        fields: { 1: { name: { code: 'validation_field_name_invalid' } } },
      })
      expect(await snapshot()).toEqual(baseline)
    })

    // Not an error, as in PocketBase (initDefaultFields): a system field left out of `fields` is put
    // back with its id, so its column and data stay. Runs last: it moves `updated`.
    it('restores a system field left out of fields, keeping its column and data', async () => {
      const r = await call('PATCH', '/api/collections/posts', {
        fields: postsFields.filter((f) => f.name !== 'id'),
      })
      expect(r.status, r.text).toBe(200)
      const before = baseline.cached.find((c) => c.name === 'posts')!
      expect({ ...r.body, updated: '' }).toEqual({ ...before, updated: '' })
      expect(await dialect().listColumns(db(), 'posts')).toEqual((baseline.schema.posts as Json).columns)
      expect(await postsRows()).toEqual(baseline.rows)

      const email = membersFields.find((f) => f.name === 'email')!
      const m = await call('PATCH', '/api/collections/members', {
        fields: membersFields.filter((f) => f.name !== 'email'),
      })
      expect(m.status, m.text).toBe(200)
      expect((m.body.fields as Json[]).find((f) => f.name === 'email')).toEqual(email)
      expect(await dialect().listColumns(db(), 'members')).toEqual((baseline.schema.members as Json).columns)
    })

    it('never answered 5xx nor leaked internals', () => {
      expect(seen.length).toBeGreaterThan(100)
      for (const { what, reply } of seen) {
        expect(reply.status, what).toBeLessThan(500)
        if (reply.status >= 400) for (const leak of LEAKS) expect(reply.text, what).not.toMatch(leak)
      }
    })
  })
}

/**
 * Realtime access checks that go to the database (rules reading relations) judge the logged row
 * exactly as REST judges the stored one, and one subscriber cannot spoil an event for the others.
 * Regression tests for an independent review: SQLite type affinity and PostgreSQL's "C" collation
 * of the row image, an `expand` option over the planner's limits.
 */
import pg from 'pg'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStore, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import { PG_URL } from './helpers/pg.js'
import { call } from './helpers/rest.js'
import { rawStream, sleep, until } from './helpers/sse.js'

type Stream = Awaited<ReturnType<typeof rawStream>>
const subscribe = async (g: RunningGalley, s: Stream, topics: string[]) =>
  (await call(g.url, 'POST', '/api/realtime', undefined, { clientId: s.clientId, subscriptions: topics }))
    .status

/**
 * A guest subscribed to `notes` (rule `rule`, needing the database), a record REST hides from that
 * guest: no frame may carry it. `create` makes the categories and the record.
 */
async function neverDelivered(
  g: RunningGalley,
  rule: string,
  categoryField: { name: string; type: string },
  category: Record<string, unknown>,
  note: Record<string, unknown>,
) {
  const su = await g.asSuperuser()
  const cats = await su.collections.create({
    name: 'cats',
    type: 'base',
    listRule: '',
    viewRule: '',
    fields: [categoryField],
  })
  await su.collections.create({
    name: 'notes',
    type: 'base',
    listRule: rule,
    viewRule: rule,
    fields: [
      { name: 'n', type: 'number' },
      { name: 'title', type: 'text' },
      { name: 'cat', type: 'relation', collectionId: cats.id, maxSelect: 1 },
    ],
  })
  const cat = await su.collection('cats').create(category)
  const s = await rawStream(g.url)
  expect(await subscribe(g, s, ['notes'])).toBe(204)
  const hidden = await su.collection('notes').create({ ...note, cat: cat.id })
  // a record the guest may see, after it: once it arrives, the hidden one had its chance
  const visible = await su.collection('notes').create({ n: 1000, title: 'zzz', cat: cat.id })
  expect((await call(g.url, 'GET', `/api/collections/notes/records/${visible.id}`, undefined)).status).toBe(
    200,
  )
  expect((await call(g.url, 'GET', `/api/collections/notes/records/${hidden.id}`, undefined)).status).toBe(
    404,
  )
  await until(() => s.frames.some((f) => f.event === 'notes'), 'the visible record')
  await sleep(200)
  const ids = s.frames
    .filter((f) => f.event === 'notes')
    .map((f) => (JSON.parse(f.data!) as { record: { id: string } }).record.id)
  s.close()
  expect(ids).toEqual([visible.id])
}

describe('realtime access on SQLite', () => {
  let store: TestStore
  let g: RunningGalley
  beforeAll(async () => {
    store = await createStore('sqlite')
    g = await startGalley(store)
  })
  afterAll(async () => {
    await g?.close()
    await store?.cleanup()
  })

  it('the row image has the table columns affinity: 5 > "10" compares as numbers, as REST does', async () => {
    await neverDelivered(g, 'n > cat.code', { name: 'code', type: 'text' }, { code: '10' }, { n: 5 })
  })

  it("one subscriber's over-long expand is refused at subscribe and spoils nothing for the others", async () => {
    const su = await g.asSuperuser()
    const a = await su.collections.create({
      name: 'a',
      type: 'base',
      listRule: '',
      viewRule: '',
      fields: [{ name: 't', type: 'text' }],
    })
    const rel = (name: string) => ({ name, type: 'relation', collectionId: a.id, maxSelect: 1 })
    await su.collections.update('a', { fields: [...a.fields, rel('r1'), rel('r2'), rel('r3')] })
    const victim = await rawStream(g.url)
    const attacker = await rawStream(g.url)
    expect(await subscribe(g, victim, ['a'])).toBe(204)
    const r = ['r1', 'r2', 'r3']
    const paths = r.flatMap((x) => r.flatMap((y) => r.flatMap((z) => r.map((w) => `${x}.${y}.${z}.${w}`))))
    const topic = `a?options=${encodeURIComponent(JSON.stringify({ query: { expand: paths.join(',') } }))}`
    const refused = await call(g.url, 'POST', '/api/realtime', undefined, {
      clientId: attacker.clientId,
      subscriptions: [topic],
    })
    expect(refused.status).toBe(400)
    await su.collection('a').create({ t: 'after' })
    await until(() => victim.frames.some((f) => f.event === 'a'), 'the event at the other subscriber')
    victim.close()
    attacker.close()
  })
})

describe.skipIf(!PG_URL)('realtime access on PostgreSQL with a non-C default collation', () => {
  const name = `galley_t_icu_${process.pid}_${Date.now()}`
  const admin = () => new pg.Client({ connectionString: PG_URL })
  let store: TestStore
  let g: RunningGalley
  beforeAll(async () => {
    const c = admin()
    await c.connect()
    await c.query(
      `CREATE DATABASE ${name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`,
    )
    await c.end()
    const dir = mkdtempSync(join(tmpdir(), 'galley-icu-'))
    const url = new URL(PG_URL!)
    url.pathname = `/${name}`
    store = {
      kind: 'postgres',
      dir,
      dbUrl: url.toString(),
      async cleanup() {
        const c2 = admin()
        await c2.connect()
        await c2.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
        await c2.end()
        rmSync(dir, { recursive: true, force: true })
      },
    }
    g = await startGalley(store)
  })
  afterAll(async () => {
    await g?.close()
    await store?.cleanup()
  })

  it('the row image compares text by code point ("C"), as the stored columns do', async () => {
    // "Zebra" < "m" by code point (REST hides it); "Zebra" >= "m" in en-US
    await neverDelivered(
      g,
      'title >= "m" && cat.open = true',
      { name: 'open', type: 'bool' },
      { open: true },
      { title: 'Zebra', n: 1 },
    )
  })
})

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql, type CompiledQuery } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { silentLogger } from '../lib/logger.js'
import { CompiledWrites, MAX_WRITE_SHAPES } from './compiled-writes.js'
import type { Database } from './database.js'
import { openSqlite } from './open-sqlite.js'

let dir: string
let database: Database
/** Every SQL text the database ran, in order. */
let ran: string[]

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'galley-writes-'))
  database = await openSqlite({ dir, logger: silentLogger })
  ran = []
  const execute = database.db.executeQuery.bind(database.db)
  database.db.executeQuery = ((q: CompiledQuery) => {
    ran.push(q.sql)
    return execute(q)
  }) as typeof database.db.executeQuery
  await sql`CREATE TABLE t (id TEXT PRIMARY KEY, a TEXT, b INTEGER DEFAULT 7)`.execute(database.db)
  ran = []
})
afterEach(async () => {
  await database.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('CompiledWrites', () => {
  it('binds each write its own values to the SQL kept for its shape', async () => {
    const writes = new CompiledWrites()
    const owner = {}
    expect(await writes.insert(owner, database.db, 't', { id: '1', a: 'x', b: 1 }, ['id', 'a', 'b'])).toEqual(
      {
        id: '1',
        a: 'x',
        b: 1,
      },
    )
    expect(await writes.insert(owner, database.db, 't', { id: '2', a: 'y', b: 2 }, ['id', 'a', 'b'])).toEqual(
      {
        id: '2',
        a: 'y',
        b: 2,
      },
    )
    // an undefined value leaves its column out (its default applies), as Kysely does: another shape
    expect(
      await writes.insert(owner, database.db, 't', { id: '3', a: 'z', b: undefined }, ['id', 'b']),
    ).toEqual({
      id: '3',
      b: 7,
    })
    expect(await writes.update(owner, database.db, 't', { a: 'w' }, '1', ['id', 'a'])).toEqual({
      id: '1',
      a: 'w',
    })
    expect(await writes.update(owner, database.db, 't', { a: 'v' }, '2', ['id', 'a'])).toEqual({
      id: '2',
      a: 'v',
    })
    expect(await writes.update(owner, database.db, 't', { a: 'v' }, 'nope', ['id'])).toBeUndefined()
    // values travel as parameters: a value that looks like SQL stays a value
    const hostile = "x'); DROP TABLE t; --"
    await writes.insert(owner, database.db, 't', { id: '4', a: hostile, b: 1 }, ['id'])
    const rows = await sql<{ id: string; a: string }>`SELECT id, a FROM t ORDER BY id`.execute(database.db)
    expect(rows.rows).toEqual([
      { id: '1', a: 'w' },
      { id: '2', a: 'v' },
      { id: '3', a: 'z' },
      { id: '4', a: hostile },
    ])
    expect(ran).toHaveLength(7)
    // a shape is the columns written and returned: five here
    expect(new Set(ran).size).toBe(5)
  })

  it('builds every write anew for an executor with plugins (they see each query built)', async () => {
    const writes = new CompiledWrites()
    const owner = {}
    let seen = 0
    const withPlugin = database.db.withPlugin({
      transformQuery: (args) => {
        seen++
        return args.node
      },
      transformResult: async (args) => args.result,
    })
    for (let i = 0; i < 3; i++) await writes.insert(owner, withPlugin, 't', { id: `p${i}`, a: 'x' }, ['id'])
    expect(seen).toBe(3)
  })

  it('runs an expression among the values as built, never from a kept shape', async () => {
    const writes = new CompiledWrites()
    const owner = {}
    await writes.insert(owner, database.db, 't', { id: '1', a: sql`upper('x')`, b: 1 }, ['id', 'a'])
    const row = await writes.insert(owner, database.db, 't', { id: '2', a: sql`lower('Y')`, b: 2 }, [
      'id',
      'a',
    ])
    expect(row).toEqual({ id: '2', a: 'y' })
  })

  it(`keeps at most ${MAX_WRITE_SHAPES} shapes per owner; a shape past that still writes`, async () => {
    const writes = new CompiledWrites()
    const owner = {}
    const columns = Array.from({ length: MAX_WRITE_SHAPES + 1 }, (_, i) => `c${i}`)
    await sql
      .raw(`CREATE TABLE w (id TEXT PRIMARY KEY, ${columns.map((c) => `${c} TEXT`).join(', ')})`)
      .execute(database.db)
    // limit + 1 shapes: each a different single column
    for (const [i, c] of columns.entries())
      expect(await writes.insert(owner, database.db, 'w', { id: `r${i}`, [c]: 'v' }, ['id', c])).toEqual({
        id: `r${i}`,
        [c]: 'v',
      })
    const last = columns[MAX_WRITE_SHAPES]!
    expect(await writes.insert(owner, database.db, 'w', { id: 'again', [last]: 'w' }, ['id', last])).toEqual({
      id: 'again',
      [last]: 'w',
    })
  })
})

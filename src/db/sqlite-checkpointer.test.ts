import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { silentLogger } from '../lib/logger.js'
import type { Database } from './database.js'
import { openSqlite } from './open-sqlite.js'
import { FALLBACK_AUTOCHECKPOINT_PAGES, WAL_SIZE_LIMIT_BYTES } from './sqlite-checkpointer.js'

let dir: string
let database: Database

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'galley-checkpoint-'))
  database = await openSqlite({ dir, logger: silentLogger })
  await sql`CREATE TABLE t (id TEXT PRIMARY KEY, a TEXT)`.execute(database.db)
})
afterEach(async () => {
  await database.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('the SQLite checkpointer', () => {
  it('copies committed pages into the database file while the writer never checkpoints', async () => {
    const file = join(dir, 'data.db')
    const before = statSync(file).size
    // 600 commits of a page-sized row write about 2,400 WAL pages: far below the writer's own
    // checkpoint mark, so only the checkpointer can move them into data.db
    const row = 'x'.repeat(3000)
    for (let i = 0; i < 600; i++)
      await sql`INSERT INTO t (id, a) VALUES (${`k${i}`}, ${row})`.execute(database.db)
    expect(statSync(`${file}-wal`).size / 4096).toBeLessThan(FALLBACK_AUTOCHECKPOINT_PAGES)
    await expect.poll(() => statSync(file).size, { timeout: 5_000 }).toBeGreaterThan(before + 600 * 3000)
  })

  it('stops with the database', async () => {
    const other = await openSqlite({ dir: join(dir, 'other'), logger: silentLogger })
    const started = Date.now()
    await other.close()
    expect(Date.now() - started).toBeLessThan(1_500)
  })
})

describe('the WAL under steady writes', () => {
  it(`starts over at about ${FALLBACK_AUTOCHECKPOINT_PAGES} pages instead of growing, and its file is cut back`, async () => {
    const wal = join(dir, 'data.db-wal')
    const row = 'y'.repeat(1000)
    let most = 0
    const until = Date.now() + 3_000
    for (let i = 0; Date.now() < until; i++) {
      await sql`INSERT INTO t (id, a) VALUES (${`w${i}`}, ${row})`.execute(database.db)
      if (i % 100 === 0) most = Math.max(most, statSync(wal).size / 4096)
    }
    // a commit may cross the mark while the worker holds the checkpoint: a margin of a half
    expect(most).toBeGreaterThan(FALLBACK_AUTOCHECKPOINT_PAGES / 2)
    expect(most).toBeLessThan(FALLBACK_AUTOCHECKPOINT_PAGES * 1.5)
    // once the WAL starts over, its file is at most the limit
    await sql`INSERT INTO t (id, a) VALUES ('last', ${row})`.execute(database.db)
    expect(statSync(wal).size).toBeLessThanOrEqual(WAL_SIZE_LIMIT_BYTES + 4096 * 8)
  })
})

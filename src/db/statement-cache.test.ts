import BetterSqlite3 from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { withStatementCache } from './statement-cache.js'

describe('withStatementCache', () => {
  it('reuses the prepared statement of the same SQL text', () => {
    const db = withStatementCache(new BetterSqlite3(':memory:'))
    expect(db.prepare('SELECT 1 AS a')).toBe(db.prepare('SELECT 1 AS a'))
    expect(db.prepare('SELECT 2 AS a')).not.toBe(db.prepare('SELECT 1 AS a'))
  })

  it('forgets every statement after a schema change, so SELECT * sees new columns', () => {
    const db = withStatementCache(new BetterSqlite3(':memory:'))
    db.prepare('CREATE TABLE t (a TEXT)').run([])
    db.prepare('INSERT INTO t (a) VALUES (?)').run(['x'])
    const before = db.prepare('SELECT * FROM t')
    expect(before.all([])).toEqual([{ a: 'x' }])
    db.prepare("ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'y'").run([])
    const after = db.prepare('SELECT * FROM t')
    expect(after).not.toBe(before)
    expect(after.all([])).toEqual([{ a: 'x', b: 'y' }])
  })

  it('keeps at most `size` statements, dropping the least recently used', () => {
    const db = withStatementCache(new BetterSqlite3(':memory:'), 2)
    const one = db.prepare('SELECT 1')
    db.prepare('SELECT 2')
    expect(db.prepare('SELECT 1')).toBe(one) // now the most recent
    db.prepare('SELECT 3') // evicts SELECT 2
    expect(db.prepare('SELECT 1')).toBe(one)
    const two = db.prepare('SELECT 2')
    expect(db.prepare('SELECT 2')).toBe(two)
  })
})

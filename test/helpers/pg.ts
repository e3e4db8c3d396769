import { randomBytes } from 'node:crypto'
import pg from 'pg'

/** The PostgreSQL server of the test run; without it the PostgreSQL half of each suite is skipped. */
export const PG_URL = process.env.GALLEY_TEST_PG_URL

export const PG_SKIP_REASON =
  'PostgreSQL tests SKIPPED: set GALLEY_TEST_PG_URL (CI sets postgres://postgres@127.0.0.1:5432/test)'

if (!PG_URL && !process.env.GALLEY_PG_SKIP_WARNED) {
  process.env.GALLEY_PG_SKIP_WARNED = '1'
  console.warn(`\n*** ${PG_SKIP_REASON} ***\n`)
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

/** Creates a fresh database with a unique name; `drop()` removes it (terminating leftover sessions). */
export async function createPgDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  if (!PG_URL) throw new Error(PG_SKIP_REASON)
  const name = `galley_t_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  return {
    name,
    url: withDatabase(PG_URL, name),
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL })
      await c.connect()
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      } finally {
        await c.end()
      }
    },
  }
}

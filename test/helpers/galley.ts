import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import PocketBase from 'pocketbase'
import { createGalley, type Galley } from '../../src/app.js'
import { resolveConfig } from '../../src/cli/config.js'
import { createPgDatabase, PG_URL } from './pg.js'

export type DbKind = 'sqlite' | 'postgres'

/** The database kinds a suite runs on: SQLite always, PostgreSQL when GALLEY_TEST_PG_URL is set. */
export const DB_KINDS: { kind: DbKind; skip: boolean }[] = [
  { kind: 'sqlite', skip: false },
  { kind: 'postgres', skip: !PG_URL },
]

/** A data location for one test: a temp dir, plus a fresh PostgreSQL database for `postgres`. */
export interface TestStore {
  readonly kind: DbKind
  readonly dir: string
  readonly dbUrl: string | undefined
  cleanup(): Promise<void>
}

export async function createStore(kind: DbKind): Promise<TestStore> {
  const dir = mkdtempSync(join(tmpdir(), 'galley-test-'))
  const pgdb = kind === 'postgres' ? await createPgDatabase() : undefined
  return {
    kind,
    dir,
    dbUrl: pgdb?.url,
    async cleanup() {
      await pgdb?.drop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export interface RunningGalley {
  readonly galley: Galley
  readonly url: string
  /** An SDK client; `asSuperuser()` signs it in. */
  sdk(): PocketBase
  asSuperuser(): Promise<PocketBase>
  close(): Promise<void>
}

export const SU_EMAIL = 'admin@example.com'
export const SU_PASSWORD = 'correct horse battery'

/** Starts Galley in-process on a free loopback port over `store`, with one superuser. */
export async function startGalley(
  store: TestStore,
  opts: { superuser?: boolean } = {},
): Promise<RunningGalley> {
  const config = resolveConfig({ http: '127.0.0.1:0', dir: store.dir, db: store.dbUrl, logLevel: 'warn' }, {})
  const galley = await createGalley(config, pino({ level: process.env.GALLEY_TEST_LOG ?? 'error' }))
  if (opts.superuser !== false && !(await galley.superusers.exists(SU_EMAIL)))
    await galley.superusers.create(SU_EMAIL, SU_PASSWORD)
  const app = await galley.http()
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  const sdk = () => {
    const pb = new PocketBase(url)
    pb.autoCancellation(false)
    return pb
  }
  return {
    galley,
    url,
    sdk,
    async asSuperuser() {
      const pb = sdk()
      await pb.collection('_superusers').authWithPassword(SU_EMAIL, SU_PASSWORD)
      return pb
    },
    close: () => galley.close(),
  }
}

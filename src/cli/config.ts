import { isIP } from 'node:net'
import { resolve } from 'node:path'
import type { Durability } from '../db/index.js'

export interface GalleyConfig {
  readonly host: string
  readonly port: number
  /** The data directory: SQLite files, storage, backups. */
  readonly dir: string
  /** `postgres://…`; undefined for SQLite in `dir`. */
  readonly dbUrl: string | undefined
  readonly durability: Durability
  readonly origins: readonly string[]
  readonly logLevel: string
}

export const DEFAULTS = { http: '127.0.0.1:8090', dir: './galley_data' } as const

/** A configuration problem: start-up stops with this one line and exit code 2. */
export class ConfigError extends Error {}

export interface RawConfig {
  http?: string | undefined
  dir?: string | undefined
  db?: string | undefined
  durability?: string | undefined
  origins?: string | undefined
  logLevel?: string | undefined
}

function parseHttp(value: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:\s]*):(\d{1,5})$/.exec(value)
  if (!m) throw new ConfigError(`invalid --http "${value}": expected host:port, e.g. 127.0.0.1:8090`)
  const host = m[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0'
  const port = Number(m[2])
  // Port 0 asks the OS for a free port (tests); the address actually bound is printed at start.
  if (port > 65_535) throw new ConfigError(`invalid --http "${value}": port must be 0-65535`)
  if (isIP(host) === 0 && !/^[a-zA-Z0-9.-]{1,253}$/.test(host))
    throw new ConfigError(`invalid --http "${value}": bad host`)
  return { host, port }
}

function parseDbUrl(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined
  let u: URL
  try {
    u = new URL(value)
  } catch {
    throw new ConfigError(`invalid --db "${value}": expected postgres://user@host:port/database`)
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:')
    throw new ConfigError(
      `invalid --db: only postgres:// URLs are supported (SQLite is the default when --db is not given)`,
    )
  return value
}

/** Flags win over environment variables (`GALLEY_HTTP`, `GALLEY_DIR`, `GALLEY_DB_URL`, ...), which win over defaults. */
export function resolveConfig(flags: RawConfig, env: NodeJS.ProcessEnv): GalleyConfig {
  const { host, port } = parseHttp(flags.http ?? env.GALLEY_HTTP ?? DEFAULTS.http)
  const dir = flags.dir ?? env.GALLEY_DIR ?? DEFAULTS.dir
  if (dir.trim() === '') throw new ConfigError('invalid --dir: must not be empty')
  const durability = flags.durability ?? env.GALLEY_DURABILITY ?? 'normal'
  if (durability !== 'normal' && durability !== 'full')
    throw new ConfigError(`invalid --durability "${durability}": expected normal or full`)
  const origins = (flags.origins ?? env.GALLEY_ORIGINS ?? '*')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean)
  const logLevel = flags.logLevel ?? env.GALLEY_LOG_LEVEL ?? 'info'
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel))
    throw new ConfigError(`invalid --log-level "${logLevel}"`)
  return {
    host,
    port,
    dir: resolve(dir),
    dbUrl: parseDbUrl(flags.db ?? env.GALLEY_DB_URL),
    durability,
    origins: origins.length > 0 ? origins : ['*'],
    logLevel,
  }
}

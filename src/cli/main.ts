import { parseArgs } from 'node:util'
import { createGalley, type Galley } from '../app.js'
import { isGalleyError } from '../lib/index.js'
import { ConfigError, resolveConfig, type RawConfig } from './config.js'

const VERSION = '0.1.0'

const USAGE = `Galley ${VERSION}: a PocketBase-compatible backend on SQLite or PostgreSQL.

Usage:
  galley serve [--http 127.0.0.1:8090] [--dir ./galley_data] [--db postgres://...]
  galley superuser upsert EMAIL PASSWORD
  galley superuser create EMAIL PASSWORD
  galley superuser delete EMAIL
  galley superuser install-link   print a new first-run link to the dashboard (30 minutes)

Options (each also as an environment variable):
  --http HOST:PORT        GALLEY_HTTP        address to listen on (default 127.0.0.1:8090)
  --dir PATH              GALLEY_DIR         data directory (default ./galley_data)
  --db URL                GALLEY_DB_URL      PostgreSQL URL; SQLite in --dir when absent
  --durability MODE       GALLEY_DURABILITY  SQLite sync: normal (default) or full
  --origins LIST          GALLEY_ORIGINS     CORS origins, comma separated (default *)
  --log-level LEVEL       GALLEY_LOG_LEVEL   fatal|error|warn|info|debug (default info)
`

const OPTIONS = {
  http: { type: 'string' },
  dir: { type: 'string' },
  db: { type: 'string' },
  durability: { type: 'string' },
  origins: { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const

async function serve(galley: Galley): Promise<void> {
  const { config, logger } = galley
  let closing = false
  const shutdown = (signal: string) => {
    if (closing) {
      logger.warn('second signal: exiting now')
      process.exit(1)
    }
    closing = true
    logger.info({ signal }, 'shutting down: draining requests')
    galley.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
  const app = await galley.http()
  await app.listen({ host: config.host, port: config.port })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : config.port
  const url = baseUrl(config.host, port)
  const db = config.dbUrl
    ? `PostgreSQL ${new URL(config.dbUrl).host}${new URL(config.dbUrl).pathname}`
    : `SQLite in ${config.dir}`
  console.log(
    `Galley ${VERSION} serving on ${url} (${db})\n  REST API:  ${url}/api/\n  Dashboard: ${url}/_/\n  Health:    ${url}/api/health`,
  )
  // (a superuser created meanwhile, by another instance or the CLI, only means no link to print)
  const link = (await galley.superusers.count()) === 0 ? await installLink(galley, url).catch(() => '') : ''
  if (link)
    console.log(
      `  No superuser yet. Create the first one in the dashboard (this link works for 30 minutes):\n` +
        `  ${link}\n` +
        '  (a new link: npx galley superuser install-link; or: npx galley superuser upsert EMAIL PASSWORD)',
    )
}

/** The address to print: a wildcard bind is reached on the loopback address. */
function baseUrl(bound: string, port: number): string {
  const host = bound === '0.0.0.0' ? '127.0.0.1' : bound === '::' ? '::1' : bound
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
}

async function installLink(galley: Galley, url: string): Promise<string> {
  return `${url}/_/#/install/${await galley.installer.token()}`
}

async function superuser(galley: Galley, args: string[]): Promise<number> {
  const [action, email, password] = args
  try {
    if (action === 'upsert' && email && password) {
      const r = await galley.superusers.upsert(email, password)
      console.log(`Superuser ${email} ${r}.`)
    } else if (action === 'create' && email && password) {
      await galley.superusers.create(email, password)
      console.log(`Superuser ${email} created.`)
    } else if (action === 'install-link' && !email) {
      console.log(await installLink(galley, baseUrl(galley.config.host, galley.config.port)))
    } else if (action === 'delete' && email) {
      const deleted = await galley.superusers.delete(email)
      console.log(deleted ? `Superuser ${email} deleted.` : `No superuser ${email}.`)
    } else {
      console.error(
        'usage: galley superuser upsert|create EMAIL PASSWORD, galley superuser delete EMAIL, or galley superuser install-link',
      )
      return 2
    }
    return 0
  } catch (err) {
    if (!isGalleyError(err)) throw err
    const details = Object.entries(err.data).map(
      ([k, v]) => `${k}: ${(v as { message?: string }).message ?? ''}`,
    )
    console.error([err.message, ...details].join(' '))
    return 1
  }
}

export async function main(argv: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (err) {
    console.error(`galley: ${(err as Error).message}`)
    return 2
  }
  const { values, positionals } = parsed
  if (values.version) {
    console.log(VERSION)
    return 0
  }
  const [command, ...rest] = positionals
  if (values.help || !command) {
    console.log(USAGE)
    return command || values.help ? 0 : 2
  }
  if (command !== 'serve' && command !== 'superuser') {
    console.error(`galley: unknown command "${command}" (try galley --help)`)
    return 2
  }
  const raw: RawConfig = {
    http: values.http,
    dir: values.dir,
    db: values.db,
    durability: values.durability,
    origins: values.origins,
    logLevel: values['log-level'] ?? (command === 'superuser' ? 'warn' : undefined),
  }
  let galley: Galley
  let dbUrl: string | undefined
  try {
    const config = resolveConfig(raw, process.env)
    dbUrl = config.dbUrl
    galley = await createGalley(config)
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`galley: ${err.message}`)
      return 2
    }
    // Name the database: driver messages alone ("Connection terminated unexpectedly" for a
    // connect timeout, "connect ECONNREFUSED …") do not say what could not be reached.
    const where = dbUrl ? `PostgreSQL ${new URL(dbUrl).host}${new URL(dbUrl).pathname}: ` : ''
    const message = (err as Error).message?.split('\n')[0] || String(err)
    console.error(`galley: cannot start: ${where}${message}`)
    return 1
  }
  if (command === 'serve') {
    try {
      await serve(galley)
    } catch (err) {
      console.error(`galley: cannot serve: ${(err as Error).message}`)
      await galley.close().catch(() => {})
      return 1
    }
    return -1 // keeps running until a signal
  }
  const code = await superuser(galley, rest)
  await galley.close()
  return code
}

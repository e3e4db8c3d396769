import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { pino, type Logger } from 'pino'
import {
  AuthService,
  hashPassword,
  otpAttemptsMigration,
  SuperuserInstaller,
  SuperuserService,
  verifyPassword,
} from './auth/index.js'
import type { GalleyConfig } from './cli/config.js'
import { openDatabase, runMigrations, systemTablesMigration, type Database } from './db/index.js'
import { FileStoreSelector, FileSweeper, LocalFileStore, sweepOrphanFiles } from './files/index.js'
import { buildHttpServer } from './http/index.js'
import { MailService } from './mail/index.js'
import { RealtimeService, realtimeEventsMigration } from './realtime/index.js'
import { RecordService } from './records/index.js'
import { ruleCompileError } from './rules/index.js'
import { CollectionService, systemCollectionsMigration } from './schema/index.js'
import { SettingsService } from './settings/index.js'

/** How long shutdown lets in-flight requests finish before closing their connections. */
const SHUTDOWN_GRACE_MS = 10_000
/** How long shutdown waits for each later step (realtime queue, sweeps, the database). */
const SHUTDOWN_STEP_MS = 10_000

/** How long shutdown waits for background mails before closing the SMTP connections. */
const MAIL_DRAIN_MS = 5000

export interface Galley {
  readonly config: GalleyConfig
  readonly logger: Logger
  readonly database: Database
  readonly collections: CollectionService
  readonly settings: SettingsService
  readonly auth: AuthService
  readonly records: RecordService
  readonly superusers: SuperuserService
  /** First-run links: a token that creates the first superuser. */
  readonly installer: SuperuserInstaller
  readonly mail: MailService
  readonly realtime: RealtimeService
  /** Builds the HTTP server (not listening). */
  http(): Promise<FastifyInstance>
  close(): Promise<void>
}

/** The composition root: config -> database -> migrations -> services. Transports come on top. */
export async function createGalley(config: GalleyConfig, logger?: Logger): Promise<Galley> {
  const log = logger ?? pino({ level: config.logLevel })
  const database = await openDatabase({
    url: config.dbUrl,
    dir: config.dir,
    durability: config.durability,
    logger: log,
  })
  try {
    const collections = new CollectionService(database, log, {
      validateRule: (rule, collection, all) => ruleCompileError(rule, collection, all, database.dialect),
    })
    const settings = new SettingsService(database, log)
    const applied = await runMigrations(database, [
      systemTablesMigration,
      systemCollectionsMigration(collections),
      otpAttemptsMigration,
      realtimeEventsMigration,
    ])
    if (applied.length > 0) log.info({ migrations: applied }, 'applied migrations')
    await collections.start()
    await settings.start()
    const superusers = new SuperuserService(database, collections)
    const installer = new SuperuserInstaller(superusers)
    const realtime = new RealtimeService({ database, collections, logger: log })
    const records = new RecordService(
      database,
      collections,
      { hash: hashPassword, verify: verifyPassword },
      log,
      realtime.committed,
    )
    records.useCommittingListener(realtime.committing, realtime.inline)
    await realtime.start(records)
    // Record files live under <dir>/storage whichever database holds the records (§10.1), or in
    // the S3 bucket of settings.s3 when it is enabled: chosen again for each operation, so a
    // settings change applies to the next request.
    const uploadDir = join(config.dir, 'upload_tmp')
    const fileStores = new FileStoreSelector({
      local: new LocalFileStore(join(config.dir, 'storage')),
      settings: () => settings.get().s3,
      tempDir: uploadDir,
      logger: log,
    })
    records.useFileStore(() => fileStores.current())
    const fileSweeper = new FileSweeper(
      () => sweepOrphanFiles(database, collections, fileStores.current(), uploadDir),
      log,
    )
    const mail = new MailService(settings, log)
    const auth = new AuthService({ database, collections, records, settings, mail, logger: log })
    auth.sweeper.start()
    fileSweeper.start()
    let server: FastifyInstance | undefined
    return {
      config,
      logger: log,
      database,
      collections,
      settings,
      auth,
      records,
      superusers,
      installer,
      mail,
      realtime,
      async http() {
        server ??= await buildHttpServer({
          database,
          collections,
          settings,
          auth,
          records,
          mail,
          realtime,
          installer,
          logger: log,
          origins: config.origins,
          uploadDir,
        })
        return server
      },
      async close() {
        // Stop accepting and drain in-flight requests first, then stop listeners, then the database.
        // A connection that never finishes a request (a client that opened a socket and sent
        // nothing, a stalled upload) cannot hold the shutdown past the grace period.
        if (server) {
          const s = server
          const force = setTimeout(() => s.server.closeAllConnections(), SHUTDOWN_GRACE_MS)
          try {
            await s.close()
          } finally {
            clearTimeout(force)
          }
        }
        // Each later step is bounded too: one that does not finish is logged by name, and the
        // shutdown goes on (a stuck step must not keep the process alive).
        const step = async (name: string, work: Promise<unknown>) => {
          let timer: NodeJS.Timeout | undefined
          const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), SHUTDOWN_STEP_MS)))
          const outcome = await Promise.race([work.then(() => 'done' as const), late])
          clearTimeout(timer)
          if (outcome === 'late')
            log.error({ step: name, waitedMs: SHUTDOWN_STEP_MS }, 'shutdown step did not finish')
        }
        // the writes already committed are logged and delivered before the database closes
        await step('realtime', realtime.stop())
        await step('auth sweeper', auth.sweeper.stop())
        await step('file sweeper', fileSweeper.stop())
        fileStores.close()
        await step('otp', auth.otp.idle())
        await mail.idle(MAIL_DRAIN_MS)
        mail.close()
        collections.stop()
        settings.stop()
        await step('database', database.close())
      },
    }
  } catch (err) {
    await database.close().catch(() => {})
    throw err
  }
}

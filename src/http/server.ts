import cors from '@fastify/cors'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { AuthService, SuperuserInstaller } from '../auth/index.js'
import type { Database } from '../db/index.js'
import type { MailService } from '../mail/index.js'
import type { RealtimeService } from '../realtime/index.js'
import type { RecordService } from '../records/index.js'
import { ThumbGenerator } from '../files/index.js'
import { MAX_BODY_BYTES, notFound } from '../lib/index.js'
import type { CollectionService } from '../schema/index.js'
import type { SettingsService } from '../settings/index.js'
import { registerBodyParsers } from './body.js'
import { BruteForceGuard, registerBruteForce } from './brute-force.js'
import { registerClientIp } from './client-ip.js'
import { toGalleyError } from './errors.js'
import { registerFieldsPicker } from './fields-picker.js'
import { superuserIpCheck } from './superuser-ips.js'
import './guards.js'
import { RateLimiter } from './rate-limit.js'
import { authRoutes } from './routes/auth.js'
import { oauth2Routes } from './routes/auth-oauth2.js'
import { oauth2RedirectRoutes } from './routes/oauth2-redirect.js'
import { authMailFlowRoutes } from './routes/auth-mail-flows.js'
import { impersonateRoutes } from './routes/auth-impersonate.js'
import { otpRoutes } from './routes/otp.js'
import { batchRoutes } from './routes/batch.js'
import { collectionRoutes } from './routes/collections.js'
import { healthRoutes } from './routes/health.js'
import { realtimeRoutes } from './routes/realtime.js'
import { realtimeWsRoutes, registerWebsocket, type WsOptions } from './routes/realtime-ws.js'
import { recordRoutes } from './routes/records.js'
import { fileRoutes } from './routes/files.js'
import { recordUploads } from './uploads.js'
import { settingsRoutes } from './routes/settings.js'
import { adminRoutes } from './routes/admin-ui.js'
import { installRoutes } from './routes/install.js'
import { ruleCheckRoutes } from './routes/rules-check.js'

export interface HttpOptions {
  readonly database: Database
  readonly collections: CollectionService
  readonly settings: SettingsService
  readonly auth: AuthService
  readonly records: RecordService
  readonly mail: MailService
  readonly realtime: RealtimeService
  readonly installer: SuperuserInstaller
  readonly logger: FastifyBaseLogger
  /** Allowed CORS origins; `['*']` (the default) allows any. */
  readonly origins?: readonly string[]
  readonly bodyLimit?: number
  /** Where record create/update keep uploaded files until saved; without it uploads are refused. */
  readonly uploadDir?: string | undefined
  /** Timings and bounds of realtime WebSocket connections (tests shorten them). */
  readonly realtimeWs?: WsOptions
}

/**
 * PocketBase's security headers (§1.5) plus v0.40's opener policy, set once per response. No CSP here
 * (an API; the dashboard sets its own), no HSTS on plain http, no CORP (apps embed files from other
 * origins). `X-XSS-Protection: 0` rather than PocketBase's `1; mode=block`: browsers removed the XSS
 * auditor and OWASP advises disabling it, as helmet does.
 */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'x-xss-protection': '0',
  'cross-origin-opener-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
} as const

/** The Fastify app: cross-cutting concerns here, one encapsulated plugin per domain. */
export async function buildHttpServer(opts: HttpOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit ?? MAX_BODY_BYTES,
    // Collection names may be 255 characters, record ids and file names long too.
    routerOptions: { maxParamLength: 2048 },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    requestTimeout: 0,
  })

  registerBodyParsers(app, opts.uploadDir ? recordUploads(opts.collections, opts.uploadDir) : undefined)

  const origins = opts.origins ?? ['*']
  await app.register(cors, {
    origin: origins.includes('*') ? '*' : [...origins],
    methods: ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE'],
  })

  // On close, Node ends only the connections idle at that moment: a keep-alive connection still
  // busy would stay open after its response until keepAliveTimeout (72 s) and hold the shutdown.
  // Responses sent while closing therefore end their connection.
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) reply.header('connection', 'close')
    done(null, payload)
  })

  // One hook per request for what every request needs: the security headers and the actor. It is
  // callback-style and resolves the actor only when a token is sent (most guest traffic has none).
  // PocketBase's rate limiter (§1.6) runs in it too, once the actor is known.
  app.decorateRequest('actor', undefined)
  registerClientIp(app, opts.settings)
  const limiter = new RateLimiter(opts.settings, opts.collections)
  const superuserIp = superuserIpCheck(opts.settings)
  app.addHook('onRequest', (req, reply, done) => {
    reply.headers(SECURITY_HEADERS)
    const header = req.headers.authorization
    if (!header) return done(superuserIp(req) ?? limiter.check(req))
    opts.auth.resolveActor(header).then(
      (actor) => {
        req.actor = actor
        done(superuserIp(req) ?? limiter.check(req))
      },
      (err: unknown) => {
        // The health check must answer while the database is away, token or not (PocketBase's
        // dashboard sends one): it then sees a guest, as PocketBase does on any token failure.
        if (req.routeOptions.url !== '/api/health') return done(err as Error)
        req.log.debug({ err: (err as Error).message }, 'health check: actor not resolved')
        done()
      },
    )
  })

  registerFieldsPicker(app)
  // Before the routes: it attaches itself to the credential-checking ones as they are added.
  registerBruteForce(app, new BruteForceGuard(opts.settings), opts.collections)

  // While the database is down every request fails the same way: one warning a second, not thousands.
  let unavailableSince = 0
  let unavailableCount = 0
  app.setErrorHandler((err, req, reply) => {
    const e = toGalleyError(err, opts.database.dialect)
    if (e.code === 'UNAVAILABLE') {
      unavailableCount++
      const now = Date.now()
      if (now - unavailableSince >= 1000) {
        req.log.warn(
          { err: (err as Error).message, failed: unavailableCount },
          'database or file storage unavailable: answering 503',
        )
        unavailableSince = now
        unavailableCount = 0
      }
    } else if (e.status >= 500) req.log.error({ err, url: req.url, method: req.method }, 'request failed')
    else req.log.debug({ err: (err as Error).message, url: req.url }, 'request rejected')
    return reply.status(e.status).send(e.wireBody())
  })
  app.setNotFoundHandler((_req, reply) => reply.status(404).send(notFound().toJSON()))

  // Before the routes: every upgrade request goes through it, whichever path it asks for.
  await registerWebsocket(app, opts.realtimeWs?.closeGraceMs)
  await app.register(healthRoutes)
  await app.register(collectionRoutes(opts.collections))
  await app.register(recordRoutes(opts.records))
  await app.register(fileRoutes(opts.database, opts.records, opts.auth, new ThumbGenerator({}, opts.logger)))
  await app.register(authRoutes(opts.auth))
  await app.register(oauth2Routes(opts.auth))
  await app.register(authMailFlowRoutes(opts.auth))
  await app.register(impersonateRoutes(opts.auth))
  await app.register(otpRoutes(opts.auth))
  await app.register(settingsRoutes(opts.settings))
  await app.register(batchRoutes(opts.database, opts.settings, opts.records, limiter))
  await app.register(realtimeRoutes(opts.realtime))
  await app.register(installRoutes(opts.installer))
  await app.register(ruleCheckRoutes(opts.collections))
  await app.register(adminRoutes())
  await app.register(
    realtimeWsRoutes(opts.realtime, opts.auth, opts.database.dialect, {
      origins,
      ...opts.realtimeWs,
    }),
  )
  await app.register(oauth2RedirectRoutes(opts.realtime))
  return app
}

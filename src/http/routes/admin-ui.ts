import { readdirSync, readFileSync, statSync } from 'node:fs'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { notFound } from '../../lib/index.js'

/** The dashboard's build folder (`npm run build` writes it); the same path from src/ and dist/. */
export const ADMIN_UI_DIR = fileURLToPath(new URL('../../../packages/admin-ui/dist/', import.meta.url))

/** The build is a few hundred KB; a folder much larger than this is not the dashboard. */
const MAX_FILES = 500
const MAX_TOTAL_BYTES = 20 * 1024 * 1024

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
}

/**
 * The dashboard page's policy: its own scripts and styles only (Vite emits no inline code), the
 * API on the same origin, images from the API's files and local previews (blob:), never framed.
 */
export const ADMIN_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

interface StaticFile {
  readonly body: Buffer
  readonly type: string
  /** Vite's content-hashed files under assets/ never change under their name. */
  readonly immutable: boolean
}

/**
 * Reads the build folder into memory: a request can only ever get one of these files, looked up by
 * exact name, so no request path reaches the file system (no traversal, no symlinks followed out).
 */
function loadBuild(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>()
  let total = 0
  const walk = (rel: string, depth: number) => {
    if (depth > 4) return
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const name = rel ? `${rel}/${entry.name}` : entry.name
      if (entry.isDirectory()) walk(name, depth + 1)
      else if (entry.isFile() && /^[\w./-]+$/.test(name) && !name.split('/').some((s) => s.startsWith('.'))) {
        const size = statSync(join(dir, name)).size
        total += size
        if (files.size >= MAX_FILES || total > MAX_TOTAL_BYTES)
          throw new Error(`${dir} is too large to be the dashboard build`)
        const type = CONTENT_TYPES[extname(name)] ?? 'application/octet-stream'
        files.set(name, { body: readFileSync(join(dir, name)), type, immutable: name.startsWith('assets/') })
      }
    }
  }
  try {
    walk('', 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map()
    throw err
  }
  return files
}

function send(reply: FastifyReply, file: StaticFile) {
  reply.header('content-type', file.type)
  reply.header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
  if (file.type.startsWith('text/html')) reply.header('content-security-policy', ADMIN_CSP)
  return reply.send(file.body)
}

/**
 * The dashboard at `/_/` (a static single-page app with hash routes), `/_` redirecting to it. Files
 * are read once at start-up; when the build is missing, the page says how to make it and the
 * folder is looked at again (at most once a second) so a later build is picked up.
 */
export function adminRoutes(dir: string = ADMIN_UI_DIR) {
  return async (app: FastifyInstance): Promise<void> => {
    let files = loadBuild(dir)
    let checkedAt = Date.now()
    const current = () => {
      if (files.size === 0 && Date.now() - checkedAt >= 1000) {
        files = loadBuild(dir)
        checkedAt = Date.now()
      }
      return files
    }
    app.get('/_', async (_req, reply) => reply.redirect('/_/', 301))
    app.get('/_/*', async (req, reply) => {
      const path = (req.params as { '*': string })['*']
      const build = current()
      const index = build.get('index.html')
      if (path === '' || path === 'index.html') {
        if (index) return send(reply, index)
        return reply
          .status(503)
          .type('text/plain; charset=utf-8')
          .header('cache-control', 'no-cache')
          .send('The dashboard is not built: run `npm run build` in the Galley folder, then reload.\n')
      }
      const file = build.get(path)
      if (!file) throw notFound()
      return send(reply, file)
    })
  }
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Database } from '../../db/index.js'
import type { AuthService } from '../../auth/index.js'
import { thumbAllowed, ThumbGenerator } from '../../files/index.js'
import { isGalleyError, notFound, unauthorized } from '../../lib/index.js'
import {
  detectMimeType,
  fileKey,
  isSafeInline,
  SNIFF_BYTES,
  STORED_NAME,
  type FileStore,
  type RecordService,
} from '../../records/index.js'
import { columnKind, type Collection, type Field } from '../../schema/index.js'
import { requestContext } from '../request-context.js'

type Params = { c: string; id: string; name: string }

/** PocketBase's CSP on every served file: nothing runs, even when a browser renders it. */
export const FILE_CSP = "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
export const FILE_CACHE_CONTROL = 'max-age=2592000, stale-while-revalidate=86400'

/** Types a file name forces (as PocketBase): scripts and styles are never sniffed as text. */
const FORCED_TYPES: Record<string, string> = {
  svg: 'image/svg+xml',
  css: 'text/css',
  js: 'text/javascript',
  mjs: 'text/javascript',
}

/** Go's `cast.ToBool` for `download=`. */
const truthy = (v: unknown) => typeof v === 'string' && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)

/**
 * `Content-Disposition` for a stored name: stored names hold no quote, backslash or control
 * character (STORED_NAME), and any non-ASCII letter goes in `filename*` only, so no header can be
 * split or forged through a name.
 */
export function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_')
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  )
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`
}

/** One `bytes=` range of a `size`-byte file: undefined to serve it whole, 'unsatisfiable' for a 416. */
export function parseRange(
  header: string,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  // Several ranges, or a malformed header: the whole file (RFC 9110 allows ignoring Range).
  if (!m || (m[1] === '' && m[2] === '')) return undefined
  if (m[1] === '') {
    const n = Number(m[2])
    if (n === 0 || size === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - n), end: size - 1 }
  }
  const start = Number(m[1])
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
  if (!Number.isSafeInteger(start) || start >= size) return 'unsatisfiable'
  if (end < start) return undefined
  return { start, end }
}

async function readHead(store: FileStore, key: string, size: number): Promise<Buffer> {
  if (size === 0) return Buffer.alloc(0)
  const chunks: Buffer[] = []
  for await (const chunk of await store.open(key, { start: 0, end: Math.min(size, SNIFF_BYTES) - 1 }))
    chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** The file field holding `name` in the stored row, if any. */
function fieldHolding(
  database: Database,
  c: Collection,
  row: Record<string, unknown>,
  name: string,
): Field | undefined {
  return c.fields.find((f) => {
    if (f.type !== 'file') return false
    const v = database.dialect.decode(columnKind(f), row[f.name])
    return Array.isArray(v) ? v.includes(name) : v === name
  })
}

/**
 * `GET /api/files/{collection}/{recordId}/{filename}` (§10.1): a current file of the record, 404
 * otherwise; for a view, the file of the record its field reads from. Files of non-protected fields are public, as in PocketBase; a protected field's files
 * need a file token whose record the viewRule admits (viewable), else 404. Types that are not
 * plainly inert (SVG, HTML, XML, scripts, unknown binaries) are always an attachment; every file
 * carries a sandboxing CSP and `nosniff`. ETag, conditional GET and single byte ranges are
 * supported. `?thumb=` serves a thumbnail (ThumbGenerator) when one can be made, else the original.
 */
export function fileRoutes(
  database: Database,
  records: RecordService,
  auth: AuthService,
  thumbs: ThumbGenerator = new ThumbGenerator(),
) {
  return async (app: FastifyInstance): Promise<void> => {
    // §10.2: a short-lived token for protected files, for any signed-in record.
    app.post('/api/files/token', async (req) => {
      if (!req.actor) throw unauthorized()
      return { token: await auth.issueFileToken(req.actor) }
    })

    app.get<{ Params: Params }>('/api/files/:c/:id/:name', async (req, reply) => {
      const store = records.fileStore
      const { id, name } = req.params
      if (!store || !STORED_NAME.test(name) || !/^[^/\\\0]{1,255}$/.test(id)) throw notFound()
      const c = records.collection(req.params.c)
      const row = await records.find(c, id, undefined, requestContext(req))
      if (!row) throw notFound()
      const f = fieldHolding(database, c, row, name)
      if (!f) throw notFound()
      if (f.protected && !(await viewable(records, auth, c, id, req))) throw notFound()

      // A view's files are those of the record its field reads from (§10.1).
      const owner =
        c.type === 'view'
          ? await records.viewFileOwner(c, f.name, name)
          : { collection: c, id: String(row.id) }
      if (!owner) throw notFound()
      const original = fileKey(owner.collection.id, owner.id, name)
      let key = original
      let info = await store.stat(key)
      if (!info) throw notFound()
      let head = await readHead(store, key, info.size)
      let servedName = name
      // §10.1: a thumb of a listed size (or 100x100) of an image; anything else serves the original.
      const query = req.query as Record<string, unknown>
      const size = typeof query.thumb === 'string' ? query.thumb : ''
      if (size !== '' && thumbAllowed(f.thumbs as string[] | null, size)) {
        const thumbKey = await thumbs.thumb(store, original, head, size)
        const thumbInfo = thumbKey === undefined ? undefined : await store.stat(thumbKey)
        if (thumbKey !== undefined && thumbInfo) {
          key = thumbKey
          info = thumbInfo
          head = await readHead(store, key, info.size)
          servedName = `${size}_${name}`
        }
      }
      const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase()
      const detected = detectMimeType(head)
      const type = FORCED_TYPES[ext] ?? detected
      const inline = isSafeInline(type) && !FORCED_TYPES[ext] && !truthy(query.download)
      const etag = `"${info.size.toString(16)}-${info.modified.getTime().toString(16)}"`

      reply.removeHeader('x-frame-options')
      reply.header('content-type', type.startsWith('text/') ? `${type}; charset=utf-8` : type)
      reply.header('content-disposition', contentDisposition(inline ? 'inline' : 'attachment', servedName))
      reply.header('content-security-policy', FILE_CSP)
      reply.header('x-content-type-options', 'nosniff')
      reply.header('cache-control', FILE_CACHE_CONTROL)
      reply.header('etag', etag)
      reply.header('last-modified', info.modified.toUTCString())
      reply.header('accept-ranges', 'bytes')

      const match = req.headers['if-none-match']
      if (
        match !== undefined &&
        match.split(',').some((t) => t.trim().replace(/^W\//, '') === etag || t.trim() === '*')
      )
        return reply.code(304).send()

      const rangeHeader = req.headers.range
      const ifRange = req.headers['if-range']
      const range =
        rangeHeader !== undefined && (ifRange === undefined || ifRange === etag)
          ? parseRange(rangeHeader, info.size)
          : undefined
      if (range === 'unsatisfiable') {
        reply.header('content-range', `bytes */${info.size}`)
        return reply
          .code(416)
          .header('content-type', 'application/json; charset=utf-8')
          .send(JSON.stringify({ status: 416, message: 'Range Not Satisfiable.', data: {} }))
      }
      return send(reply, store, key, info.size, range)
    })
  }
}

async function send(
  reply: FastifyReply,
  store: FileStore,
  key: string,
  size: number,
  range: { start: number; end: number } | undefined,
) {
  if (range) {
    reply.code(206)
    reply.header('content-range', `bytes ${range.start}-${range.end}/${size}`)
    reply.header('content-length', range.end - range.start + 1)
    return reply.send(await store.open(key, range))
  }
  reply.header('content-length', size)
  return reply.send(size === 0 ? '' : await store.open(key))
}

/**
 * Whether a protected file may be served (§10.1): the requester is the record of the `?token=` file
 * token alone (an Authorization header does not count, as in PocketBase) and the record's viewRule
 * must hold for it with `@request.context = "protectedFile"`; a locked rule or any refusal is false.
 */
async function viewable(
  records: RecordService,
  auth: AuthService,
  c: Collection,
  id: string,
  req: FastifyRequest,
): Promise<boolean> {
  const token = (req.query as Record<string, unknown>).token
  const actor = await auth.resolveFileToken(typeof token === 'string' ? token : undefined)
  const request = {
    ...requestContext(req, 'protectedFile'),
    auth: actor ? { collection: actor.collection, record: actor.record } : undefined,
  }
  try {
    return (await records.find(c, id, 'viewRule', request)) !== undefined
  } catch (err) {
    if (isGalleyError(err)) return false
    throw err
  }
}

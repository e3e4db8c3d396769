import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { GalleyError } from '../../lib/index.js'
import { badRequest, fieldError, isGalleyError, type ErrorData } from '../../lib/index.js'
import { MAX_CLIENT_ID_LENGTH, type RealtimeService } from '../../realtime/index.js'

/** The topic the SDK's `authWithOAuth2()` subscribes to; its client id is the OAuth2 `state`. */
export const OAUTH2_TOPIC = '@oauth2'
/** Longest `code` and `error` accepted from a provider's redirect (characters). */
export const MAX_OAUTH2_CODE_LENGTH = 4096
export const MAX_OAUTH2_ERROR_LENGTH = 1024
/** Body limit of the form_post redirect (Apple posts `state`, `code`, `id_token` and `user`). */
export const OAUTH2_REDIRECT_BODY_LIMIT = 64 * 1024

const SUCCESS = 'Auth completed. You can close this window and go back to the app.'
const FAILURE = 'Failed to authenticate. You can close this window and go back to the app to try again.'

/** A small self-contained page for the popup: static text only, nothing from the request. */
function page(title: string, text: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:0;min-height:100vh;display:grid;place-items:center;color:#1a1a1a;background:#f6f6f6}main{max-width:28rem;padding:2rem;text-align:center}</style>
</head><body><main><h1>${title}</h1><p>${text}</p></main></body></html>
`
}

interface RedirectData {
  state: string
  code: string
  error: string
}

/** A form value as sent: the form parser infers numbers and booleans, which are given back as text. */
function text(v: unknown): string | undefined {
  if (v === undefined || v === null) return ''
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  return undefined
}

/** `state`, `code` and `error` of the redirect (query for GET, body for POST), checked; 400 otherwise. */
function readRedirect(source: unknown): RedirectData {
  const s = typeof source === 'object' && source !== null ? (source as Record<string, unknown>) : {}
  const errors: ErrorData = {}
  const read = (key: string, max: number, required: boolean) => {
    const v = text(Array.isArray(s[key]) ? undefined : s[key])
    if (v === undefined) errors[key] = fieldError('validation_invalid_value', 'Must be a string.')
    else if (required && v === '') errors[key] = fieldError('validation_required', 'Cannot be blank.')
    else if (v.length > max)
      errors[key] = fieldError('validation_length_too_long', `The length must be no more than ${max}.`)
    return v ?? ''
  }
  const data = {
    state: read('state', MAX_CLIENT_ID_LENGTH, true),
    code: read('code', MAX_OAUTH2_CODE_LENGTH, false),
    error: read('error', MAX_OAUTH2_ERROR_LENGTH, false),
  }
  if (Object.keys(errors).length > 0) throw badRequest('Invalid OAuth2 redirect data.', errors)
  return data
}

const wantsHtml = (req: FastifyRequest) => /text\/html/i.test(req.headers.accept ?? '')

function failurePage(req: FastifyRequest, reply: FastifyReply, err: GalleyError) {
  // a browser popup gets a page; API clients PocketBase's error shape
  if (!wantsHtml(req)) return reply.status(err.status).send(err.toJSON())
  return reply
    .status(err.status)
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
    .type('text/html; charset=utf-8')
    .send(page('Failed to authenticate', FAILURE))
}

/**
 * `GET|POST /api/oauth2-redirect` (§8.8 B): the provider's redirect in the SDK's popup flow. It sends
 * `{state, code, error}` on `@oauth2` to the realtime client whose id is the `state` (SSE or
 * WebSocket, on any instance: a client not subscribed to `@oauth2` gets nothing) and shows a page
 * the popup can be closed on. Malformed input (no state, values too long) is refused with a 400.
 */
export function oauth2RedirectRoutes(realtime: RealtimeService) {
  return async (app: FastifyInstance): Promise<void> => {
    const handle = async (source: unknown, req: FastifyRequest, reply: FastifyReply) => {
      let data: RedirectData
      try {
        data = readRedirect(source)
      } catch (err) {
        return failurePage(req, reply, err as GalleyError)
      }
      const payload = { state: data.state, code: data.code, ...(data.error ? { error: data.error } : {}) }
      // to the client on whichever instance holds it; a message too large to travel is a 400
      try {
        // only to a client that connected from the popup's address, once (PocketBase v0.38.2)
        await realtime.publish(OAUTH2_TOPIC, payload, data.state, { ip: req.clientIp, once: true })
      } catch (err) {
        if (isGalleyError(err) && err.status < 500) return failurePage(req, reply, err)
        throw err
      }
      const ok = data.error === '' && data.code !== ''
      return reply
        .status(200)
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .type('text/html; charset=utf-8')
        .send(ok ? page('Auth completed', SUCCESS) : page('Failed to authenticate', FAILURE))
    }
    app.get('/api/oauth2-redirect', async (req, reply) => handle(req.query, req, reply))
    app.post('/api/oauth2-redirect', { bodyLimit: OAUTH2_REDIRECT_BODY_LIMIT }, async (req, reply) =>
      handle(req.body, req, reply),
    )
  }
}

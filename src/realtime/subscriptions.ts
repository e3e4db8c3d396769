import { badRequest, fieldError, type ErrorData } from '../lib/index.js'

/** Subscriptions one client may hold (PocketBase: 1000). */
export const MAX_SUBSCRIPTIONS_PER_CLIENT = 1000
/** Characters of one subscription string, options included (PocketBase: 2500). */
export const MAX_TOPIC_LENGTH = 2500
/** Characters of a client id in a subscription request (PocketBase: 255). */
export const MAX_CLIENT_ID_LENGTH = 255

/** One subscription of a client: `collection`, `collection/*` or `collection/ID`, with its options. */
export interface Subscription {
  /** The full subscription string: the name of the events it receives. */
  readonly topic: string
  /** The topic without its `?options=`. */
  readonly name: string
  /** The collection name or id; undefined for topics no record event matches (`@oauth2`, custom). */
  readonly collection: string | undefined
  /** The record id of `collection/ID`; undefined for the whole collection. */
  readonly recordId: string | undefined
  /** `?options=` query values, seen by rules as `@request.query.*` (filter, expand, fields). */
  readonly query: Readonly<Record<string, string>>
  /** `?options=` headers, lower-cased, seen by rules as `@request.headers.*`. */
  readonly headers: Readonly<Record<string, string>>
  /** Subscriptions with equal keys and auth read an event once together. */
  readonly groupKey: string
}

const invalid = (data: ErrorData) => badRequest(undefined, data)

function stringMap(v: unknown, lower: boolean): Record<string, string> {
  const out: Record<string, string> = {}
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return out
  for (const [k, value] of Object.entries(v as Record<string, unknown>)) {
    if (value === null || value === undefined) continue
    out[lower ? k.toLowerCase() : k] = typeof value === 'string' ? value : JSON.stringify(value)
  }
  return out
}

/** Parses one subscription string (§9.3); throws a 400 for options that are not JSON. */
export function parseSubscription(topic: string, index: number): Subscription {
  const q = topic.indexOf('?')
  const base = q < 0 ? topic : topic.slice(0, q)
  let query: Record<string, string> = {}
  let headers: Record<string, string> = {}
  if (q >= 0) {
    const raw = new URLSearchParams(topic.slice(q + 1)).get('options')
    if (raw !== null && raw !== '') {
      let options: unknown
      try {
        options = JSON.parse(raw)
      } catch {
        throw invalid({
          subscriptions: {
            [index]: fieldError('validation_invalid_options', 'Invalid subscription options.'),
          },
        })
      }
      const o = typeof options === 'object' && options !== null ? (options as Record<string, unknown>) : {}
      query = stringMap(o.query, false)
      headers = stringMap(o.headers, true)
    }
  }
  const slash = base.indexOf('/')
  const collection = base.startsWith('@') || base === '' ? undefined : slash < 0 ? base : base.slice(0, slash)
  const rest = slash < 0 ? '*' : base.slice(slash + 1)
  const recordId = rest === '*' ? undefined : rest
  const kind = recordId === undefined ? 'list' : 'view'
  return {
    topic,
    name: base,
    collection: collection && rest !== '' ? collection : undefined,
    recordId,
    query,
    headers,
    groupKey: JSON.stringify([kind, query, headers]),
  }
}

/** The body of `POST /api/realtime` checked as PocketBase does (§9.2); throws its 400s. */
export function readSubscriptionRequest(body: unknown): { clientId: string; topics: string[] } {
  const b = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {}
  const clientId = typeof b.clientId === 'string' ? b.clientId : ''
  if (clientId === '') throw invalid({ clientId: fieldError('validation_required', 'Cannot be blank.') })
  if (clientId.length > MAX_CLIENT_ID_LENGTH)
    throw invalid({
      clientId: fieldError(
        'validation_length_out_of_range',
        `The length must be between 1 and ${MAX_CLIENT_ID_LENGTH}.`,
      ),
    })
  const raw = b.subscriptions ?? []
  if (!Array.isArray(raw) || raw.some((t) => typeof t !== 'string'))
    throw invalid({ subscriptions: fieldError('validation_invalid_value', 'Must be a list of strings.') })
  const topics = raw as string[]
  if (topics.length > MAX_SUBSCRIPTIONS_PER_CLIENT)
    throw invalid({
      subscriptions: fieldError(
        'validation_length_too_long',
        `The length must be no more than ${MAX_SUBSCRIPTIONS_PER_CLIENT}.`,
      ),
    })
  // the topic is the SSE event name: a line break in it would forge fields of the frame
  const broken = topics.findIndex((t) => /[\r\n]/.test(t))
  if (broken >= 0)
    throw invalid({
      subscriptions: { [broken]: fieldError('validation_invalid_value', 'Must not contain line breaks.') },
    })
  const long = topics.findIndex((t) => t.length > MAX_TOPIC_LENGTH)
  if (long >= 0)
    throw invalid({
      subscriptions: {
        [long]: fieldError(
          'validation_length_too_long',
          `The length must be no more than ${MAX_TOPIC_LENGTH}.`,
        ),
      },
    })
  return { clientId, topics }
}

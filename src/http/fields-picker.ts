import type { FastifyInstance, FastifyRequest } from 'fastify'
import { firstString } from './list-query.js'
import { badRequest } from '../lib/index.js'
import { excerpt } from './excerpt.js'

/** Longest `?fields=` accepted, in characters. */
export const MAX_FIELDS_LENGTH = 4096
/** Most comma-separated paths in one `?fields=`. */
export const MAX_FIELDS_PATHS = 256

/** A value modifier of a picked path (`:excerpt(…)`); non-strings pass unchanged. */
type Modifier = (value: unknown) => unknown

/** The picked paths below one key. */
export interface FieldsNode {
  /** A path ends here: the whole value is kept (after `modifier`), whatever else is listed below. */
  leaf: boolean
  modifier?: Modifier
  readonly children: Map<string, FieldsNode>
}

const node = (): FieldsNode => ({ leaf: false, children: new Map() })

const invalid = (reason: string) => badRequest(`Invalid "fields" parameter: ${reason}`)

/** Go's `strconv.ParseBool` (what PocketBase's `cast.ToBool` accepts). */
const BOOLS: Readonly<Record<string, boolean>> = {
  '1': true,
  t: true,
  T: true,
  true: true,
  TRUE: true,
  True: true,
  '0': false,
  f: false,
  F: false,
  false: false,
  FALSE: false,
  False: false,
}

/** `excerpt(max[, withEllipsis])` (§5.3). */
function excerptModifier(args: string[]): Modifier {
  if (args.length === 0 || args.length > 2) throw invalid('excerpt expects (maxLength[, withEllipsis])')
  const max = /^\d+$/.test(args[0]!) ? Number(args[0]) : NaN
  if (!Number.isSafeInteger(max) || max < 1)
    throw invalid(`excerpt maxLength must be a positive integer, not "${args[0]}"`)
  const flag = args[1] === undefined ? false : BOOLS[args[1]]
  if (flag === undefined) throw invalid(`excerpt withEllipsis must be true or false, not "${args[1]}"`)
  return (value) => (typeof value === 'string' ? excerpt(value, max, flag) : value)
}

const MODIFIERS: Readonly<Record<string, (args: string[]) => Modifier>> = { excerpt: excerptModifier }

/** `name(arg, arg)` or `name` after the colon of a path. */
function parseModifier(text: string): Modifier {
  const m = /^(\w+)\s*(?:\(([^()]*)\))?$/.exec(text.trim())
  const make = m ? MODIFIERS[m[1]!] : undefined
  if (!m || !make) throw invalid(`unknown modifier "${text.trim()}"`)
  const args = m[2] === undefined ? [] : m[2].split(',').map((a) => a.trim())
  return make(args.length === 1 && args[0] === '' ? [] : args)
}

/** Splits on commas outside parentheses: `a,b:excerpt(10,true)` is two paths. */
function splitPaths(text: string): string[] {
  const out: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '(') depth++
    else if (c === ')' && --depth < 0) throw invalid('unbalanced parentheses')
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i))
      start = i + 1
    }
  }
  if (depth !== 0) throw invalid('unbalanced parentheses')
  out.push(text.slice(start))
  return out
}

/**
 * Parses `?fields=a,b.c,*,d:excerpt(200,true)` into a tree of picked paths (§5.3); undefined when
 * it names nothing. Throws 400 for an unknown or malformed modifier and past the limits (PocketBase
 * answers those with 200 and an empty body).
 */
export function parseFields(text: string): FieldsNode | undefined {
  if (text.length > MAX_FIELDS_LENGTH) throw invalid(`longer than ${MAX_FIELDS_LENGTH} characters`)
  const root = node()
  let count = 0
  for (const raw of splitPaths(text)) {
    const colon = raw.indexOf(':')
    const path = (colon < 0 ? raw : raw.slice(0, colon)).trim()
    if (path === '') {
      if (colon >= 0) throw invalid(`a modifier without a path in "${raw.trim()}"`)
      continue
    }
    if (++count > MAX_FIELDS_PATHS) throw invalid(`more than ${MAX_FIELDS_PATHS} paths`)
    let n = root
    for (const part of path.split('.')) {
      let next = n.children.get(part)
      if (!next) n.children.set(part, (next = node()))
      n = next
    }
    n.leaf = true
    if (colon >= 0) n.modifier = parseModifier(raw.slice(colon + 1))
    else delete n.modifier
  }
  return count === 0 ? undefined : root
}

function pick(value: unknown, tree: FieldsNode): unknown {
  if (Array.isArray(value)) return value.map((v) => pick(v, tree))
  if (typeof value !== 'object' || value === null) return value
  const star = tree.children.get('*')
  const all = star?.leaf ? star : undefined
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    const sub = tree.children.get(key) ?? all
    if (!sub) continue
    if (!sub.leaf) out[key] = pick(v, sub)
    else out[key] = sub.modifier ? sub.modifier(v) : v
  }
  return out
}

/** Applies a fields tree to a response; a list envelope is picked item by item (§1.3). */
export function pickFields(payload: unknown, tree: FieldsNode): unknown {
  if (typeof payload === 'object' && payload !== null && 'items' in payload && 'perPage' in payload) {
    const env = payload as { items: unknown[] }
    return { ...env, items: env.items.map((i) => pick(i, tree)) }
  }
  return pick(payload, tree)
}

/**
 * `?fields=` on every 2xx JSON response: parsed when the request arrives, so an invalid one is a
 * 400 before anything runs (a write included), and applied before serialization.
 */
export function registerFieldsPicker(app: FastifyInstance): void {
  const trees = new WeakMap<FastifyRequest, FieldsNode>()
  // Callback-style hooks: they run on every request, and an async hook costs a promise each.
  app.addHook('onRequest', (req, _reply, done) => {
    const fields = firstString((req.query as Record<string, unknown> | undefined)?.fields)
    if (fields === undefined) return done()
    try {
      const tree = parseFields(fields)
      if (tree) trees.set(req, tree)
    } catch (err) {
      return done(err as Error)
    }
    done()
  })
  app.addHook('preSerialization', (req, reply, payload, done) => {
    const tree = trees.get(req)
    if (!tree || reply.statusCode >= 300) return done(null, payload)
    done(null, pickFields(payload, tree))
  })
}

import { badRequest } from '../lib/index.js'
import { hasSingleColumnUniqueIndex } from '../rules/index.js'
import { FIELD_TYPES, type Collection, type Field } from '../schema/index.js'

/** Relation levels one expand path follows (`a.b.c.d.e.f`); deeper segments are ignored (§5.2). */
export const MAX_EXPAND_DEPTH = 6
/** Longest `?expand=` accepted, in characters. */
export const MAX_EXPAND_LENGTH = 4096
/** Distinct relation paths (`a`, `a.b`, `c` are 3) one request may expand: each costs a query. */
export const MAX_EXPAND_RELATIONS = 100

/** One relation to expand on the records of a collection, and what to expand on its records. */
export interface ExpandNode {
  /** The path segment: the key in `expand`. */
  readonly key: string
  /** The collection of the expanded records. */
  readonly target: Collection
  /** A forward relation: the parent's relation field, whose stored ids are expanded in order. */
  readonly field?: Field
  /** A back-relation `<target>_via_<field>`: the relation field of `target` that points to the parent. */
  readonly via?: Field
  /** One record (object) instead of a list (array). */
  readonly single: boolean
  readonly children: ExpandNode[]
}

export interface PlanEnv {
  readonly findCollection: (idOrName: string) => Collection | undefined
  /** Superusers expand through hidden relation fields and into collections with a locked viewRule. */
  readonly superuser: boolean
}

const VIA = /^(\w+)_via_(\w+)$/

const isMultiple = (f: Field) => FIELD_TYPES.get(f.type)?.multiple?.(f) ?? false

/** The relation `segment` leads to from `from`, or undefined where this requester cannot expand it. */
function step(from: Collection, segment: string, env: PlanEnv): Omit<ExpandNode, 'children'> | undefined {
  let node: Omit<ExpandNode, 'children'> | undefined
  const field = from.fields.find((f) => f.name === segment)
  if (field) {
    if (field.type !== 'relation') return undefined
    const target = env.findCollection(field.collectionId as string)
    if (target) node = { key: segment, target, field, single: !isMultiple(field) }
  } else {
    const parts = VIA.exec(segment)
    const target = parts ? env.findCollection(parts[1]!) : undefined
    const via = target?.fields.find((f) => f.name === parts![2])
    if (target && via?.type === 'relation' && via.collectionId === from.id)
      node = { key: segment, target, via, single: hasSingleColumnUniqueIndex(target, via.name) }
  }
  if (!node || env.superuser) return node
  // a hidden relation's value is not the client's to see, nor is a locked collection's record
  if ((node.field ?? node.via)!.hidden || node.target.viewRule === null) return undefined
  return node
}

/**
 * Parses `?expand=` for records of `collection` (§5.2): comma-separated relation paths, spaces
 * removed, dots trimmed, at most MAX_EXPAND_DEPTH levels each. A path this requester cannot expand
 * as a whole (unknown field, not a relation, hidden, target viewRule locked) is ignored, like a
 * PocketBase path whose expansion fails; the others merge into one tree, so `a.b,a.c` fetch `a` once.
 * An empty result means: no `expand` key on the records. Past the limits: 400.
 *
 * @example
 * planExpand('author, comments_via_post.author', posts, env)
 * // [{ key: 'author', … }, { key: 'comments_via_post', single: false, children: [{ key: 'author' }] }]
 */
export function planExpand(text: string, collection: Collection, env: PlanEnv): ExpandNode[] {
  if (text.length > MAX_EXPAND_LENGTH)
    throw badRequest(`Invalid "expand" parameter: longer than ${MAX_EXPAND_LENGTH} characters.`)
  type Mutable = Omit<ExpandNode, 'children'> & { children: Mutable[] }
  const roots: Mutable[] = []
  let relations = 0
  for (const raw of text.split(',')) {
    const path = raw.replace(/\s+/g, '').replace(/^\.+|\.+$/g, '')
    if (path === '') continue
    const steps: Omit<ExpandNode, 'children'>[] = []
    let from = collection
    for (const segment of path.split('.').slice(0, MAX_EXPAND_DEPTH)) {
      const s = step(from, segment, env)
      if (!s) break
      steps.push(s)
      from = s.target
    }
    if (steps.length !== Math.min(path.split('.').length, MAX_EXPAND_DEPTH)) continue
    let level = roots
    for (const s of steps) {
      let n = level.find((x) => x.key === s.key)
      if (!n) {
        if (++relations > MAX_EXPAND_RELATIONS)
          throw badRequest(`Invalid "expand" parameter: more than ${MAX_EXPAND_RELATIONS} relation paths.`)
        level.push((n = { ...s, children: [] }))
      }
      level = n.children
    }
  }
  return roots
}

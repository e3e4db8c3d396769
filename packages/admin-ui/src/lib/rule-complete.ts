/**
 * Completion for the rule editor (pure: no DOM, no SDK). What a rule may name is the filter
 * language's (pocketbase-api.md §4.3–4.5): the collection's fields and one relation hop,
 * `@request.*`, `@collection.<name>.<field>`, modifiers and datetime macros.
 */

/** The little the completion needs of a collection (a draft or a stored one). */
export interface CompletionCollection {
  readonly id?: string
  readonly name: string
  readonly type: string
  readonly fields: readonly {
    readonly name: string
    readonly type: string
    readonly collectionId?: unknown
  }[]
}

export interface Completion {
  /** The whole identifier the item stands for (what replaces the word being typed). */
  readonly text: string
  /** A few words on what it is. */
  readonly detail: string
}

export interface CompletionResult {
  /** The word being typed is `rule.slice(from, to)`; an accepted item replaces it. */
  readonly from: number
  readonly to: number
  readonly items: readonly Completion[]
}

export interface CompletionContext {
  /** The collection whose rule is edited, as the editor holds it. */
  readonly draft: CompletionCollection
  /** Every stored collection. */
  readonly collections: readonly CompletionCollection[]
}

/** The most items a list shows. */
export const MAX_COMPLETIONS = 40

export const MODIFIERS = [
  { text: ':isset', detail: 'was it submitted (@request.* only)' },
  { text: ':changed', detail: 'submitted and different (@request.body.* only)' },
  { text: ':length', detail: 'number of items (select, relation, file)' },
  { text: ':each', detail: 'every item (select, relation, file)' },
  { text: ':lower', detail: 'lower-cased value' },
] as const

export const MACROS: readonly Completion[] = [
  ['@now', 'current datetime (UTC)'],
  ['@yesterday', 'now minus 1 day'],
  ['@tomorrow', 'now plus 1 day'],
  ['@todayStart', 'today 00:00:00.000'],
  ['@todayEnd', 'today 23:59:59.999'],
  ['@monthStart', 'first moment of the month'],
  ['@monthEnd', 'last moment of the month'],
  ['@yearStart', 'first moment of the year'],
  ['@yearEnd', 'last moment of the year'],
  ['@second', 'number 0–59'],
  ['@minute', 'number 0–59'],
  ['@hour', 'number 0–23'],
  ['@weekday', 'number 0 (Sunday)–6'],
  ['@day', 'day of the month'],
  ['@month', 'number 1–12'],
  ['@year', 'the year'],
].map(([text, detail]) => ({ text: text!, detail: detail! }))

/** Auth record keys every auth collection has, inlined by the server (§4.3). */
const AUTH_COMMON = ['id', 'email', 'emailVisibility', 'verified', 'collectionId', 'collectionName']
const MULTI_TYPES = new Set(['select', 'relation', 'file'])
const IDENT = /[A-Za-z0-9_@#.:]/

/** Whether `cursor` is inside a quoted text of `rule` (no completion there). */
export function insideText(rule: string, cursor: number): boolean {
  let quote = ''
  for (let i = 0; i < cursor; i++) {
    const ch = rule[i]!
    if (quote) {
      if (ch === '\\' && rule[i + 1] === quote) i++
      else if (ch === quote) quote = ''
    } else if (ch === '"' || ch === "'") quote = ch
    else if (ch === '/' && rule[i + 1] === '/') {
      const end = rule.indexOf('\n', i)
      if (end === -1 || end >= cursor) return true // a comment: no completion either
      i = end
    }
  }
  return quote !== ''
}

/** The identifier being typed at `cursor`: from its start up to the cursor. */
export function wordAt(rule: string, cursor: number): { from: number; to: number; word: string } {
  let from = cursor
  while (from > 0 && IDENT.test(rule[from - 1]!)) from--
  let to = cursor
  while (to < rule.length && IDENT.test(rule[to]!)) to++
  return { from, to, word: rule.slice(from, cursor) }
}

function fieldDetail(f: CompletionCollection['fields'][number]): string {
  return f.type
}

/** Every identifier a rule of the draft may start with, in the order they are offered. */
export function candidates(ctx: CompletionContext): Completion[] {
  const out: Completion[] = []
  const byId = (id: unknown) =>
    ctx.collections.find((c) => c.id === id) ?? ctx.collections.find((c) => c.name === id)
  for (const f of ctx.draft.fields) out.push({ text: f.name, detail: fieldDetail(f) })
  // one relation hop: `author.name`
  for (const f of ctx.draft.fields) {
    if (f.type !== 'relation') continue
    const target = byId(f.collectionId)
    for (const g of target?.fields ?? [])
      out.push({ text: `${f.name}.${g.name}`, detail: `${g.type} of ${target!.name}` })
  }
  const authFields = new Map<string, string>(AUTH_COMMON.map((k) => [k, 'auth record']))
  for (const c of ctx.collections)
    if (c.type === 'auth' && !c.name.startsWith('_'))
      for (const f of c.fields) if (!authFields.has(f.name)) authFields.set(f.name, `${f.type} of ${c.name}`)
  for (const [name, detail] of authFields) out.push({ text: `@request.auth.${name}`, detail })
  for (const f of ctx.draft.fields)
    out.push({ text: `@request.body.${f.name}`, detail: `submitted ${f.type}` })
  out.push(
    { text: '@request.method', detail: 'HTTP method, e.g. "GET"' },
    { text: '@request.context', detail: 'default, oauth2, otp, password, realtime, …' },
    { text: '@request.query.', detail: 'a query parameter' },
    { text: '@request.headers.', detail: 'a header, snake_case (x_token)' },
  )
  for (const c of ctx.collections) {
    if (c.name === ctx.draft.name && c.name !== '') continue
    for (const f of c.fields) out.push({ text: `@collection.${c.name}.${f.name}`, detail: f.type })
  }
  if (ctx.draft.name !== '')
    for (const f of ctx.draft.fields)
      out.push({ text: `@collection.${ctx.draft.name}.${f.name}`, detail: f.type })
  out.push(...MACROS)
  return out
}

/** The modifiers that fit after `path` (the identifier before its `:`). */
function modifiersFor(path: string, ctx: CompletionContext): Completion[] {
  const isRequest = path.startsWith('@request.')
  const bodyField = path.startsWith('@request.body.') ? path.slice('@request.body.'.length) : undefined
  const own = ctx.draft.fields.find((f) => f.name === (bodyField ?? path))
  const multi = own !== undefined && MULTI_TYPES.has(own.type)
  return MODIFIERS.filter((m) => {
    if (m.text === ':isset') return isRequest
    if (m.text === ':changed') return bodyField !== undefined
    if (m.text === ':length' || m.text === ':each') return multi || (!isRequest && own === undefined)
    return true
  })
}

/**
 * What to offer at `cursor` in `rule`: identifiers starting with the word typed there
 * (case-insensitive), or modifiers after a `:`. Nothing inside a quoted text, nothing when the
 * word is already the only match, and nothing before a word is begun unless asked (`explicit`:
 * Ctrl+Space), so a space or an operator never opens the list.
 *
 * @example
 * completeRule('tit', 3, ctx).items[0] // { text: 'title', detail: 'text' }
 */
export function completeRule(
  rule: string,
  cursor: number,
  ctx: CompletionContext,
  explicit = false,
): CompletionResult {
  const { from, to, word } = wordAt(rule, cursor)
  const none = { from, to, items: [] }
  if (insideText(rule, cursor) || /^[0-9-]/.test(word) || (word === '' && !explicit)) return none
  const colon = word.lastIndexOf(':')
  let items: Completion[]
  let start = from
  if (colon >= 0) {
    const typed = word.slice(colon).toLowerCase()
    start = from + colon
    items = modifiersFor(word.slice(0, colon), ctx).filter((m) => m.text.startsWith(typed))
  } else {
    const typed = word.toLowerCase()
    items = candidates(ctx).filter((c) => c.text.toLowerCase().startsWith(typed))
  }
  const typed = rule.slice(start, cursor)
  if (items.length === 1 && items[0]!.text === typed) return { from: start, to, items: [] }
  return { from: start, to, items: items.slice(0, MAX_COMPLETIONS) }
}

/** `rule` with `item` accepted over the word of `result`, and where the cursor goes. */
export function applyCompletion(
  rule: string,
  result: Pick<CompletionResult, 'from' | 'to'>,
  item: Completion,
): { rule: string; cursor: number } {
  const next = rule.slice(0, result.from) + item.text + rule.slice(result.to)
  return { rule: next, cursor: result.from + item.text.length }
}

type Tree = { [key: string]: Tree }

/** Parses `?fields=a,b.c,*` into a tree of picked paths (the `:excerpt` modifier comes with records). */
export function parseFields(text: string): Tree | undefined {
  const tree: Tree = {}
  let any = false
  for (const raw of text.split(',')) {
    const path = raw.trim()
    if (path === '') continue
    any = true
    let node = tree
    for (const part of path.split('.')) node = node[part] ??= {}
  }
  return any ? tree : undefined
}

function pick(value: unknown, tree: Tree): unknown {
  if (Array.isArray(value)) return value.map((v) => pick(v, tree))
  if (typeof value !== 'object' || value === null) return value
  const src = value as Record<string, unknown>
  const out: Record<string, unknown> = {}
  const star = tree['*']
  for (const [key, v] of Object.entries(src)) {
    const sub = tree[key] ?? star
    if (!sub) continue
    out[key] = Object.keys(sub).length === 0 ? v : pick(v, sub)
  }
  return out
}

/** Applies a fields tree to a response; a list envelope is picked item by item (§1.3). */
export function pickFields(payload: unknown, tree: Tree): unknown {
  if (typeof payload === 'object' && payload !== null && 'items' in payload && 'perPage' in payload) {
    const env = payload as { items: unknown[] }
    return { ...env, items: env.items.map((i) => pick(i, tree)) }
  }
  return pick(payload, tree)
}

/** Hash routes, as PocketBase's dashboard: `/_/#/collections/posts`. */
export interface Route {
  readonly path: string
  readonly parts: readonly string[]
  readonly query: URLSearchParams
}

function parse(): Route {
  const raw = location.hash.replace(/^#/, '') || '/'
  const [path = '/', search = ''] = raw.split('?', 2)
  const parts = path
    .split('/')
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p)
      } catch {
        return p
      }
    })
  return { path, parts, query: new URLSearchParams(search) }
}

export const router = $state({ route: parse() })

window.addEventListener('hashchange', () => {
  router.route = parse()
})

export function go(path: string): void {
  if (location.hash === `#${path}`) router.route = parse()
  else location.hash = path
}

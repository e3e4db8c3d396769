/** What a key does in an open ARIA listbox driven from its combobox input. */
export type ListboxKey =
  | { readonly kind: 'move'; readonly active: number }
  | { readonly kind: 'accept' }
  | { readonly kind: 'close' }
  | undefined

/**
 * Arrows move (wrapping), Enter and Tab accept the active option, Escape closes; any other key is
 * the input's (undefined).
 */
export function listboxKey(key: string, active: number, count: number): ListboxKey {
  if (count === 0) return undefined
  if (key === 'ArrowDown') return { kind: 'move', active: (active + 1) % count }
  if (key === 'ArrowUp') return { kind: 'move', active: (active - 1 + count) % count }
  if (key === 'Enter' || key === 'Tab') return { kind: 'accept' }
  if (key === 'Escape') return { kind: 'close' }
  return undefined
}

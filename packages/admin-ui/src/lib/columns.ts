/** The columns a records table shows, remembered per collection in localStorage. */

const key = (collectionId: string) => `galley_columns_${collectionId}`

/** The remembered choice among `available` (names), or all of them when nothing valid is stored. */
export function loadColumns(collectionId: string, available: readonly string[]): string[] {
  try {
    const stored = JSON.parse(localStorage.getItem(key(collectionId)) ?? 'null') as unknown
    if (Array.isArray(stored)) {
      const chosen = available.filter((n) => stored.includes(n))
      if (chosen.length > 0) return chosen
    }
  } catch {
    // unreadable: start over
  }
  return [...available]
}

export function saveColumns(collectionId: string, chosen: readonly string[]): void {
  try {
    localStorage.setItem(key(collectionId), JSON.stringify(chosen))
  } catch {
    // storage full or disabled: the choice lasts for this page only
  }
}

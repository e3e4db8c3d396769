/**
 * Wraps a cache refresh so reads run one at a time and a call made while one is running waits for
 * one fresh read after it (the running read may predate the change being announced), shared by the
 * whole burst: the last read to finish is always the newest.
 */
export function serialRefresh(read: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined
  let queued: Promise<void> | undefined
  const refresh = (): Promise<void> => {
    if (running) {
      queued ??= running
        .catch(() => {})
        .then(() => {
          queued = undefined
          return refresh()
        })
      return queued
    }
    running = read().finally(() => {
      running = undefined
    })
    return running
  }
  return refresh
}

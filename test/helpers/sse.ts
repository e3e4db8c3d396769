/** Raw Server-Sent Events connections for realtime tests: every frame as received, parsed. */

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Waits (bounded) until `check()` holds. */
export async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

export interface SseFrame {
  id?: string
  event?: string
  data?: string
  raw: string
}

/** A raw SSE connection to `/api/realtime` (`headers`: e.g. `Last-Event-ID`). */
export async function rawStream(base: string, headers: Record<string, string> = {}) {
  const ac = new AbortController()
  const res = await fetch(`${base}/api/realtime`, { signal: ac.signal, headers })
  const frames: SseFrame[] = []
  let ended = false
  const done = (async () => {
    const decoder = new TextDecoder()
    let buf = ''
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true })
        let i
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const raw = buf.slice(0, i)
          buf = buf.slice(i + 2)
          const f: SseFrame = { raw }
          for (const line of raw.split('\n')) {
            const c = line.indexOf(':')
            const k = line.slice(0, c)
            if (k === 'id' || k === 'event' || k === 'data') f[k] = line.slice(c + 1)
          }
          frames.push(f)
        }
      }
    } catch {
      // aborted
    }
    ended = true
  })()
  await until(() => frames.length > 0, 'PB_CONNECT')
  return {
    res,
    frames,
    clientId: frames[0]?.id ?? '',
    get ended() {
      return ended
    },
    done,
    close: () => ac.abort(),
  }
}

import WebSocket from 'ws'

/** A frame the server sent, parsed; `raw` is the text as received (for canary scans). */
export type WsFrame = Record<string, unknown> & { type: string; raw: string }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

/** A realtime WebSocket client (`ws`): every frame kept, request/reply by `requestId`. */
export interface WsClient {
  readonly socket: WebSocket
  readonly frames: WsFrame[]
  readonly clientId: string
  /** The close code and reason once closed. */
  readonly closed: { code: number; reason: string } | undefined
  /** Sends a message with a fresh requestId and resolves with the reply (`ok`, `pong` or `error`). */
  request(msg: Record<string, unknown>, ms?: number): Promise<WsFrame>
  /** The `event` frames received so far. */
  events(): WsFrame[]
  send(text: string | Buffer): void
  close(): Promise<void>
}

let nextRequest = 0

/** Opens `/api/realtime/ws` on `base` (http URL) and waits for the `connected` frame. */
export async function openWs(
  base: string,
  opts: { query?: string; headers?: Record<string, string>; localAddress?: string; autoPong?: boolean } = {},
): Promise<WsClient> {
  const url = `${base.replace(/^http/, 'ws')}/api/realtime/ws${opts.query ?? ''}`
  const socket = new WebSocket(url, {
    headers: opts.headers,
    localAddress: opts.localAddress,
    autoPong: opts.autoPong ?? true,
    perMessageDeflate: false,
  })
  const frames: WsFrame[] = []
  let closed: { code: number; reason: string } | undefined
  socket.on('message', (data) => {
    const raw = (data as Buffer).toString('utf8')
    frames.push({ ...(JSON.parse(raw) as Record<string, unknown>), raw } as WsFrame)
  })
  socket.on('close', (code, reason) => (closed = { code, reason: reason.toString() }))
  socket.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no connection')), 10_000)
    socket.once('open', () => (clearTimeout(timer), resolve()))
    socket.once('unexpected-response', (_req, res) => {
      clearTimeout(timer)
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () =>
        reject(Object.assign(new Error(`refused: ${res.statusCode}`), { status: res.statusCode, body })),
      )
    })
    socket.once('error', (err) => (clearTimeout(timer), reject(err)))
  })
  await until(() => frames.length > 0 || closed !== undefined, 'the connected frame')
  const first = frames[0]
  if (first?.type !== 'connected') throw new Error(`first frame: ${first?.raw ?? 'none'}`)
  return {
    socket,
    frames,
    clientId: String(first.clientId),
    get closed() {
      return closed
    },
    async request(msg, ms = 5000) {
      const requestId = `r${++nextRequest}`
      socket.send(JSON.stringify({ ...msg, requestId }))
      let reply: WsFrame | undefined
      await until(
        () => (reply = frames.find((f) => f.requestId === requestId)) !== undefined,
        `reply to ${JSON.stringify(msg).slice(0, 80)}`,
        ms,
      )
      return reply!
    },
    events: () => frames.filter((f) => f.type === 'event'),
    send: (text) => socket.send(text),
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return
      socket.close()
      await until(() => closed !== undefined, 'the close', 5000).catch(() => socket.terminate())
    },
  }
}

import { once } from 'node:events'
import { createConnection, createServer, type Server, type Socket } from 'node:net'

/**
 * A loopback TCP proxy to simulate a database going away without touching the real server.
 * `stop()` closes the listener and destroys every live connection (both sides), so clients see
 * their sockets drop and new connections refused; `start()` listens again on the same port.
 */
export interface TcpProxy {
  /** The port the proxy listens on (stable across stop/start). */
  readonly port: number
  /** Live client-side connections. */
  connections(): number
  start(): Promise<void>
  stop(): Promise<void>
}

export async function createTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  /** Each live connection as its two sockets (client side, upstream side). */
  const pairs = new Set<[Socket, Socket]>()
  let server: Server | undefined
  let port = 0

  const listen = async (): Promise<void> => {
    const s = createServer((client) => {
      const upstream = createConnection({ host: target.host, port: target.port })
      const pair: [Socket, Socket] = [client, upstream]
      pairs.add(pair)
      const teardown = () => {
        client.destroy()
        upstream.destroy()
        pairs.delete(pair)
      }
      client.on('error', teardown)
      upstream.on('error', teardown)
      client.on('close', teardown)
      upstream.on('close', teardown)
      client.pipe(upstream)
      upstream.pipe(client)
    })
    s.listen({ host: '127.0.0.1', port })
    await once(s, 'listening')
    const address = s.address()
    if (typeof address !== 'object' || !address) throw new Error('tcp proxy: no address')
    port = address.port
    server = s
  }

  await listen()

  return {
    get port() {
      return port
    },
    connections: () => pairs.size,
    async start() {
      if (server) return
      await listen()
    },
    async stop() {
      const s = server
      server = undefined
      for (const [client, upstream] of pairs) {
        client.destroy()
        upstream.destroy()
      }
      pairs.clear()
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()))
    },
  }
}

import { existsSync, readdirSync } from 'node:fs'
import { request } from 'node:http'
import { join, relative, sep } from 'node:path'

/** Every file under `root`, as paths relative to it with `/`, sorted. */
export function walk(root: string): string[] {
  if (!existsSync(root)) return []
  const out: string[] = []
  for (const e of readdirSync(root, { withFileTypes: true, recursive: true }))
    if (e.isFile()) out.push(relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
  return out.sort()
}

export const BOUNDARY = 'galleyFilesBoundary7Q'

export interface Part {
  readonly name: string
  readonly value: string | Buffer
  readonly filename?: string
  readonly type?: string
}

/** A multipart body written by hand: hostile filenames and declared types exactly as given. */
export function multipart(parts: readonly Part[], boundary = BOUNDARY): Buffer {
  const chunks: Buffer[] = []
  for (const p of parts) {
    const file =
      p.filename === undefined
        ? ''
        : `; filename="${p.filename}"\r\nContent-Type: ${p.type ?? 'application/octet-stream'}`
    chunks.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${file}\r\n\r\n`),
    )
    chunks.push(Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value))
    chunks.push(Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return Buffer.concat(chunks)
}

export interface StreamingUpload {
  /** The answer (status 0 and no body when the connection broke first), and the bytes sent. */
  readonly done: Promise<{ status: number; body: string; sent: number }>
  /** Stops writing (the request is left open). */
  stop(): void
  sent(): number
}

/**
 * A multipart upload of one `total`-byte file part named `part` to `path`, written in 64 KiB
 * chunks with backpressure until it is all sent, stopped, answered or the connection breaks: how
 * far a server reads before it cuts an oversize part off.
 */
export function streamUpload(base: string, path: string, part: string, total: number): StreamingUpload {
  const u = new URL(base)
  let stopped = false
  let answered = false
  let sent = 0
  const done = new Promise<{ status: number; body: string; sent: number }>((resolve) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path,
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      },
      (res) => {
        answered = true
        let body = ''
        res.on('data', (d: Buffer) => (body += d.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, sent }))
        res.on('error', () => resolve({ status: res.statusCode ?? 0, body, sent }))
      },
    )
    req.on('error', () => {
      if (!answered) resolve({ status: 0, body: '', sent })
    })
    req.write(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${part}"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    )
    const chunk = Buffer.alloc(64 * 1024, 7)
    const pump = () => {
      while (!stopped && !answered && sent < total) {
        sent += chunk.length
        if (!req.write(chunk)) return void req.once('drain', pump)
      }
      if (!stopped && !answered) req.end(`\r\n--${BOUNDARY}--\r\n`)
    }
    pump()
  })
  return { done, stop: () => (stopped = true), sent: () => sent }
}

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { fileURLToPath } from 'node:url'
import type { S3Config } from '../../src/settings/index.js'

/** s3rver's fixed credentials. */
const ACCESS_KEY = 'S3RVER'

const CHILD = fileURLToPath(new URL('./s3rver-child.mjs', import.meta.url))
/** How long s3rver may take to start, and to stop before it is killed. */
const START_MS = 15_000
const STOP_MS = 5000

/**
 * A real S3-compatible server (s3rver 3.7) on a free loopback port over a temporary directory, in
 * a child process run with `--openssl-legacy-provider` (see s3rver-child.mjs: without it, any
 * listing of more than one page fails with ERR_OSSL_EVP_UNSUPPORTED on Node 20).
 */
export interface LocalS3 {
  readonly endpoint: string
  /** Settings for `bucket` (created), as `PATCH /api/settings` takes them under `s3`. */
  config(bucket: string): S3Config
  createBucket(name: string): Promise<void>
  /** Every key in `bucket` (under `prefix`), sorted. */
  keys(bucket: string, prefix?: string): Promise<string[]>
  read(bucket: string, key: string): Promise<Buffer>
  write(bucket: string, key: string, body: Buffer): Promise<void>
  close(): Promise<void>
}

export async function startS3(): Promise<LocalS3> {
  const dir = mkdtempSync(join(tmpdir(), 'galley-s3rver-'))
  const child = spawn(process.execPath, ['--openssl-legacy-provider', CHILD, dir], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let out = ''
  child.stderr.on('data', (d: Buffer) => (out += d.toString()))
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s3rver did not start in time:\n${out}`)), START_MS)
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /\{"port":(\d+)\}/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`s3rver exited with ${code}:\n${out}`))
    })
  })
  const endpoint = `http://127.0.0.1:${port}`
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: ACCESS_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
  return {
    endpoint,
    config: (bucket) => ({
      enabled: true,
      bucket,
      region: 'us-east-1',
      endpoint,
      accessKey: ACCESS_KEY,
      secret: ACCESS_KEY,
      forcePathStyle: true,
    }),
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }))
    },
    async keys(bucket, prefix) {
      const out = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))
      return (out.Contents ?? []).map((o) => o.Key!).sort()
    },
    async read(bucket, key) {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      return Buffer.from(await out.Body!.transformToByteArray())
    },
    async write(bucket, key, body) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))
    },
    async close() {
      client.destroy()
      if (child.exitCode === null) {
        const exited = once(child, 'exit')
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_MS)
        await exited
        clearTimeout(timer)
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

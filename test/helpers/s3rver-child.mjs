// Runs s3rver 3.7 (a real local S3 server) for the tests, in its own process: its ListObjectsV2
// continuation tokens are DES-encrypted, which Node 20's OpenSSL 3 allows only with the
// legacy provider (`node --openssl-legacy-provider`), a flag the test process should not carry.
// Prints `{"port":N}` once listening; ends when its parent closes stdin or sends SIGTERM.
import S3rver from 's3rver'

const dir = process.argv[2]
if (!dir) throw new Error('usage: s3rver-child.mjs <directory>')
const server = new S3rver({ address: '127.0.0.1', port: 0, directory: dir, silent: true })
const { port } = await server.run()
process.stdout.write(`${JSON.stringify({ port })}\n`)

const stop = () => {
  server.httpServer?.closeAllConnections()
  server.close().finally(() => process.exit(0))
}
process.on('SIGTERM', stop)
process.stdin.on('end', stop)
process.stdin.resume()

// The hand-written baseline of bench/records.js: Fastify + better-sqlite3 (or pg) serving the same
// three endpoints with the same JSON as Galley, with nothing else (no rules, no validation).
// Usage: node bench/baseline-server.js <sqlite file | postgres url> <collectionId>
import { randomBytes } from 'node:crypto'
import Fastify from 'fastify'

const [target, collectionId] = process.argv.slice(2)
const isPg = target.startsWith('postgres')
const COLUMNS = 'id, title, views, published, created'
const app = Fastify()

const row = (r) => ({
  collectionId,
  collectionName: 'posts',
  id: r.id,
  title: r.title,
  views: Number(r.views),
  published: r.published === true || r.published === 1,
  created: r.created,
})
const newId = () => [...randomBytes(15)].map((b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('')
const now = () => new Date().toISOString().replace('T', ' ')

let db
if (isPg) {
  const pg = (await import('pg')).default
  const pool = new pg.Pool({ connectionString: target, max: 10 })
  db = {
    one: async (id) => (await pool.query(`SELECT ${COLUMNS} FROM posts WHERE id = $1`, [id])).rows[0],
    list: async () => {
      const where = 'published = true AND views > $1'
      const items = (
        await pool.query(`SELECT ${COLUMNS} FROM posts WHERE ${where} ORDER BY created DESC LIMIT 30`, [500])
      ).rows
      const total = Number(
        (await pool.query(`SELECT count(*) AS n FROM posts WHERE ${where}`, [500])).rows[0].n,
      )
      return { items, total }
    },
    insert: async (r) => {
      await pool.query(
        'INSERT INTO posts (id, title, views, published, created) VALUES ($1, $2, $3, $4, $5)',
        [r.id, r.title, r.views, r.published, r.created],
      )
    },
  }
} else {
  const Database = (await import('better-sqlite3')).default
  const sqlite = new Database(target)
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = NORMAL')
  const one = sqlite.prepare(`SELECT ${COLUMNS} FROM posts WHERE id = ?`)
  const items = sqlite.prepare(
    `SELECT ${COLUMNS} FROM posts WHERE published = 1 AND views > ? ORDER BY created DESC LIMIT 30`,
  )
  const count = sqlite.prepare('SELECT count(*) AS n FROM posts WHERE published = 1 AND views > ?')
  const insert = sqlite.prepare(
    'INSERT INTO posts (id, title, views, published, created) VALUES (?, ?, ?, ?, ?)',
  )
  db = {
    one: async (id) => one.get(id),
    list: async () => ({ items: items.all(500), total: count.get(500).n }),
    insert: async (r) => insert.run(r.id, r.title, r.views, r.published ? 1 : 0, r.created),
  }
}

app.get('/api/collections/posts/records/:id', async (req, reply) => {
  const r = await db.one(req.params.id)
  if (!r)
    return reply.code(404).send({ status: 404, message: "The requested resource wasn't found.", data: {} })
  return row(r)
})
app.get('/api/collections/posts/records', async () => {
  const { items, total } = await db.list()
  return { items: items.map(row), page: 1, perPage: 30, totalItems: total, totalPages: Math.ceil(total / 30) }
})
app.post('/api/collections/posts/records', async (req, reply) => {
  const b = req.body ?? {}
  if (typeof b.title !== 'string' || b.title === '')
    return reply.code(400).send({ status: 400, message: 'Failed to create record.', data: {} })
  const r = {
    id: newId(),
    title: b.title,
    views: Number(b.views ?? 0),
    published: b.published === true,
    created: now(),
  }
  await db.insert(r)
  return row(r)
})

await app.listen({ host: '127.0.0.1', port: 0 })
console.log(`serving on http://127.0.0.1:${app.server.address().port}`)

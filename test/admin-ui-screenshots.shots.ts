import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import PocketBase from 'pocketbase'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { launchBrowser, type TestBrowser } from './helpers/browser.js'
import { startServe, type GalleyProcess } from './helpers/process.js'

/**
 * `npm run screenshots`: the dashboard's main screens, light, 1280 px, into docs/screenshots/.
 * Not part of `npm test` (vitest.config.ts adds this project only with GALLEY_SCREENSHOTS=1).
 */
const OUT = fileURLToPath(new URL('../docs/screenshots/', import.meta.url))
const EMAIL = 'admin@example.com'
const PASSWORD = 'screenshots pass 1'

let dir: string
let server: GalleyProcess
let b: TestBrowser

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true })
  dir = mkdtempSync(join(tmpdir(), 'galley-shots-'))
  server = await startServe(['--dir', dir])
  b = await launchBrowser({ width: 1280, height: 800 })
}, 60_000)
afterAll(async () => {
  await b?.close()
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
})

async function seed(api: PocketBase) {
  const users = await api.collections.getOne('users')
  await api.collections.create({
    name: 'posts',
    type: 'base',
    listRule: '@request.auth.id != ""',
    viewRule: '@request.auth.id != ""',
    fields: [
      { name: 'title', type: 'text', required: true, max: 200 },
      { name: 'views', type: 'number', onlyInt: true },
      { name: 'published', type: 'bool' },
      { name: 'status', type: 'select', values: ['draft', 'review', 'live'], maxSelect: 1 },
      { name: 'author', type: 'relation', collectionId: users.id, maxSelect: 1 },
      { name: 'meta', type: 'json' },
      { name: 'created', type: 'autodate', onCreate: true },
      { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
    ],
  })
  const author = await api
    .collection('users')
    .create({ email: 'ada@example.com', password: 'user pass 123', passwordConfirm: 'user pass 123' })
  const titles = ['Hello, Galley', 'Rules are filters', 'SQLite or PostgreSQL', 'Realtime without loss']
  for (const [i, title] of titles.entries())
    await api.collection('posts').create({
      title,
      views: (i + 1) * 37,
      published: i % 2 === 0,
      status: ['live', 'draft', 'review', 'live'][i],
      author: author.id,
      meta: { tags: ['intro', 'docs'].slice(0, (i % 2) + 1) },
    })
}

it('captures each main screen', async () => {
  const { page } = b
  const shot = (name: string) => page.screenshot({ path: join(OUT, `${name}.png`) })
  const link = /(http:\/\/\S+\/_\/#\/install\/\S+)/.exec(server.output())![1]!
  await page.goto(link)
  await page.getByLabel('Email').fill(EMAIL)
  await shot('install')
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
  await page.getByLabel('Password again').fill(PASSWORD)
  await page.getByRole('button', { name: 'Create and sign in' }).click()
  await page.waitForURL(/#\/collections$/)

  const api = new PocketBase(server.url)
  await api.collection('_superusers').authWithPassword(EMAIL, PASSWORD)
  await seed(api)

  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.waitForURL(/#\/login$/)
  await page.getByLabel('Email').fill(EMAIL)
  await shot('login')
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(/#\/collections$/)

  await page.getByRole('link', { name: /posts/ }).click()
  await expect.poll(() => page.locator('tbody tr').count()).toBe(4)
  await shot('records')
  await page.getByLabel('Filter').fill('views >')
  await page.getByRole('button', { name: 'Apply filter' }).click()
  await expect.poll(() => page.locator('#records-filter-error').isVisible()).toBe(true)
  await shot('records-filter-error')
  await page.getByLabel('Filter').fill('')
  await page.getByRole('button', { name: 'Apply filter' }).click()

  await page
    .getByRole('button', { name: /^Edit record/ })
    .first()
    .click()
  await expect.poll(() => page.getByRole('dialog').count()).toBe(1)
  await shot('record-panel')
  await page.keyboard.press('Escape')

  await page.getByRole('link', { name: 'Edit collection' }).click()
  await page.waitForURL(/\/schema$/)
  await shot('collection-editor')
  const rule = page.getByRole('combobox', { name: 'List/Search rule' })
  await rule.fill('')
  await rule.focus()
  await page.keyboard.type('author = @request.auth.id && views > 10 && @request.auth.ver')
  await expect
    .poll(() => page.getByRole('listbox', { name: 'Completions (listRule)' }).isVisible())
    .toBe(true)
  await rule.scrollIntoViewIfNeeded()
  await shot('rule-completion')
  await page.keyboard.press('Escape')
  await page.keyboard.type('ified = tru &&')
  await expect.poll(() => page.locator('#rule-listRule-error').isVisible()).toBe(true)
  await shot('rule-error')
  await page.getByRole('link', { name: /posts/ }).click()
  await expect.poll(() => page.locator('tbody tr').count()).toBe(4)
  await page.getByLabel('Select all records on this page').check()
  await page.getByText('Copy query').click()
  await shot('records-bulk')
  await page.getByRole('link', { name: 'Edit collection' }).click()
  await page.waitForURL(/\/schema$/)
  await page.getByRole('button', { name: 'Delete collection' }).click()
  await expect.poll(() => page.getByRole('dialog').textContent()).toContain('4 records')
  await shot('collection-delete')
  await page.keyboard.press('Escape')

  await page.getByRole('link', { name: 'New collection' }).click()
  await page.locator('#collection-name').fill('comments')
  await shot('collection-new')

  await page.getByRole('link', { name: 'users' }).click()
  await page.getByRole('button', { name: /^Edit record/ }).click()
  await page.locator('#user-impersonate-duration').scrollIntoViewIfNeeded()
  await shot('user-actions')
  await page.keyboard.press('Escape')

  await page.getByRole('banner').getByRole('link', { name: 'Settings' }).click()
  await expect.poll(() => page.getByLabel('Application name').inputValue()).toBe('Galley')
  await page.getByLabel('Send through an SMTP server').check()
  await page.getByLabel('Application URL').fill('not a url')
  await page.getByRole('button', { name: 'Save settings' }).click()
  await expect.poll(() => page.locator('#settings-meta-appURL-error').isVisible()).toBe(true)
  await page.getByLabel('Application URL').scrollIntoViewIfNeeded()
  await shot('settings')
  await page
    .getByText('users', { exact: true })
    .filter({ has: page.locator('xpath=self::summary') })
    .click()
  await page.getByRole('form', { name: 'Tokens and OAuth2 of users' }).scrollIntoViewIfNeeded()
  await shot('settings-auth-collection')
  expect(b.consoleErrors).toEqual([])
})

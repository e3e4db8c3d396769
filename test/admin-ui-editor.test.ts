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
        { name: 'coauthors', type: 'relation', collectionId: authors.id, maxSelect: 2 },
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

  /** The ids of the table's rows, in order (from their selection checkboxes). */
  async function tableIds(): Promise<string[]> {
    const labels = await page
      .locator('tbody td.select input')
      .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''))
    return labels.map((l) => l.replace('Select record ', ''))
  }

  it('chooses the columns, remembered for the collection after a reload', async () => {
    for (let i = 1; i <= 6; i++) await api.collection('books').create({ title: `B${i}`, pages: i * 10 })
    await page.goto(`${server.url}/_/#/collections/books`)
    await expect.poll(() => tableIds().then((ids) => ids.length)).toBe(7)
    const header = page.locator('thead th')
    expect(await header.allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('pages')]))
    await page.getByText('Columns (').click()
    await page.getByRole('group', { name: 'Columns shown' }).getByLabel('pages').uncheck()
    await expect.poll(() => page.locator('td[data-field="pages"]').count()).toBe(0)
    await page.reload()
    await expect.poll(() => tableIds().then((ids) => ids.length)).toBe(7)
    expect(await page.locator('td[data-field="pages"]').count()).toBe(0)
    expect(await page.locator('td[data-field="title"]').count()).toBe(7)
    await page.getByText('Columns (').click()
    expect(await page.getByRole('group', { name: 'Columns shown' }).getByLabel('pages').isChecked()).toBe(
      false,
    )
    await page.getByText('Columns (').click()
  })

  it('clears the selection when the page, filter, sort or page size changes', async () => {
    const selectTwo = async () => {
      const ids = (await tableIds()).slice(0, 2)
      for (const id of ids) await page.getByLabel(`Select record ${id}`).check()
      await expect.poll(() => page.getByText('2 selected').count()).toBe(1)
    }
    const cleared = async () => {
      await expect.poll(() => page.getByText(/^\d+ selected$/).count()).toBe(0)
      expect(await page.getByRole('button', { name: /^Delete selected/ }).count()).toBe(0)
      expect(await page.locator('tbody td.select input:checked').count()).toBe(0)
    }
    await selectTwo()
    await page.getByRole('searchbox', { name: 'Filter' }).fill('title ~ "B"')
    await page.getByRole('button', { name: 'Apply filter' }).click()
    await cleared()
    await selectTwo()
    await page.getByRole('button', { name: 'title' }).click()
    await cleared()
    await selectTwo()
    await page.getByLabel('Per page').selectOption('10')
    await cleared()
    // four more records make two pages of ten
    const extra: string[] = []
    for (let i = 1; i <= 4; i++) extra.push((await api.collection('books').create({ title: `P${i}` })).id)
    await page.getByRole('searchbox', { name: 'Filter' }).fill('')
    await page.getByRole('button', { name: 'Apply filter' }).click()
    await expect.poll(() => tableIds().then((ids) => ids.length)).toBe(10)
    await selectTwo()
    await page.getByRole('button', { name: 'Next page' }).click()
    await cleared()
    await expect.poll(() => tableIds().then((ids) => ids.length)).toBe(1)
    for (const id of extra) await api.collection('books').delete(id)
    await page.reload()
    await expect.poll(() => tableIds().then((ids) => ids.length)).toBe(7)
  })

  it('deletes three selected records after a confirmation naming how many', async () => {
    const ids = (await api.collection('books').getFullList({ filter: 'title ~ "B"', sort: 'title' })).map(
      (r) => r.id,
    )
    const doomed = ids.slice(0, 3)
    for (const id of doomed) await page.getByLabel(`Select record ${id}`).check()
    await expect.poll(() => page.getByText('3 selected').count()).toBe(1)
    await accessible('the records table with selections')
    await page.getByRole('button', { name: 'Delete selected (3)' }).click()
    const dialog = page.getByRole('dialog', { name: 'Delete 3 records?' })
    expect(await dialog.textContent()).toContain('This deletes 3 records of books')
    await dialog.getByRole('button', { name: 'Delete 3 records' }).click()
    await expect.poll(() => page.locator('.bulk-report').textContent()).toContain('Deleted 3 records')
    const left = (await api.collection('books').getFullList()).map((r) => r.id)
    for (const id of doomed) expect(left).not.toContain(id)
    expect(left).toHaveLength(4)
    await expect.poll(() => tableIds()).toEqual(expect.not.arrayContaining(doomed))

    // with batch requests enabled: one batch, one transaction; a refused record is named, in words
    await api.settings.update({ batch: { enabled: true, maxRequests: 50 } })
    const books = await api.collections.getOne('books')
    const reviews = await api.collections.create({
      name: 'reviews',
      fields: [{ name: 'book', type: 'relation', collectionId: books.id, maxSelect: 1, required: true }],
    })
    const kept = left[0]!
    const review = await api.collection('reviews').create({ book: kept })
    await page.getByLabel('Select all records on this page').check()
    await page.getByRole('button', { name: 'Delete selected (4)' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Delete 4 records' }).click()
    const report = page.locator('.bulk-report')
    await expect.poll(() => report.textContent()).toContain('Deleted 0 records (batch)')
    expect(await report.getByRole('alert').textContent()).toContain('4 records were not deleted')
    expect(
      await report
        .locator('li')
        .filter({ has: page.locator('.mono', { hasText: kept }) })
        .textContent(),
    ).toContain('part of a required relation reference')
    expect(
      await report
        .locator('li')
        .filter({ hasNot: page.locator('.mono', { hasText: kept }) })
        .allTextContents(),
    ).toEqual(Array(3).fill(expect.stringContaining(`rolled back because record ${kept} was refused`)))
    expect(await api.collection('books').getFullList()).toHaveLength(4)
    // the refused ones stay selected: with the reference gone they go
    await api.collection('reviews').delete(review.id)
    await api.collections.delete(reviews.id)
    await page.getByRole('button', { name: 'Delete selected (4)' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Delete 4 records' }).click()
    await expect.poll(() => report.textContent()).toContain('Deleted 4 records (batch)')
    expect(await api.collection('books').getFullList()).toEqual([])
  })

  it('copies the query as curl and SDK text that return what the table shows, without the token', async () => {
    for (let i = 1; i <= 5; i++) await api.collection('books').create({ title: `C${i}`, pages: i })
    await page.reload()
    await page.getByRole('searchbox', { name: 'Filter' }).fill('pages > 1 && title ~ "C"')
    await page.getByRole('button', { name: 'Apply filter' }).click()
    await page.getByRole('button', { name: 'title' }).click()
    await page.getByRole('button', { name: 'title' }).click() // descending
    await expect
      .poll(() => page.locator('td[data-field="title"]').allTextContents())
      .toEqual(['C5', 'C4', 'C3', 'C2'])
    const shown = await tableIds()
    await page.getByText('Copy query').click()
    const curl = (await page.locator('#snippet-curl').textContent()) ?? ''
    const sdk = (await page.locator('#snippet-sdk').textContent()) ?? ''
    const token = api.authStore.token
    const dashboardToken = (await page.evaluate(
      'JSON.parse(localStorage.getItem("galley_dashboard_auth")).token',
    )) as string
    for (const text of [curl, sdk]) {
      expect(text).not.toContain(token)
      expect(text).not.toContain(dashboardToken)
      expect(text).toContain('<SUPERUSER_TOKEN>')
    }
    expect(curl).toContain(`filter=${encodeURIComponent('pages > 1 && title ~ "C"')}`)
    expect(curl).toContain('sort=-title')
    expect(sdk).toContain('filter: "pages > 1 && title ~ \\"C\\""')
    expect(sdk).toContain('sort: "-title"')
    const m = /^curl '([^']+)' \\\n {2}-H 'Authorization: (<SUPERUSER_TOKEN>)'$/.exec(curl)
    expect(m, curl).not.toBeNull()
    const res = await fetch(m![1]!, { headers: { Authorization: token } })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { items: { id: string; title: string }[] }
    expect(body.items.map((r) => r.id)).toEqual(shown)
    // the table's own fields, no more: pages is not a chosen column; of the related records, only
    // their ids and labels
    const url = new URL(m![1]!)
    const fields = url.searchParams.get('fields')!.split(',')
    expect(fields).toEqual(expect.arrayContaining(['id', 'title', 'author']))
    expect(fields).not.toContain('pages')
    expect(url.searchParams.get('expand')).toBe('author,coauthors')
    expect(sdk).toContain('expand: "author,coauthors"')
    expect(fields.filter((n) => n.startsWith('expand.')).sort()).toEqual(
      ['author', 'coauthors'].flatMap((n) => [`expand.${n}.id`, `expand.${n}.name`]).sort(),
    )
    expect(Object.keys(body.items[0]!).sort()).toEqual(
      [...new Set(fields.map((n) => n.split('.')[0]))].sort(),
    )
    expect(body.items[0]).not.toHaveProperty('pages')
    await page.getByText('Copy query').click()
  })

  it('picks relations by searching the target’s names, one or several', async () => {
    const authors = api.collection('authors')
    const ursula = await authors.create({ name: 'Ursula Le Guin' })
    const terry = await authors.create({ name: 'Terry Pratchett' })
    const neil = await authors.create({ name: 'Neil Gaiman' })
    await page.getByRole('button', { name: 'New record' }).click()
    const panel = page.getByRole('dialog')
    await panel.getByLabel(/^title/).fill('Good Omens')
    const author = panel.getByRole('combobox', { name: /^author/ })
    await author.fill('pratch')
    await expect
      .poll(() => panel.getByRole('option').allTextContents())
      .toEqual([`Terry Pratchett ${terry.id}`])
    await author.press('Enter')
    await expect
      .poll(() => panel.getByRole('list', { name: 'Chosen author' }).textContent())
      .toContain('Terry Pratchett')
    const co = panel.getByRole('combobox', { name: /^coauthors/ })
    await co.fill('a')
    await expect.poll(() => panel.getByRole('option').count()).toBe(3)
    // Escape closes the list, not the panel around it
    await co.press('Escape')
    await expect.poll(() => panel.getByRole('listbox').isHidden()).toBe(true)
    expect(await panel.isVisible()).toBe(true)
    await co.fill('gaiman')
    await expect.poll(() => panel.getByRole('option').allTextContents()).toEqual([`Neil Gaiman ${neil.id}`])
    await co.press('Enter')
    await co.fill('ursula')
    await expect.poll(() => panel.getByRole('option').count()).toBe(1)
    await accessible('the record panel with a relation list open')
    await co.press('Enter')
    await expect.poll(() => co.isDisabled()).toBe(true) // maxSelect reached
    await panel.getByRole('button', { name: 'Remove Ursula Le Guin' }).click()
    expect(await co.isDisabled()).toBe(false)
    await co.fill('ursula')
    await expect.poll(() => panel.getByRole('option').count()).toBe(1)
    await co.press('Enter')
    await panel.getByRole('button', { name: 'Create record' }).click()
    await expect.poll(() => panel.count()).toBe(0)
    const saved = await api
      .collection('books')
      .getFirstListItem(api.filter('title = {:t}', { t: 'Good Omens' }))
    expect(saved.author).toBe(terry.id)
    expect(saved.coauthors).toEqual([neil.id, ursula.id])
    // a stored record's relations show their labels when it is opened again (the filter of the
    // test before goes with a reload)
    await page.reload()
    await page.getByRole('button', { name: `Edit record ${saved.id}` }).click()
    const again = page.getByRole('dialog')
    await expect
      .poll(() => again.getByRole('list', { name: 'Chosen author' }).textContent())
      .toContain('Terry Pratchett')
    await expect
      .poll(() => again.getByRole('list', { name: 'Chosen coauthors' }).textContent())
      .toMatch(/Neil Gaiman.*Ursula Le Guin/)
    await again.getByRole('button', { name: 'Cancel' }).click()
    // the table shows them by their labels too
    const row = page.locator('tbody tr').filter({ has: page.getByLabel(`Select record ${saved.id}`) })
    await expect.poll(() => row.locator('td[data-field="author"]').textContent()).toBe('Terry Pratchett')
    expect(await row.locator('td[data-field="coauthors"]').textContent()).toBe('Neil Gaiman, Ursula Le Guin')
    // a related record without a label is shown by its id
    const nameless = await authors.create({ name: '' })
    const anonymous = await api.collection('books').create({ title: 'Anonymous', author: nameless.id })
    await page.reload()
    const plain = page.locator('tbody tr').filter({ has: page.getByLabel(`Select record ${anonymous.id}`) })
    await expect.poll(() => plain.locator('td[data-field="author"]').textContent()).toBe(nameless.id)
  })

  it('previews a protected image with a file token', async () => {
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
      'base64',
    )
    const form = new FormData()
    form.append('title', 'Covered')
    form.append('cover', new Blob([png], { type: 'image/png' }), 'cover.png')
    const rec = await api.collection('books').create(form)
    // without a token the file is not served
    expect((await fetch(api.files.getURL(rec, rec.cover as string))).status).toBe(404)
    await page.reload()
    await page.getByRole('button', { name: `Edit record ${rec.id}` }).click()
    const panel = page.getByRole('dialog')
    const img = panel.getByRole('img', { name: `Preview of ${rec.cover as string}` })
    await expect.poll(() => img.count()).toBe(1)
    expect(await img.getAttribute('src')).toMatch(/[?&]token=/)
    await expect
      .poll(() => img.evaluate((e) => (e as unknown as { naturalWidth: number }).naturalWidth))
      .toBeGreaterThan(0)
    expect(await panel.getByRole('link', { name: rec.cover as string }).getAttribute('href')).toMatch(
      /[?&]token=/,
    )
    await panel.getByRole('button', { name: 'Cancel' }).click()
  })

  it('is readable at 390 px and in dark mode, menus and lists open, with no console errors', async () => {
    const overflow = () => page.evaluate('document.documentElement.scrollWidth - window.innerWidth')
    await page.setViewportSize({ width: 390, height: 844 })
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme })
      await page.goto(`${server.url}/_/#/collections/books`)
      await expect.poll(() => page.locator('tbody td.select').count()).toBeGreaterThan(0)
      await page.locator('tbody td.select input').first().check()
      await page.getByText('Columns (').click()
      await page.getByText('Copy query').click()
      expect(await overflow()).toBeLessThanOrEqual(0)
      await accessible(`the records table at 390 px, ${scheme}, menus open and a row selected`)

      await page.goto(`${server.url}/_/#/collections/books/schema`)
      const rule = page.getByRole('combobox', { name: 'List/Search rule' })
      await rule.fill('')
      await rule.pressSequentially('@request.au')
      await expect
        .poll(() => page.getByRole('listbox', { name: 'Completions (listRule)' }).isVisible())
        .toBe(true)
      expect(await overflow()).toBeLessThanOrEqual(0)
      await accessible(`the editor at 390 px, ${scheme}, completion list open`)
    }
    await page.setViewportSize({ width: 1280, height: 800 })
    await page.emulateMedia({ colorScheme: 'light' })
    expect(b.consoleErrors).toEqual([])
  })
})

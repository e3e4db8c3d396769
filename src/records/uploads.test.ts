import { describe, expect, it } from 'vitest'
import { detectMimeType, isSafeInline, normalizeFileName, STORED_NAME } from './uploads.js'

const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])
const text = Buffer.from('plain words')

describe('normalizeFileName (§10.3)', () => {
  it.each([
    ['My Photo.PNG', /^my_photo_[a-z0-9]{10}\.PNG$/],
    ['backup.tar.gz', /^backup_[a-z0-9]{10}\.tar\.gz$/],
    ['report.v2.pdf', /^report_[a-z0-9]{10}\.v2\.pdf$/],
    ['helloWorldFile.txt', /^hello_world_file_[a-z0-9]{10}\.txt$/],
    ['a.txt', /^a[a-z0-9]{10}_[a-z0-9]{10}\.txt$/],
    ['café crème.txt', /^café_crème_[a-z0-9]{10}\.txt$/],
  ])('%j', (name, want) => expect(normalizeFileName(name, text)).toMatch(want))

  it('takes the extension from the content when the name has none', () => {
    expect(normalizeFileName('picture', png)).toMatch(/^picture_[a-z0-9]{10}\.png$/)
    expect(normalizeFileName('notes', text)).toMatch(/^notes_[a-z0-9]{10}\.txt$/)
  })

  it.each([
    '../x',
    '../../etc/passwd',
    '..\\..\\boot.ini',
    '..%2f..%2fx',
    'a\0b.txt',
    '\u2024\u2024/\u2025x',
    '.',
    '..',
    '...',
    '',
    'x"\r\nSet-Cookie: a=b.txt',
    '.hidden',
    'a'.repeat(400) + '.txt',
    'x.' + 'e'.repeat(40),
  ])('makes %j one safe path segment', (name) => {
    const out = normalizeFileName(name, text)
    expect(out).toMatch(STORED_NAME)
    expect(out).not.toContain('..')
    expect(out).not.toMatch(/[/\\\0\r\n"]/)
    expect(out.length).toBeLessThanOrEqual(150)
  })

  it('appends a fresh random part every time', () => {
    expect(normalizeFileName('a.txt', text)).not.toBe(normalizeFileName('a.txt', text))
  })
})

describe('detectMimeType', () => {
  it.each([
    [png, 'image/png'],
    [Buffer.from([0xff, 0xd8, 0xff, 0xe0]), 'image/jpeg'],
    [Buffer.from('GIF89a....'), 'image/gif'],
    [Buffer.from('RIFF\0\0\0\0WEBPVP8 '), 'image/webp'],
    [Buffer.from('%PDF-1.7'), 'application/pdf'],
    [Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"></svg>'), 'image/svg+xml'],
    [Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'), 'image/svg+xml'],
    [Buffer.from('\uFEFF  <!DOCTYPE html><p>x'), 'text/html'],
    [Buffer.from('<script>alert(1)</script>'), 'text/html'],
    [Buffer.from('<?xml version="1.0"?><a/>'), 'text/xml'],
    [text, 'text/plain'],
    [Buffer.alloc(0), 'text/plain'],
    [Buffer.from([0, 1, 2, 3, 0xfe]), 'application/octet-stream'],
  ])('%#: %s', (head, want) => expect(detectMimeType(head)).toBe(want))

  it('serves inline only plainly inert types', () => {
    for (const t of ['image/png', 'application/pdf', 'video/mp4', 'audio/ogg', 'text/plain'])
      expect(isSafeInline(t)).toBe(true)
    for (const t of ['image/svg+xml', 'text/html', 'text/xml', 'application/octet-stream', 'text/javascript'])
      expect(isSafeInline(t)).toBe(false)
  })
})

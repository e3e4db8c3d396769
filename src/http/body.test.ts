import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { GalleyError } from '../lib/index.js'
import { formBody, inferFormValue } from './body.js'
import {
  MAX_FORM_VALUES_BYTES,
  MAX_MULTIPART_FILES,
  MAX_MULTIPART_PARTS,
  readMultipart,
  rejectFileUploads,
} from './multipart.js'

describe('inferFormValue (PocketBase router.inferValue)', () => {
  // Expected values follow Go: strconv.ParseFloat, then FormatFloat(v, 'f', -1, 64) == raw.
  const cases: [string, unknown][] = [
    ['true', true],
    ['false', false],
    ['True', 'True'],
    ['', ''],
    ['0', 0],
    ['12', 12],
    ['-1.5', -1.5],
    ['0.1', 0.1],
    ['0.000001', 0.000001],
    ['0.0000001', 1e-7], // JavaScript writes 1e-7; Go's 'f' format does not
    ['1000000000000000000000', 1e21], // likewise 1e+21
    ['-0', -0],
    ['012', '012'],
    ['1.0', '1.0'],
    ['1.50', '1.50'],
    ['-0.0', '-0.0'],
    ['.5', '.5'],
    ['-.5', '-.5'],
    ['1.', '1.'],
    ['1e3', '1e3'],
    ['+1', '+1'],
    [' 1', ' 1'],
    ['1 ', '1 '],
    ['0x10', '0x10'],
    ['1_000', '1_000'],
    ['Infinity', 'Infinity'],
    ['NaN', 'NaN'],
    ['-', '-'],
    ['--1', '--1'],
    ['1-2', '1-2'],
    ['1.2.3', '1.2.3'],
    ['9007199254740993', '9007199254740993'], // rounds to ...992
    ['1' + '0'.repeat(400), '1' + '0'.repeat(400)], // out of range
  ]
  it.each(cases)('%j -> %j', (raw, expected) => {
    expect(Object.is(inferFormValue(raw), expected)).toBe(true)
  })
})

describe('formBody', () => {
  it('infers each value; a repeated key becomes an array', () => {
    expect(
      formBody([
        ['title', 'Hello'],
        ['tags', 'a'],
        ['tags', '2'],
        ['views', '3'],
        ['on', 'true'],
      ]),
    ).toEqual({ title: 'Hello', tags: ['a', 2], views: 3, on: true })
  })

  it('merges every @jsonPayload over the values, in order and without inference', () => {
    expect(
      formBody([
        ['@jsonPayload', '{"meta":{"x":1},"title":"from json","n":"5"}'],
        ['title', 'plain'],
        ['keep', '1'],
        ['@jsonPayload', '{"n":"6"}'],
        ['@jsonPayload', 'null'],
      ]),
    ).toEqual({ meta: { x: 1 }, title: 'from json', n: '6', keep: 1 })
  })

  it.each(['[1]', '"x"', '5', '{bad', '{"a":1} x', '['.repeat(1001) + ']'.repeat(1001)])(
    'refuses the @jsonPayload %j with a 400',
    (payload) => {
      const err = (() => {
        try {
          formBody([['@jsonPayload', payload]])
        } catch (e) {
          return e
        }
      })()
      expect(err).toBeInstanceOf(GalleyError)
      expect((err as GalleyError).status).toBe(400)
    },
  )

  it('keeps __proto__ an own, inert key, as JSON.parse does', () => {
    const out = formBody([
      ['__proto__', 'x'],
      ['@jsonPayload', '{"constructor":{"polluted":true}}'],
    ])
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
    expect(JSON.stringify(out)).toBe('{"__proto__":"x","constructor":{"polluted":true}}')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})

// ---------------------------------------------------------------------------------------------

const BOUNDARY = 'galleyBoundary7MA4YWxk'
const TYPE = `multipart/form-data; boundary=${BOUNDARY}`

interface Part {
  name?: string
  value: string
  filename?: string
  type?: string
}

function encode(parts: readonly Part[]): Buffer {
  const chunks = parts.map((p) => {
    let disposition = 'form-data'
    if (p.name !== undefined) disposition += `; name="${p.name}"`
    if (p.filename !== undefined) disposition += `; filename="${p.filename}"`
    const type = p.type ? `\r\nContent-Type: ${p.type}` : ''
    return `--${BOUNDARY}\r\nContent-Disposition: ${disposition}${type}\r\n\r\n${p.value}\r\n`
  })
  return Buffer.from(chunks.join('') + `--${BOUNDARY}--\r\n`)
}

async function failure(p: Promise<unknown>): Promise<GalleyError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(err instanceof GalleyError)) throw new Error(`expected a GalleyError, got ${String(err)}`)
  return err
}

const read = (body: Buffer | Readable, limit = 1024 * 1024, type = TYPE) =>
  readMultipart(body instanceof Readable ? body : Readable.from([body]), type, limit)

describe('readMultipart', () => {
  it('reads values in order; a non-empty filename makes a file; parts without a name are skipped', async () => {
    const form = await read(
      encode([
        { name: 'title', value: 'Hello' },
        { name: 'tags', value: 'a' },
        { value: 'nameless' },
        { name: 'empty', value: '', filename: '' },
        { name: 'documents+', value: 'file bytes', filename: 'Report Q1.pdf', type: 'application/pdf' },
        { name: 'tags', value: 'b' },
        { name: 'unicode', value: 'żółw ✓' },
      ]),
    )
    expect(form.values).toEqual([
      ['title', 'Hello'],
      ['tags', 'a'],
      ['empty', ''],
      ['tags', 'b'],
      ['unicode', 'żółw ✓'],
    ])
    expect(form.files).toEqual([
      { field: 'documents+', filename: 'Report Q1.pdf', mimeType: 'application/pdf', size: 10 },
    ])
  })

  it('reads an empty body as an empty form', async () => {
    expect(await read(Buffer.alloc(0))).toEqual({ values: [], files: [] })
  })

  it('refuses a missing boundary, a wrong boundary and a truncated body with a 400', async () => {
    const body = encode([{ name: 'a', value: '1' }])
    for (const [b, type] of [
      [body, 'multipart/form-data'],
      [body, 'multipart/form-data; boundary=other'],
      [body.subarray(0, body.length - 20), TYPE],
      [Buffer.from('garbage without any boundary'), TYPE],
    ] as const) {
      const err = await failure(read(b, 1024, type))
      expect(err.status).toBe(400)
    }
  })

  it('fails a body whose connection closes before its end with a 400', async () => {
    const stream = new Readable({ read() {} })
    const p = read(stream)
    stream.push(encode([{ name: 'a', value: '1' }]).subarray(0, 30))
    setImmediate(() => stream.destroy())
    expect((await failure(p)).status).toBe(400)
  })

  it('holds the body to its limit: limit bytes pass, limit + 1 is a 413', async () => {
    const body = encode([{ name: 'a', value: 'x'.repeat(5000) }])
    expect((await read(body, body.length)).values[0]![1]).toHaveLength(5000)
    expect((await failure(read(body, body.length - 1))).status).toBe(413)
  })

  it(`allows ${MAX_MULTIPART_PARTS} parts and refuses one more with a 413`, async () => {
    const parts = Array.from({ length: MAX_MULTIPART_PARTS }, (_, i) => ({ name: `k${i}`, value: '1' }))
    expect((await read(encode(parts))).values).toHaveLength(MAX_MULTIPART_PARTS)
    const err = await failure(read(encode([...parts, { name: 'last', value: '1' }])))
    expect([err.status, err.message]).toEqual([
      413,
      `A multipart body may have at most ${MAX_MULTIPART_PARTS} parts.`,
    ])
  })

  it(`allows ${MAX_MULTIPART_FILES} files and refuses one more with a 413`, async () => {
    const files = Array.from({ length: MAX_MULTIPART_FILES }, (_, i) => ({
      name: 'documents',
      value: 'x',
      filename: `f${i}.txt`,
    }))
    expect((await read(encode(files))).files).toHaveLength(MAX_MULTIPART_FILES)
    const err = await failure(read(encode([...files, { name: 'd', value: 'x', filename: 'last.txt' }])))
    expect([err.status, err.message]).toEqual([
      413,
      `A multipart body may have at most ${MAX_MULTIPART_FILES} files.`,
    ])
  })

  it(`allows ${MAX_FORM_VALUES_BYTES} bytes of values in total and refuses one more with a 413`, async () => {
    const limit = 64 * 1024 * 1024
    const half = MAX_FORM_VALUES_BYTES / 2
    const at = encode([
      { name: 'a', value: 'x'.repeat(half) },
      { name: 'b', value: 'é'.repeat(half / 2) }, // two bytes each: bytes count, not characters
    ])
    const form = await read(at, limit)
    expect(form.values.map(([, v]) => Buffer.byteLength(v))).toEqual([half, half])
    const over = encode([
      { name: 'a', value: 'x'.repeat(half) },
      { name: 'b', value: 'x'.repeat(half + 1) },
    ])
    expect((await failure(read(over, limit))).status).toBe(413)
    const single = encode([{ name: 'a', value: 'x'.repeat(MAX_FORM_VALUES_BYTES + 1) }])
    expect((await failure(read(single, limit))).status).toBe(413)
  })
})

describe('rejectFileUploads', () => {
  it('names each field that carried a file', () => {
    expect(() => rejectFileUploads([])).not.toThrow()
    const err = (() => {
      try {
        rejectFileUploads([
          { field: 'avatar', filename: 'a.png', mimeType: 'image/png', size: 1 },
          { field: 'requests.0.documents+', filename: 'b.txt', mimeType: 'text/plain', size: 1 },
        ])
      } catch (e) {
        return e as GalleyError
      }
    })()
    expect(err?.toJSON()).toEqual({
      status: 400,
      message: 'File uploads are not accepted by this endpoint.',
      data: {
        avatar: {
          code: 'validation_invalid_file',
          message: 'File uploads are not accepted by this endpoint.',
        },
        'requests.0.documents+': {
          code: 'validation_invalid_file',
          message: 'File uploads are not accepted by this endpoint.',
        },
      },
    })
  })
})

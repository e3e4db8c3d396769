import { describe, expect, it } from 'vitest'
import { parseBodyKey } from './body-key.js'

describe('parseBodyKey', () => {
  const cases: [string, { name: string; op?: string }][] = [
    ['title', { name: 'title' }],
    ['views+', { name: 'views', op: '+' }],
    ['+tags', { name: 'tags', op: '^' }],
    ['tags-', { name: 'tags', op: '-' }],
    ['+tags+', { name: 'tags+', op: '^' }],
    ['+tags-', { name: 'tags-', op: '^' }],
    ['tags--', { name: 'tags-', op: '-' }],
    ['-tags', { name: '-tags' }],
    ['slug:autogenerate', { name: 'slug:autogenerate' }],
    ['+', { name: '+' }],
    ['-', { name: '-' }],
    ['', { name: '' }],
  ]
  it.each(cases)('%j', (key, want) => expect(parseBodyKey(key)).toEqual(want))
})

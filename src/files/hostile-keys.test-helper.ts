/** Keys no store may take: traversal, absolute, empty or control-character segments, any separator. */
export const HOSTILE_KEYS: readonly string[] = [
  '../x',
  'c1/../../x',
  'c1/r1/..',
  'c1/./x',
  '/etc/passwd',
  'c1//x',
  'c1\\..\\x',
  'c1/r1/a\\b',
  'c1/r1/a\0b',
  'c1/r1/a\nb',
  'c1/r1/a\x7fb',
  '',
  '/',
  '.',
  'a/b/c/d/e/f/g/h/i',
  `c1/r1/${'x'.repeat(256)}`,
]

// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/**
 * The layers of docs/architecture.md. A folder may import only from the folders listed for it;
 * everything else under src/ is forbidden. Cross-domain imports go through the domain's index.ts.
 */
const layers = {
  lib: [],
  db: ['lib'],
  filter: ['lib', 'db'],
  settings: ['lib', 'db'],
  mail: ['lib', 'settings'],
  schema: ['lib', 'db', 'filter'],
  rules: ['lib', 'db', 'filter', 'schema'],
  records: ['lib', 'db', 'filter', 'schema', 'rules', 'settings'],
  auth: ['lib', 'db', 'filter', 'schema', 'rules', 'records', 'settings', 'mail'],
  files: ['lib', 'db', 'filter', 'schema', 'rules', 'records', 'settings'],
  realtime: ['lib', 'db', 'filter', 'schema', 'rules', 'records', 'settings'],
  hooks: ['lib', 'db', 'filter', 'schema', 'rules', 'records', 'settings'],
  http: [
    'lib',
    'db',
    'filter',
    'schema',
    'settings',
    'mail',
    'rules',
    'records',
    'auth',
    'files',
    'realtime',
    'hooks',
  ],
  graphql: [
    'lib',
    'db',
    'filter',
    'schema',
    'settings',
    'mail',
    'rules',
    'records',
    'auth',
    'files',
    'realtime',
    'hooks',
  ],
  admin: ['lib'],
}
const all = [...Object.keys(layers), 'cli', 'app']

const boundaryConfigs = Object.entries(layers).map(([layer, allowed]) => {
  const forbidden = all.filter((l) => l !== layer && !allowed.includes(l))
  const patterns = [
    {
      group: forbidden.flatMap((l) => [`**/${l}/*`, `**/${l}/**`, `**/${l}.js`]),
      message: `src/${layer} may only import from: ${allowed.join(', ') || '(nothing in src)'} (docs/architecture.md).`,
    },
    {
      // another domain is reached only through its index.ts
      group: allowed.flatMap((l) => [`**/${l}/*`, `!**/${l}/index.js`]),
      message: 'Import another domain through its index.ts only.',
    },
  ].filter((p) => p.group.length > 0)
  return {
    files: [`src/${layer}/**/*.ts`],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns }] },
  }
})

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'galley_data/**', 'packages/*/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        AbortController: 'readonly',
        fetch: 'readonly',
        performance: 'readonly',
        setImmediate: 'readonly',
        structuredClone: 'readonly',
        TextEncoder: 'readonly',
        URLSearchParams: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['error', 'warn'] }],
    },
  },
  ...boundaryConfigs,
  {
    // The dashboard runs in the browser (its .svelte files are not linted: no svelte plugin here).
    files: ['packages/admin-ui/**/*.ts'],
    languageOptions: {
      globals: {
        window: 'readonly',
        document: 'readonly',
        location: 'readonly',
        localStorage: 'readonly',
        HTMLElement: 'readonly',
        HTMLDialogElement: 'readonly',
        File: 'readonly',
        FormData: 'readonly',
        Event: 'readonly',
        KeyboardEvent: 'readonly',
      },
    },
  },
  {
    files: ['src/cli/**/*.ts', 'bench/**', 'test/**', 'bin/**', '.ci/**', 'src/**/*.test.ts'],
    rules: { 'no-console': 'off' },
  },
)

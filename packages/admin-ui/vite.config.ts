import { fileURLToPath } from 'node:url'
import { svelte } from '@sveltejs/vite-plugin-svelte'
import { defineConfig } from 'vite'

/**
 * The dashboard, built by the root `npm run build` into packages/admin-ui/dist, which Galley serves
 * at /_/ (src/http/routes/admin.ts). Hashed files go to dist/assets (served as immutable).
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/_/',
  plugins: [svelte()],
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    // No inline scripts or data: URLs: the dashboard's CSP allows only files from /_/.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
})

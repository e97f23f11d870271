import { fileURLToPath } from 'node:url'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'
import { precompress } from './build/precompress.ts'

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // The server serves the app under /_/ (packages/server/src/admin).
  base: '/_/',
  plugins: [react(), precompress()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The page's CSP allows no inline script or data: script, so nothing may be inlined as one.
    assetsInlineLimit: 0,
  },
})

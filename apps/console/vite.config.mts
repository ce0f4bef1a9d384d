// The Console: a single page built by Vite into dist/apps/console, which the Hive serves at `/`.
import react from '@vitejs/plugin-react';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  plugins: [react()],
  resolve: { alias: { '@mosaic/hive-api': resolve(here, '../../libs/hive-api/src/index.ts') } },
  build: {
    outDir: resolve(here, '../../dist/apps/console'),
    emptyOutDir: true,
    target: 'es2022',
    // No inline scripts or styles: the Hive's Content-Security-Policy allows files from itself only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  worker: { format: 'es' },
  // `vite` (dev server) against a Hive on :8080: npm run console:dev
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/socket.io': { target: 'ws://127.0.0.1:8080', ws: true },
    },
  },
});

import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The dashboard is served by techmart-api from web/dist at "/"; in development `npm run dev`
// proxies /api to a running API (TECHMART_API_URL, default http://localhost:8080).
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 800,
  },
  server: {
    proxy: { '/api': { target: process.env.TECHMART_API_URL ?? 'http://localhost:8080', changeOrigin: true } },
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});

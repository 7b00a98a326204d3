import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `vite build web` writes web/dist, which the server serves at /. `vite web` (dev) proxies
// the API to a server started with `npm run dev`.
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 800 },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080', '/docs': 'http://127.0.0.1:8080' },
  },
});

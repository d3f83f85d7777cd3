import { defineConfig } from 'vite';

// `npm run dev` serves the demo with hot reload and forwards the API to a reference server on :8080
// (`npm start` at the repo root). The production build is served by the reference server itself.
export default defineConfig({
  server: {
    proxy: {
      '/v1': { target: 'http://127.0.0.1:8080', ws: true },
    },
  },
  build: {
    target: 'es2022',
    sourcemap: true,
  },
});

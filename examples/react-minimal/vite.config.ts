import { defineConfig } from 'vite';

// `npm run dev` serves the example and forwards the API to a natter server on :8080 (`npm start` at the
// repository root), so the app talks to its own origin.
export default defineConfig({
  server: {
    proxy: {
      '/v1': { target: 'http://127.0.0.1:8080', ws: true },
    },
  },
  build: { target: 'es2022', sourcemap: true },
});

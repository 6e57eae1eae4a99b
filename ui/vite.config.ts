import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The Content Security Policy the Tauri window uses. `vite preview` serves the
// built app under it too, so the browser tests catch anything that would be
// blocked in the real window (inline scripts, style attributes, ...).
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src ipc: http://ipc.localhost";

export default defineConfig({
  plugins: [svelte()],
  base: './',
  clearScreen: false,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // WebKitGTK (Tauri on Linux) and WKWebView/WebView2 all handle ES2021.
    target: 'es2021',
    cssTarget: 'safari14',
    // No inline styles or data: URLs for assets.
    assetsInlineLimit: 0,
    // The polyfill would fetch() chunks, which connect-src forbids.
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  server: {
    host: '127.0.0.1',
    port: 1420,
    strictPort: true,
  },
  preview: {
    host: '127.0.0.1',
    port: 4599,
    strictPort: true,
    headers: { 'Content-Security-Policy': CSP },
  },
});

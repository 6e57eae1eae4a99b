import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/vite-plugin-svelte').SvelteConfig} */
export default {
  preprocess: vitePreprocess(),
  compilerOptions: {
    runes: true,
    // CSS goes to extracted files, never into <style> tags or attributes:
    // the app runs under a CSP without 'unsafe-inline'.
    css: 'external',
  },
};

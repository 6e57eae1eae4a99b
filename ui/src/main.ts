import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';

const target = document.getElementById('app');
if (!target) throw new Error('#app is missing from index.html');

// The static frame from index.html goes; the app draws the same top bar.
target.replaceChildren();
export default mount(App, { target });

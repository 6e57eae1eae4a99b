// Behind a captive portal or a proxy the core reports `intercepted`: the
// status bar and the Sync screen say so in words, never "Online".
import { CONNECTION_MESSAGES } from '../src/bindings/model';
import { SEED_STATUS, expect, test } from './fixtures';

const SIGN_IN = 'Not reaching the CRM: the network answered with a sign-in page';
const PROXY = 'Not reaching the CRM: a proxy answered';
const PAGE_WHY = `${SIGN_IN} (127.0.0.1:8787 answered HTTP 200 with text/html, not the CRM's JSON)`;

test.describe('an intercepted connection', () => {
  test('the words are the core’s', () => {
    expect(CONNECTION_MESSAGES).toEqual({ sign_in_page: SIGN_IN, proxy: PROXY });
  });

  test('the status bar says who answered instead of the CRM, and back to online by itself', async ({ openApp }) => {
    const app = await openApp({ status: { ...SEED_STATUS, connection: 'online' } });
    const conn = app.page.getByTestId('status-connection');
    const hint = app.page.getByTestId('status-hint');
    await app.listening('status-changed');

    await app.setConnection('intercepted', PAGE_WHY, 'sign_in_page');
    await expect(conn).toHaveText(SIGN_IN);
    await expect(conn).not.toContainText('Online');
    // The detail once, without the words again.
    await expect(hint).toHaveText("127.0.0.1:8787 answered HTTP 200 with text/html, not the CRM's JSON");
    await expect(app.page.getByTestId('retry-now')).toBeVisible();
    await expect(app.page.getByTestId('status-pending')).toHaveText('2 pending');

    await app.setConnection('intercepted', `${PROXY} (the server presented a TLS certificate for portal.example.net, not for crm.example.com)`, 'proxy');
    await expect(conn).toHaveText(PROXY);
    await expect(hint).toContainText('portal.example.net');

    await app.setConnection('online');
    await expect(conn).toHaveText('CRM: Syncing 2');
    await expect(hint).toHaveCount(0);
  });

  test('the Sync screen says it in words, with what to do', async ({ openApp }) => {
    const app = await openApp({
      status: { ...SEED_STATUS, connection: 'intercepted', last_error: PAGE_WHY, interception: 'sign_in_page' },
    });
    await app.page.keyboard.press('Control+Shift+S');
    const box = app.page.getByTestId('sync-connection');
    await expect(box).toContainText(SIGN_IN);
    await expect(box).toContainText('open a web browser and sign in');
    await expect(app.page.getByTestId('sync-last-error')).toHaveText(PAGE_WHY);
    await expect(app.page.getByTestId('summary-pending')).toHaveText('2');

    await app.setConnection('intercepted', `${PROXY} (127.0.0.1:8787 answered HTTP 403 with the proxy's own page)`, 'proxy');
    await expect(box).toContainText(PROXY);
    await expect(box).toContainText('let its address through the proxy');
  });
});

import type { Page } from '@playwright/test';
import { COUNTRIES, MESSAGES, PHONE_REGIONS } from '../src/bindings/model';
import { ADMIN_PASSPHRASE, expect, test } from './fixtures';

const select = (page: Page) => page.locator('#default-region');
const section = (page: Page) => page.getByTestId('phone-region');

test.describe('settings: the default region for phone numbers', () => {
  test('an admin picks the region from the generated list; automatic follows the computer', async ({ openApp }) => {
    const app = await openApp({ adminPassphrase: ADMIN_PASSPHRASE, localeRegion: 'DE' });
    const { page } = app;
    await app.openSettings();
    // Locked: no region to change.
    await expect(section(page)).toHaveCount(0);
    await app.unlockSettings();

    await expect(section(page).getByRole('heading')).toHaveText('Phone numbers');
    await expect(page.getByLabel('Default region for phone numbers')).toBeVisible();
    // Nothing set: the computer's region, in words.
    await expect(select(page)).toHaveValue('');
    await expect(select(page).locator('option:checked')).toHaveText("Automatic: this computer's region, Germany (+49)");
    // One option per country that has phone numbers, from the core's lists.
    const withPhones = COUNTRIES.filter((c) => PHONE_REGIONS.some((r) => r.code === c.code));
    await expect(select(page).locator('option')).toHaveCount(withPhones.length + 1);
    await expect(select(page).locator('option[value="FR"]')).toHaveText('France (+33)');
    await expect(section(page).getByRole('button', { name: 'Save' })).toBeDisabled();

    await select(page).selectOption('FR');
    await section(page).getByRole('button', { name: 'Save' }).click();
    await expect(page.getByTestId('phone-region-notice')).toHaveText(
      'Phone numbers without a country code are now read as France (+33).',
    );
    expect(await app.callsOf('set_app_settings')).toEqual([{ settings: { default_region: 'FR' } }]);
    expect(await app.appSettingsBackend()).toEqual({ setting: 'FR', locale: 'DE' });
    await expect(section(page).getByRole('button', { name: 'Save' })).toBeDisabled();

    // Shown again after leaving and coming back.
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('settings-screen')).toHaveCount(0);
    await app.unlockSettings();
    await expect(select(page)).toHaveValue('FR');

    // Back to automatic: the computer's region again.
    await select(page).selectOption('');
    await section(page).getByRole('button', { name: 'Save' }).click();
    await expect(page.getByTestId('phone-region-notice')).toHaveText(
      'Phone numbers without a country code are now read as Germany (+49).',
    );
    expect(await app.appSettingsBackend()).toEqual({ setting: null, locale: 'DE' });
  });

  test('without a region on the computer, automatic means numbers need their country code', async ({ openApp }) => {
    const app = await openApp({ adminPassphrase: ADMIN_PASSPHRASE, defaultRegion: 'AT' });
    const { page } = app;
    await app.unlockSettings();
    await expect(select(page)).toHaveValue('AT');
    await expect(select(page).locator('option[value=""]')).toHaveText('Automatic: none (this computer sets no region)');
    await select(page).selectOption('');
    await section(page).getByRole('button', { name: 'Save' }).click();
    await expect(page.getByTestId('phone-region-notice')).toHaveText(
      'There is no default region now: phone numbers need their country code.',
    );
  });

  test("the core's refusal is shown beside the select; a lock on the way returns to the passphrase", async ({ openApp }) => {
    const app = await openApp({ adminPassphrase: ADMIN_PASSPHRASE });
    const { page } = app;
    await app.unlockSettings();
    const refusal = MESSAGES.default_region_invalid ?? '';
    expect(refusal).not.toBe('');
    await page.evaluate((message) => {
      (window as unknown as { __mock: { setFailure(cmd: string, e: unknown): void } }).__mock.setFailure('set_app_settings', {
        code: 'validation',
        message: `default_region: ${message}`,
        fields: [{ field: 'default_region', message }],
      });
    }, refusal);
    await select(page).selectOption('NL');
    await section(page).getByRole('button', { name: 'Save' }).click();
    await expect(page.getByTestId('error-default_region')).toHaveText(refusal);
    await expect(select(page)).toHaveAttribute('aria-invalid', 'true');

    await page.evaluate(() => {
      const m = (window as unknown as { __mock: { clearFailure(cmd: string): void; expireAdminSession(): void } }).__mock;
      m.clearFailure('set_app_settings');
      m.expireAdminSession();
    });
    await section(page).getByRole('button', { name: 'Save' }).click();
    await expect(page.getByTestId('unlock-form')).toBeVisible();
    expect(await app.appSettingsBackend()).toEqual({ setting: null, locale: null });
  });
});

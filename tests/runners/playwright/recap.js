// The recipe for Playwright's request API (docs/runners.md): the `request` fixture, overridden so that every
// request carries the running test's title path, so recap records each call under the test that made it.
const { test: base, expect } = require('@playwright/test');

exports.expect = expect;
exports.test = base.extend({
    request: async ({ playwright }, use, testInfo) => {
        const name = [testInfo.file.split('/').pop(), ...testInfo.titlePath.slice(1)].join(' › ');
        const value = Buffer.from(name, 'utf8').toString('latin1'); // header bytes go as latin1: UTF-8 goes through
        const ctx = await playwright.request.newContext({
            baseURL: process.env.API_BASE_URL,
            extraHTTPHeaders: { 'X-Recap-Test': value, 'X-Recap-Phase': 'call' },
        });
        await use(ctx);
        await ctx.dispose();
    },
});

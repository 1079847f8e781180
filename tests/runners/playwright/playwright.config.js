// Playwright's test runner for API tests only: no browser is started (none is installed).
const os = require('os');
const path = require('path');

module.exports = {
    testDir: __dirname,
    testMatch: '*.spec.js',
    reporter: 'list',
    workers: 2,
    outputDir: path.join(os.tmpdir(), 'recap-playwright-results'),
    use: {},
};

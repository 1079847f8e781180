// The recipe for Jest with supertest (docs/runners.md): a supertest agent whose every request carries the
// running test's name and phase, so recap records each call under the test that made it. Only requests
// made through api() are labelled, and only to API_BASE_URL (recap's listener).
const path = require('path');
const request = require('supertest');

function testName() {
    const { testPath, currentTestName } = expect.getState();
    const name = `${path.relative(process.cwd(), testPath)}::${currentTestName}`;
    return Buffer.from(name, 'utf8').toString('latin1'); // Node sends header bytes as latin1: UTF-8 goes through
}

module.exports = function api() {
    return request.agent(process.env.API_BASE_URL).set('X-Recap-Test', testName()).set('X-Recap-Phase', 'call');
};

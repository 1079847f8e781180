const { test, expect } = require('./recap');

test.describe('organizations', () => {
    test('are created and read back', async ({ request }) => {
        const made = await request.post('/api/v1/organizations', { data: { name: `pw-${process.pid}-${Date.now()}` } });
        expect(made.status()).toBe(201);
        const org = await made.json();
        expect((await request.get(`/api/v1/organizations/${org.id}`)).status()).toBe(200);
    });

    test('health', async ({ request }) => {
        expect((await request.get('/api/v1/health')).ok()).toBeTruthy();
    });
});

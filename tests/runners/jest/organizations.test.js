const api = require('./recap');

describe('organizations', () => {
    test('are created and read back', async () => {
        const made = await api().post('/api/v1/organizations').send({ name: `jest-${process.pid}-${Date.now()}` });
        expect(made.status).toBe(201);
        await api().get(`/api/v1/organizations/${made.body.id}`).expect(200);
    });

    test('café: names outside ASCII survive', async () => {
        await api().get('/api/v1/health').expect(200);
    });
});

'use strict';
/*
 * A tag-mode example app for tests/e2e/test_73_tag_mode.py: the notes API (tests/apps/notes_django/app.py
 * says what it is) twice, under /pg with node-postgres by hand and under /orm with Sequelize, both tagged by
 * integrations/node/recap-tag.js. Usage: DATABASE_URL=... PORT=... node server.js
 */
const path = require('path');
const express = require('express');
const pg = require('pg');
const { Sequelize, DataTypes } = require('sequelize');
const recapTag = require(path.join(__dirname, '..', '..', '..', 'integrations', 'node', 'recap-tag.js'));

recapTag.install(pg);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 8 });
const sequelize = new Sequelize(process.env.DATABASE_URL, { logging: false, pool: { max: 8 } });
const Note = sequelize.define('Note', { title: DataTypes.TEXT }, { tableName: 'notes', timestamps: false });
const NoteEvent = sequelize.define('NoteEvent', { note_id: DataTypes.BIGINT, kind: DataTypes.TEXT },
    { tableName: 'note_events', timestamps: false });

const app = express();
app.use(recapTag.middleware);
app.use(express.json());

app.get('/health', (req, res) => res.json({ status: 'ok' }));

const wrap = (fn) => (req, res) => fn(req, res).catch((e) => res.status(500).json({ detail: String(e) }));

// node-postgres by hand: a checked-out client for transactions, pool.query for a single write
app.post('/pg/notes', wrap(async (req, res) => {
    const client = await pool.connect();
    try {
        await client.query('BEGIN');
        const note = await client.query('INSERT INTO notes (title) VALUES ($1) RETURNING id', [req.body.title]);
        const ev = await client.query("INSERT INTO note_events (note_id, kind) VALUES ($1, 'created') RETURNING id",
            [note.rows[0].id]);
        await client.query('COMMIT');
        res.status(201).json({ id: Number(note.rows[0].id), event: Number(ev.rows[0].id) });
    } catch (e) {
        await client.query('ROLLBACK');
        throw e;
    } finally {
        client.release();
    }
}));

app.post('/pg/notes/:id/events', wrap(async (req, res) => {
    const ev = await pool.query('INSERT INTO note_events (note_id, kind) VALUES ($1, $2) RETURNING id',
        [req.params.id, req.body.kind]);
    res.status(201).json({ event: Number(ev.rows[0].id) });
}));

app.patch('/pg/notes/:id', wrap(async (req, res) => {
    const client = await pool.connect();
    try {
        await client.query('BEGIN');
        await client.query('UPDATE notes SET title = $1 WHERE id = $2', [req.body.title, req.params.id]);
        const ev = await client.query("INSERT INTO note_events (note_id, kind) VALUES ($1, 'edited') RETURNING id",
            [req.params.id]);
        await client.query('COMMIT');
        res.json({ id: Number(req.params.id), event: Number(ev.rows[0].id) });
    } catch (e) {
        await client.query('ROLLBACK');
        throw e;
    } finally {
        client.release();
    }
}));

// Sequelize: managed transactions, and a create on its own
app.post('/orm/notes', wrap(async (req, res) => {
    const [note, ev] = await sequelize.transaction(async (transaction) => {
        const n = await Note.create({ title: req.body.title }, { transaction });
        return [n, await NoteEvent.create({ note_id: n.id, kind: 'created' }, { transaction })];
    });
    res.status(201).json({ id: Number(note.id), event: Number(ev.id) });
}));

app.post('/orm/notes/:id/events', wrap(async (req, res) => {
    const ev = await NoteEvent.create({ note_id: req.params.id, kind: req.body.kind });
    res.status(201).json({ event: Number(ev.id) });
}));

app.patch('/orm/notes/:id', wrap(async (req, res) => {
    const ev = await sequelize.transaction(async (transaction) => {
        await Note.update({ title: req.body.title }, { where: { id: req.params.id }, transaction });
        return NoteEvent.create({ note_id: req.params.id, kind: 'edited' }, { transaction });
    });
    res.json({ id: Number(req.params.id), event: Number(ev.id) });
}));

const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(`notes on ${process.env.PORT}`));
process.on('SIGTERM', () => server.close(() => Promise.all([pool.end(), sequelize.close()]).then(() => process.exit(0))));

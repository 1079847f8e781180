'use strict';
/*
 * Tag mode for Node with node-postgres (and what runs on it: Sequelize, Knex, ...): every transaction an HTTP
 * call commits names that call, so recap attributes it exactly, under any concurrency (docs/attribution.md,
 * "Tag mode").
 *
 *   const recapTag = require('./recap-tag');
 *   recapTag.install(require('pg'));   // once, before the first query
 *   app.use(recapTag.middleware);      // Express (or any (req, res, next) stack), before the routes
 *
 * recap forwards each call with an X-Request-Id header (the client's own, or one it made). The middleware
 * keeps it for the request (AsyncLocalStorage); the patched pg.Client#query writes it into the transaction
 * of every write as a transactional logical message with the prefix "recap.request", stored in no table:
 *   - inside BEGIN ... COMMIT (a checked-out client, Sequelize's and Knex's transactions): the message is
 *     queued on the same client just before the transaction's first write;
 *   - a write on its own (autocommit, pool.query): it runs between BEGIN + the message and COMMIT (ROLLBACK if
 *     it fails), and its promise or callback completes only after the COMMIT.
 * Reads are left alone. pg.Pool#query (promise form) checks out inside the request's context, so a call
 * that waits for a free client still names its own request. Writes outside a request carry no tag and are
 * attributed by their time window, or recorded as orphans.
 */
const { AsyncLocalStorage } = require('async_hooks');

const store = new AsyncLocalStorage();
const WRITE = /^\s*(insert|update|delete|merge)\b/i;
const BEGIN = /^\s*(begin|start\s+transaction)\b/i;
const END = /^\s*(commit|rollback|end|abort)\b/i;
const TAG = "SELECT pg_logical_emit_message(true, 'recap.request', $1)";

function middleware(req, res, next) {
    const rid = typeof req.get === 'function' ? req.get('x-request-id') : req.headers['x-request-id'];
    store.run(rid || null, next);
}

function textOf(config) {
    return typeof config === 'string' ? config : config && typeof config.text === 'string' ? config.text : null;
}

/* A write in autocommit: BEGIN and the message before it, COMMIT (or ROLLBACK) after, in the caller's style. */
function inOwnTransaction(client, query, args, rid) {
    const ignore = () => {};
    query.call(client, 'BEGIN').catch(ignore);
    query.call(client, TAG, [rid]).catch(ignore);
    const cb = typeof args[args.length - 1] === 'function' ? args[args.length - 1] : null;
    if (cb) {
        const a = Array.from(args);
        a[a.length - 1] = (err, res) => query.call(client, err ? 'ROLLBACK' : 'COMMIT', (err2) => cb(err || err2, res));
        return query.apply(client, a);
    }
    return query.apply(client, args).then(
        (res) => query.call(client, 'COMMIT').then(() => res),
        (err) => query.call(client, 'ROLLBACK').then(() => { throw err; }, () => { throw err; }));
}

function install(pg) {
    const query = pg.Client.prototype.query;
    if (query.recapTagged) {
        return;
    }
    const tagged = function (config, values, callback) {
        const text = textOf(config);
        const rid = store.getStore();
        if (text === null || typeof config.submit === 'function') { /* a Query or Cursor object */
            return query.apply(this, arguments);
        }
        if (BEGIN.test(text)) {
            this.recapInTransaction = true;
            this.recapTxTagged = false;
        } else if (END.test(text)) {
            this.recapInTransaction = false;
        } else if (rid && WRITE.test(text)) {
            if (!this.recapInTransaction) {
                return inOwnTransaction(this, query, arguments, rid);
            }
            if (!this.recapTxTagged) {
                this.recapTxTagged = true;
                query.call(this, TAG, [rid]).catch(() => {});
            }
        }
        return query.apply(this, arguments);
    };
    tagged.recapTagged = true;
    pg.Client.prototype.query = tagged;

    const poolQuery = pg.Pool.prototype.query;
    pg.Pool.prototype.query = function (text, values, callback) {
        if (!store.getStore() || typeof values === 'function' || typeof callback === 'function') {
            return poolQuery.apply(this, arguments);
        }
        return this.connect().then((client) => client.query(text, values).then(
            (res) => { client.release(); return res; },
            (err) => { client.release(); throw err; }));
    };
}

module.exports = { install, middleware, store };

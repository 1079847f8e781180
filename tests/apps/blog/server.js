// recap's second example API: a small blog in Node (Express, node-postgres), written to differ from the
// first (tests/app, FastAPI) wherever real apps broke recap's tools: users log in for a signed token sent
// back as `Authorization: Token ...`, a session cookie on some routes, articles addressed by slug (title
// plus a random suffix), tags addressed by name, an activity table whose entity_id holds article, comment,
// tag or user ids, rows written in a different order on every request, ids and slugs inside error messages,
// and a random salt and hash per user.
//
//   DATABASE_URL=postgresql://... PORT=8000 node server.js
//
// RECAP_APP_BUG (comma-separated) switches regressions on, for recap's own tests: wrong_status,
// missing_audit, extra_row, changed_field, wrong_cascade, slug_format.
'use strict';

const crypto = require('crypto');
const express = require('express');
const { Pool } = require('pg');

const BUGS = new Set((process.env.RECAP_APP_BUG || '').split(',').filter(Boolean));
const SECRET = crypto.randomBytes(32); // tokens do not survive a restart, as with many real apps
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 8 });

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id serial PRIMARY KEY, username text UNIQUE NOT NULL, email text UNIQUE NOT NULL,
  salt text NOT NULL, password_hash text NOT NULL, bio text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS sessions (
  session_key text PRIMARY KEY, user_id int NOT NULL REFERENCES users ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS articles (
  id serial PRIMARY KEY, slug text UNIQUE NOT NULL, title text NOT NULL, body text NOT NULL,
  author_id int NOT NULL REFERENCES users, created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS tags (id serial PRIMARY KEY, name text UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS article_tags (
  article_id int REFERENCES articles ON DELETE CASCADE, tag_id int REFERENCES tags ON DELETE CASCADE,
  PRIMARY KEY (article_id, tag_id));
CREATE TABLE IF NOT EXISTS comments (
  id serial PRIMARY KEY, article_id int NOT NULL REFERENCES articles ON DELETE CASCADE,
  author_id int NOT NULL REFERENCES users, body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS favorites (
  user_id int REFERENCES users ON DELETE CASCADE, article_id int REFERENCES articles ON DELETE CASCADE,
  PRIMARY KEY (user_id, article_id));
CREATE TABLE IF NOT EXISTS activity (
  id bigserial PRIMARY KEY, actor_id int, action text NOT NULL, entity_type text NOT NULL,
  entity_id int NOT NULL, at timestamptz NOT NULL DEFAULT now());
`;

// ---- tokens, passwords, slugs ----

const b64url = (buf) => Buffer.from(buf).toString('base64url');

function signToken(user) {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify({ sub: user.id, username: user.username,
                                       iat: Math.floor(Date.now() / 1000), jti: crypto.randomUUID() }));
  const sig = b64url(crypto.createHmac('sha256', SECRET).update(`${head}.${body}`).digest());
  return `${head}.${body}.${sig}`;
}

function verifyToken(token) {
  const parts = (token || '').split('.');
  if (parts.length !== 3) return null;
  const sig = b64url(crypto.createHmac('sha256', SECRET).update(`${parts[0]}.${parts[1]}`).digest());
  if (sig.length !== parts[2].length || !crypto.timingSafeEqual(Buffer.from(sig), Buffer.from(parts[2])))
    return null;
  try { return JSON.parse(Buffer.from(parts[1], 'base64url').toString()); } catch { return null; }
}

const hashPassword = (password, salt) => crypto.scryptSync(password, salt, 32).toString('hex');

function slugify(title) {
  const base = title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  if (BUGS.has('slug_format'))
    return `${base}_${crypto.randomBytes(4).toString('hex')}`;
  let suffix = '';
  while (suffix.length < 6) suffix += crypto.randomInt(36).toString(36);
  return `${base}-${suffix}`;
}

function shuffled(list) {
  const a = list.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = crypto.randomInt(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

// ---- plumbing ----

const app = express();
app.use(express.json());

const fail = (res, status, message) => res.status(status).json({ errors: { body: [message] } });

// Runs fn(client) in one transaction; the response is sent after the commit.
async function tx(fn) {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    c.release();
  }
}

// Several statements of one transaction, issued in a different order every time (as an ORM's flush).
async function inAnyOrder(c, statements) {
  for (const [sql, args] of shuffled(statements)) await c.query(sql, args);
}

const route = (fn) => (req, res) => fn(req, res).catch((e) => {
  console.error(e);
  if (!res.headersSent) fail(res, 500, 'internal error');
});

function auth(required) {
  return (req, res, next) => {
    const h = req.get('authorization') || '';
    const claims = h.startsWith('Token ') ? verifyToken(h.slice(6)) : null;
    if (claims === null && required) return fail(res, 401, 'missing or bad token');
    req.user = claims && { id: claims.sub, username: claims.username };
    next();
  };
}

function cookie(req, name) {
  for (const part of (req.get('cookie') || '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return null;
}

async function articleJson(c, row, userId) {
  const tags = await c.query(
    'SELECT t.name FROM tags t JOIN article_tags at ON at.tag_id = t.id WHERE at.article_id = $1 ORDER BY t.name',
    [row.id]);
  const fav = await c.query('SELECT count(*)::int AS n, bool_or(user_id = $2) AS mine FROM favorites WHERE article_id = $1',
                            [row.id, userId || 0]);
  const author = await c.query('SELECT username FROM users WHERE id = $1', [row.author_id]);
  return { slug: row.slug, title: row.title, body: row.body,
           tagList: tags.rows.map((t) => t.name), author: author.rows[0].username,
           favorited: !!fav.rows[0].mine, favoritesCount: fav.rows[0].n,
           createdAt: row.created_at, updatedAt: row.updated_at };
}

async function findArticle(c, slug, res) {
  const r = await c.query('SELECT * FROM articles WHERE slug = $1', [slug]);
  if (r.rows.length === 0) {
    fail(res, 404, `article ${slug} not found`);
    return null;
  }
  return r.rows[0];
}

// ---- users and sessions ----

app.get('/api/health', (req, res) => res.json({ ok: true }));

app.post('/api/users', route(async (req, res) => {
  const u = (req.body || {}).user || {};
  if (!u.username || !u.email || !u.password) return fail(res, 422, 'username, email and password are required');
  const salt = crypto.randomBytes(16).toString('hex');
  const out = await tx(async (c) => {
    const taken = await c.query('SELECT 1 FROM users WHERE username = $1 OR email = $2', [u.username, u.email]);
    if (taken.rows.length) return null;
    const r = await c.query(
      'INSERT INTO users (username, email, salt, password_hash) VALUES ($1, $2, $3, $4) RETURNING id, username, email, bio',
      [u.username, u.email, salt, hashPassword(u.password, salt)]);
    await c.query("INSERT INTO activity (actor_id, action, entity_type, entity_id) VALUES ($1, 'signup', 'user', $1)",
                  [r.rows[0].id]);
    return r.rows[0];
  });
  if (out === null) return fail(res, 409, `username ${u.username} or email ${u.email} is taken`);
  res.status(201).json({ user: { username: out.username, email: out.email, bio: out.bio } });
}));

app.post('/api/users/login', route(async (req, res) => {
  const u = (req.body || {}).user || {};
  const r = await pool.query('SELECT * FROM users WHERE email = $1', [u.email || '']);
  const user = r.rows[0];
  if (!user || hashPassword(u.password || '', user.salt) !== user.password_hash)
    return fail(res, 401, `no user ${u.email} with that password`);
  const key = crypto.randomBytes(18).toString('base64url');
  await pool.query('INSERT INTO sessions (session_key, user_id) VALUES ($1, $2)', [key, user.id]);
  res.cookie('sid', key, { httpOnly: true, path: '/' });
  res.json({ user: { username: user.username, email: user.email, bio: user.bio, token: signToken(user) } });
}));

app.get('/api/session', route(async (req, res) => {
  const r = await pool.query(
    'SELECT u.username FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.session_key = $1',
    [cookie(req, 'sid') || '']);
  if (r.rows.length === 0) return fail(res, 401, 'no session');
  res.json({ session: { username: r.rows[0].username } });
}));

app.put('/api/user', auth(true), route(async (req, res) => {
  const u = (req.body || {}).user || {};
  const r = await tx(async (c) => {
    const out = await c.query('UPDATE users SET bio = $1 WHERE id = $2 RETURNING username, email, bio',
                              [u.bio || '', req.user.id]);
    await c.query("INSERT INTO activity (actor_id, action, entity_type, entity_id) VALUES ($1, 'profile', 'user', $1)",
                  [req.user.id]);
    return out.rows[0];
  });
  res.json({ user: r });
}));

app.get('/api/profiles/:username', route(async (req, res) => {
  const r = await pool.query('SELECT username, bio FROM users WHERE username = $1', [req.params.username]);
  if (r.rows.length === 0) return fail(res, 404, `profile ${req.params.username} not found`);
  res.json({ profile: r.rows[0] });
}));

// ---- articles, tags, comments ----

app.post('/api/articles', auth(true), route(async (req, res) => {
  const a = (req.body || {}).article || {};
  if (!a.title || !a.body) return fail(res, 422, 'title and body are required');
  const article = await tx(async (c) => {
    const r = await c.query('INSERT INTO articles (slug, title, body, author_id) VALUES ($1, $2, $3, $4) RETURNING *',
                            [slugify(a.title), a.title, a.body, req.user.id]);
    const row = r.rows[0];
    const statements = [["INSERT INTO activity (actor_id, action, entity_type, entity_id) VALUES ($1, 'create', 'article', $2)",
                         [req.user.id, row.id]]];
    for (const name of a.tagList || []) {
      let t = await c.query('SELECT id FROM tags WHERE name = $1', [name]);
      if (t.rows.length === 0) {
        t = await c.query('INSERT INTO tags (name) VALUES ($1) RETURNING id', [name]);
        statements.push(["INSERT INTO activity (actor_id, action, entity_type, entity_id) VALUES ($1, 'create', 'tag', $2)",
                         [req.user.id, t.rows[0].id]]);
      }
      statements.push(['INSERT INTO article_tags (article_id, tag_id) VALUES ($1, $2)', [row.id, t.rows[0].id]]);
    }
    if (BUGS.has('extra_row'))
      statements.push(["INSERT INTO activity (actor_id, action, entity_type, entity_id) VALUES ($1, 'index', 'article', $2)",
                       [req.user.id, row.id]]);
    await inAnyOrder(c, statements);
    return articleJson(c, row, req.user.id);
  });
  res.status(201).json({ article });
}));

app.get('/api/articles', auth(false), route(async (req, res) => {
  const args = [];
  let where = '';
  if (req.query.tag) {
    args.push(req.query.tag);
    where = 'WHERE a.id IN (SELECT at.article_id FROM article_tags at JOIN tags t ON t.id = at.tag_id WHERE t.name = $1)';
  }
  if (req.query.author) {
    args.push(req.query.author);
    where += `${where ? ' AND' : 'WHERE'} a.author_id = (SELECT id FROM users WHERE username = $${args.length})`;
  }
  const r = await pool.query(`SELECT a.* FROM articles a ${where} ORDER BY a.id DESC`, args);
  const c = await pool.connect();
  try {
    const articles = [];
    for (const row of r.rows) articles.push(await articleJson(c, row, req.user && req.user.id));
    res.json({ articles, articlesCount: articles.length });
  } finally {
    c.release();
  }
}));

app.get('/api/articles/:slug', auth(false), route(async (req, res) => {
  const c = await pool.connect();
  try {
    const row = await findArticle(c, req.params.slug, res);
    if (!row) return;
    const article = await articleJson(c, row, req.user && req.user.id);
    if (BUGS.has('changed_field')) article.body = article.body.toUpperCase();
    res.json({ article });
  } finally {
    c.release();
  }
}));

app.put('/api/articles/:slug', auth(true), route(async (req, res) => {
  const a = (req.body || {}).article || {};
  const article = await tx(async (c) => {
    const row = await findArticle(c, req.params.slug, res);
    if (!row) return null;
    if (row.author_id !== req.user.id) {
      fail(res, 403, `article ${row.slug} belongs to someone else`);
      return null;
    }
    const r = await c.query(
      'UPDATE articles SET title = COALESCE($1, title), body = COALESCE($2, body), updated_at = now() WHERE id = $3 RETURNING *',
      [a.title || null, a.body || null, row.id]);
    await c.query("INSERT INTO activity (actor_id, action, entity_type, entity_id) VALUES ($1, 'update', 'article', $2)",
                  [req.user.id, row.id]);
    return articleJson(c, r.rows[0], req.user.id);
  });
  if (article) res.json({ article });
}));

app.delete('/api/articles/:slug', auth(true), route(async (req, res) => {
  const done = await tx(async (c) => {
    const row = await findArticle(c, req.params.slug, res);
    if (!row) return false;
    await inAnyOrder(c, [
      ['DELETE FROM articles WHERE id = $1', [row.id]],
      ["INSERT INTO activity (actor_id, action, entity_type, entity_id) VALUES ($1, 'delete', 'article', $2)",
       [req.user.id, row.id]]]);
    return true;
  });
  if (done) res.status(204).end();
}));

app.post('/api/articles/:slug/favorite', auth(true), route(async (req, res) => {
  const article = await tx(async (c) => {
    const row = await findArticle(c, req.params.slug, res);
    if (!row) return null;
    await c.query('INSERT INTO favorites (user_id, article_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
                  [req.user.id, row.id]);
    return articleJson(c, row, req.user.id);
  });
  if (article) res.json({ article });
}));

app.post('/api/articles/:slug/comments', auth(true), route(async (req, res) => {
  const body = ((req.body || {}).comment || {}).body;
  if (!body) return fail(res, 422, 'a comment needs a body');
  const comment = await tx(async (c) => {
    const row = await findArticle(c, req.params.slug, res);
    if (!row) return null;
    const r = await c.query('INSERT INTO comments (article_id, author_id, body) VALUES ($1, $2, $3) RETURNING id, body, created_at',
                            [row.id, req.user.id, body]);
    if (!BUGS.has('missing_audit'))
      await c.query("INSERT INTO activity (actor_id, action, entity_type, entity_id) VALUES ($1, 'create', 'comment', $2)",
                    [req.user.id, r.rows[0].id]);
    return { id: r.rows[0].id, body: r.rows[0].body, createdAt: r.rows[0].created_at, author: req.user.username };
  });
  if (comment) res.status(201).json({ comment });
}));

app.get('/api/articles/:slug/comments', route(async (req, res) => {
  const c = await pool.connect();
  try {
    const row = await findArticle(c, req.params.slug, res);
    if (!row) return;
    const r = await c.query(
      'SELECT c.id, c.body, c.created_at AS "createdAt", u.username AS author FROM comments c JOIN users u ON u.id = c.author_id WHERE c.article_id = $1 ORDER BY c.id',
      [row.id]);
    res.json({ comments: r.rows });
  } finally {
    c.release();
  }
}));

app.delete('/api/articles/:slug/comments/:id', auth(true), route(async (req, res) => {
  const done = await tx(async (c) => {
    const row = await findArticle(c, req.params.slug, res);
    if (!row) return false;
    const id = Number(req.params.id);
    const target = BUGS.has('wrong_cascade')
      ? await c.query('SELECT id FROM comments WHERE article_id = $1 ORDER BY id DESC LIMIT 1', [row.id])
      : await c.query('SELECT id FROM comments WHERE article_id = $1 AND id = $2', [row.id, id]);
    if (target.rows.length === 0) {
      fail(res, 404, `comment ${req.params.id} not found on article ${row.slug}`);
      return false;
    }
    await inAnyOrder(c, [
      ['DELETE FROM comments WHERE id = $1', [target.rows[0].id]],
      ["INSERT INTO activity (actor_id, action, entity_type, entity_id) VALUES ($1, 'delete', 'comment', $2)",
       [req.user.id, target.rows[0].id]]]);
    return true;
  });
  if (done) res.status(204).end();
}));

app.get('/api/tags', route(async (req, res) => {
  const r = await pool.query('SELECT name FROM tags ORDER BY name');
  res.status(BUGS.has('wrong_status') ? 203 : 200).json({ tags: r.rows.map((t) => t.name) });
}));

app.get('/api/tags/:name', route(async (req, res) => {
  const t = await pool.query('SELECT id, name FROM tags WHERE name = $1', [req.params.name]);
  if (t.rows.length === 0) return fail(res, 404, `tag ${req.params.name} not found`);
  const a = await pool.query(
    'SELECT a.slug FROM articles a JOIN article_tags at ON at.article_id = a.id WHERE at.tag_id = $1 ORDER BY a.id',
    [t.rows[0].id]);
  res.json({ tag: { name: t.rows[0].name, articles: a.rows.map((r) => r.slug) } });
}));

app.get('/api/activity', auth(true), route(async (req, res) => {
  const r = await pool.query(
    'SELECT action, entity_type AS "entityType", entity_id AS "entityId" FROM activity WHERE actor_id = $1 ORDER BY entity_type, action, entity_id',
    [req.user.id]);
  res.json({ activity: r.rows });
}));

// The schema first (a migration at start-up, after recap may already be watching), then the port.
(async () => {
  await pool.query(SCHEMA);
  const port = Number(process.env.PORT || 8000);
  app.listen(port, process.env.HOST || '127.0.0.1', () => console.log(`blog listening on ${port}`));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});

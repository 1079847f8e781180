-- The tables of the tag-mode example apps (tests/apps/notes_django, tests/apps/notes_node).
CREATE TABLE IF NOT EXISTS notes (
    id     bigserial PRIMARY KEY,
    title  text NOT NULL
);
CREATE TABLE IF NOT EXISTS note_events (
    id       bigserial PRIMARY KEY,
    note_id  bigint NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    kind     text NOT NULL
);

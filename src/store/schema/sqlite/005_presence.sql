-- rollcall schema, version 5 (SQLite): live presence (docs/presence.md).
-- Members' and sessions' presence state with the due-time indexes the reaper scans,
-- applications' presence settings, RTMP stream keys and media connections. Indexes serve
-- exactly the queries of the "presence" block of store/store.h.

ALTER TABLE members ADD COLUMN presence_source TEXT    NOT NULL DEFAULT 'SERVER';
ALTER TABLE members ADD COLUMN heartbeats      INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN last_seen_at    INTEGER;
ALTER TABLE members ADD COLUMN due_at          INTEGER;
ALTER TABLE members ADD COLUMN resumable_until INTEGER;
ALTER TABLE members ADD COLUMN last_seq        INTEGER;
-- The reaper: open visits that have timed out.
CREATE INDEX members_due ON members (due_at) WHERE due_at IS NOT NULL;

ALTER TABLE sessions ADD COLUMN implicit    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN idle_due_at INTEGER;
-- The reaper: implicit sessions empty for their idle window.
CREATE INDEX sessions_idle_due ON sessions (idle_due_at) WHERE idle_due_at IS NOT NULL;

-- Absent: the defaults of core/presence.h PresenceSettings.
CREATE TABLE presence_settings (
  application_id           INTEGER PRIMARY KEY,
  tenant_id                INTEGER NOT NULL,
  timeout_seconds          INTEGER NOT NULL,
  reconnect_window_seconds INTEGER NOT NULL,
  idle_session_seconds     INTEGER NOT NULL,
  manage_server_side       INTEGER NOT NULL
);

CREATE TABLE presence_stream_keys (
  key_hash       BLOB    PRIMARY KEY,
  tenant_id      INTEGER NOT NULL,
  application_id INTEGER NOT NULL,
  participant_id TEXT    NOT NULL,
  claims         TEXT    NOT NULL,
  expires_at     INTEGER NOT NULL,
  created_at     INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE presence_media_connections (
  application_id INTEGER NOT NULL,
  participant_id TEXT    NOT NULL,
  connection_id  TEXT    NOT NULL,
  tenant_id      INTEGER NOT NULL,
  member_id      INTEGER NOT NULL,
  role           TEXT    NOT NULL,
  stream         TEXT    NOT NULL,
  opened_at      INTEGER NOT NULL,
  closed_at      INTEGER,
  PRIMARY KEY (application_id, participant_id, connection_id)
) WITHOUT ROWID;
CREATE INDEX presence_media_open ON presence_media_connections (member_id, role)
  WHERE closed_at IS NULL;

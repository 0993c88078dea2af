-- rollcall schema, version 5 (PostgreSQL): live presence (docs/presence.md), as SQLite's
-- 005_presence.sql. Every key of tenant data starts with tenant_id, as in 001; the due-time
-- indexes the reaper scans across tenants are the exception by nature (a sharded store asks
-- each shard). presence_stream_keys joins the credential directory (looked up by the key's
-- hash before the tenant is known). Flags are smallint 0/1 like SQLite's.

ALTER TABLE members
  ADD COLUMN presence_source text     NOT NULL DEFAULT 'SERVER',
  ADD COLUMN heartbeats      smallint NOT NULL DEFAULT 0,
  ADD COLUMN last_seen_at    bigint,
  ADD COLUMN due_at          bigint,
  ADD COLUMN resumable_until bigint,
  ADD COLUMN last_seq        bigint;
-- The reaper: open visits that have timed out.
CREATE INDEX members_due ON members (due_at) WHERE due_at IS NOT NULL;

ALTER TABLE sessions
  ADD COLUMN implicit    smallint NOT NULL DEFAULT 0,
  ADD COLUMN idle_due_at bigint;
-- The reaper: implicit sessions empty for their idle window.
CREATE INDEX sessions_idle_due ON sessions (idle_due_at) WHERE idle_due_at IS NOT NULL;

-- Absent: the defaults of core/presence.h PresenceSettings.
CREATE TABLE presence_settings (
  tenant_id                bigint   NOT NULL,
  application_id           bigint   NOT NULL,
  timeout_seconds          bigint   NOT NULL,
  reconnect_window_seconds bigint   NOT NULL,
  idle_session_seconds     bigint   NOT NULL,
  manage_server_side       smallint NOT NULL,
  PRIMARY KEY (tenant_id, application_id),
  FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id)
);

CREATE TABLE presence_stream_keys (
  tenant_id      bigint NOT NULL,
  key_hash       bytea  NOT NULL UNIQUE,
  application_id bigint NOT NULL,
  participant_id text   NOT NULL,
  claims         text   NOT NULL,
  expires_at     bigint NOT NULL,
  created_at     bigint NOT NULL,
  PRIMARY KEY (tenant_id, key_hash),
  FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id)
);

CREATE TABLE presence_media_connections (
  tenant_id      bigint NOT NULL,
  application_id bigint NOT NULL,
  participant_id text   NOT NULL,
  connection_id  text   NOT NULL,
  member_id      bigint NOT NULL,
  role           text   NOT NULL,
  stream         text   NOT NULL,
  opened_at      bigint NOT NULL,
  closed_at      bigint,
  PRIMARY KEY (tenant_id, application_id, participant_id, connection_id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id)
);
CREATE INDEX presence_media_open ON presence_media_connections (tenant_id, member_id, role)
  WHERE closed_at IS NULL;

-- rollcall schema, version 1 (SQLite).
-- Integer row ids; every row carries its tenant. Indexes serve exactly the queries the store runs.

CREATE TABLE tenants (
  id               INTEGER PRIMARY KEY,
  name             TEXT    NOT NULL UNIQUE,
  account_id       TEXT    NOT NULL UNIQUE,
  admin_token_hash BLOB    NOT NULL UNIQUE,
  created_at       INTEGER NOT NULL
);

CREATE TABLE access_keys (
  access_key_id     TEXT    PRIMARY KEY,
  tenant_id         INTEGER NOT NULL REFERENCES tenants(id),
  secret_access_key TEXT    NOT NULL,
  created_at        INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE applications (
  id                INTEGER PRIMARY KEY,
  tenant_id         INTEGER NOT NULL REFERENCES tenants(id),
  uuid              TEXT    NOT NULL UNIQUE,
  stage_id          TEXT    NOT NULL UNIQUE,
  name              TEXT    NOT NULL,
  type              TEXT    NOT NULL,
  status            TEXT    NOT NULL,
  created_at        INTEGER NOT NULL,
  api_key_hash      BLOB    NOT NULL UNIQUE,
  active_session_id INTEGER
);
CREATE INDEX applications_by_tenant ON applications (tenant_id, id);

CREATE TABLE sessions (
  id                INTEGER PRIMARY KEY,
  tenant_id         INTEGER NOT NULL,
  application_id    INTEGER NOT NULL REFERENCES applications(id),
  uuid              TEXT    NOT NULL UNIQUE,
  stage_session_id  TEXT    NOT NULL UNIQUE,
  created_at        INTEGER NOT NULL,
  deleted_at        INTEGER,
  participant_count INTEGER NOT NULL DEFAULT 0,
  visit_count       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_by_application ON sessions (application_id, id);

CREATE TABLE profiles (
  id                INTEGER PRIMARY KEY,
  tenant_id         INTEGER NOT NULL,
  participant_id    TEXT    NOT NULL,
  nickname          TEXT    NOT NULL,
  nickname_folded   TEXT    NOT NULL,
  profile_image_url TEXT,
  created_at        INTEGER NOT NULL,
  UNIQUE (tenant_id, participant_id)
);

CREATE TABLE members (
  id                 INTEGER PRIMARY KEY,
  tenant_id          INTEGER NOT NULL,
  session_id         INTEGER NOT NULL REFERENCES sessions(id),
  profile_id         INTEGER NOT NULL REFERENCES profiles(id),
  ivs_participant_id TEXT    NOT NULL,
  attributes         TEXT    NOT NULL DEFAULT '{}',
  first_join_at      INTEGER NOT NULL,
  open_visit_id      INTEGER,
  last_visit_id      INTEGER NOT NULL DEFAULT 0,
  UNIQUE (session_id, profile_id)
);
CREATE INDEX members_open ON members (session_id) WHERE open_visit_id IS NOT NULL;

CREATE TABLE visits (
  id         INTEGER PRIMARY KEY,
  tenant_id  INTEGER NOT NULL,
  session_id INTEGER NOT NULL,
  member_id  INTEGER NOT NULL,
  profile_id INTEGER NOT NULL,
  uuid       TEXT    NOT NULL,
  created_at INTEGER NOT NULL,
  deleted_at INTEGER
);
-- At most one open visit per member, enforced by the store itself.
CREATE UNIQUE INDEX visits_one_open ON visits (member_id) WHERE deleted_at IS NULL;
CREATE INDEX visits_by_created ON visits (session_id, created_at, id);
CREATE INDEX visits_by_deleted ON visits (session_id, deleted_at, id) WHERE deleted_at IS NOT NULL;

CREATE TABLE events (
  id                    INTEGER PRIMARY KEY,
  tenant_id             INTEGER NOT NULL,
  session_id            INTEGER NOT NULL,
  member_id             INTEGER NOT NULL,
  name                  TEXT    NOT NULL,
  at                    INTEGER NOT NULL,
  remote_participant_id TEXT    NOT NULL DEFAULT '',
  reason                TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX events_by_member ON events (member_id, id);

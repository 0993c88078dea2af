-- rollcall schema, version 2 (SQLite): the IVS Real-Time face.
-- Member IVS state, event detail, tenant keys, stage recording settings, storage
-- configurations, tags, token revocations and replications. Indexes serve exactly the
-- queries of the "IVS face" block of store/store.h.

ALTER TABLE members ADD COLUMN user_id           TEXT    NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN browser_name      TEXT    NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN browser_version   TEXT    NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN os_name           TEXT    NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN os_version        TEXT    NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN sdk_version       TEXT    NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN isp_name          TEXT    NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN protocol          TEXT    NOT NULL DEFAULT 'UNKNOWN';
ALTER TABLE members ADD COLUMN published         INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN publishing        INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN recording_state   TEXT    NOT NULL DEFAULT 'DISABLED';
ALTER TABLE members ADD COLUMN recording_bucket  TEXT    NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN recording_prefix  TEXT    NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN replication_type  TEXT    NOT NULL DEFAULT 'NONE';
ALTER TABLE members ADD COLUMN replication_state TEXT;
ALTER TABLE members ADD COLUMN source_stage_id  TEXT    NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN source_session_id TEXT    NOT NULL DEFAULT '';
-- Members entered through the In-Stream face before this version: userId is their
-- In-Stream participantId.
UPDATE members SET user_id = (SELECT participant_id FROM profiles WHERE profiles.id = members.profile_id);

-- ListParticipants, unfiltered and by each filter, in (firstJoinTime, participantId, id) order.
CREATE INDEX members_by_join ON members (session_id, first_join_at, ivs_participant_id, id);
CREATE INDEX members_by_user ON members (session_id, user_id, first_join_at, ivs_participant_id, id);
CREATE INDEX members_by_published ON members (session_id, published, first_join_at, ivs_participant_id, id);
CREATE INDEX members_by_recording ON members (session_id, recording_state, first_join_at, ivs_participant_id, id);
CREATE INDEX members_connected ON members (session_id, first_join_at, ivs_participant_id, id)
  WHERE open_visit_id IS NOT NULL;
CREATE INDEX members_disconnected ON members (session_id, first_join_at, ivs_participant_id, id)
  WHERE open_visit_id IS NULL;
-- GetParticipant, FindLatestParticipant: by IVS participantId.
CREATE INDEX members_by_ivs_id ON members (tenant_id, ivs_participant_id, id);
-- Session end: who is publishing.
CREATE INDEX members_publishing ON members (session_id, id) WHERE publishing = 1;

ALTER TABLE events ADD COLUMN destination_stage_id  TEXT    NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN destination_session_id TEXT    NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN replica                INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN error_code             TEXT    NOT NULL DEFAULT '';

-- Signs participant tokens and pagination cursors. Tenants made before this version get one.
CREATE TABLE ivs_tenant_keys (
  tenant_id  INTEGER PRIMARY KEY,
  key_id     TEXT    NOT NULL UNIQUE,
  secret     BLOB    NOT NULL,
  created_at INTEGER NOT NULL
);
INSERT INTO ivs_tenant_keys (tenant_id, key_id, secret, created_at)
  SELECT id, lower(hex(randomblob(8))), randomblob(32), created_at FROM tenants;

CREATE TABLE ivs_storage_configurations (
  id          INTEGER PRIMARY KEY,
  tenant_id   INTEGER NOT NULL,
  config_id   TEXT    NOT NULL UNIQUE,
  name        TEXT    NOT NULL,
  bucket_name TEXT    NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE INDEX ivs_storage_by_tenant ON ivs_storage_configurations (tenant_id, id);

-- A stage's autoParticipantRecordingConfiguration (absent: none).
CREATE TABLE ivs_stage_recording (
  application_id           INTEGER PRIMARY KEY,
  tenant_id                INTEGER NOT NULL,
  storage_configuration_id INTEGER NOT NULL,
  settings                 TEXT    NOT NULL
);
CREATE INDEX ivs_stage_recording_by_storage ON ivs_stage_recording (storage_configuration_id);

CREATE TABLE ivs_tags (
  tenant_id     INTEGER NOT NULL,
  resource_type TEXT    NOT NULL,
  resource_id   INTEGER NOT NULL,
  key           TEXT    NOT NULL,
  value         TEXT    NOT NULL,
  PRIMARY KEY (resource_type, resource_id, key)
) WITHOUT ROWID;

CREATE TABLE ivs_revocations (
  tenant_id      INTEGER NOT NULL,
  application_id INTEGER NOT NULL,
  participant_id TEXT    NOT NULL,
  revoked_at     INTEGER NOT NULL,
  PRIMARY KEY (application_id, participant_id)
) WITHOUT ROWID;

CREATE TABLE ivs_replicas (
  id                         INTEGER PRIMARY KEY,
  tenant_id                  INTEGER NOT NULL,
  participant_id             TEXT    NOT NULL,
  source_application_id      INTEGER NOT NULL,
  source_session_id          INTEGER NOT NULL,
  source_member_id           INTEGER NOT NULL,
  destination_application_id INTEGER NOT NULL,
  destination_session_id     INTEGER NOT NULL,
  destination_member_id      INTEGER NOT NULL,
  state                      TEXT    NOT NULL,
  created_at                 INTEGER NOT NULL,
  updated_at                 INTEGER NOT NULL
);
CREATE INDEX ivs_replicas_by_source ON ivs_replicas (source_application_id, participant_id, id);
CREATE INDEX ivs_replicas_active_by_destination ON ivs_replicas
  (source_application_id, destination_application_id, participant_id) WHERE state = 'ACTIVE';
CREATE INDEX ivs_replicas_active_source_session ON ivs_replicas (source_session_id, id)
  WHERE state = 'ACTIVE';
CREATE INDEX ivs_replicas_active_destination_session ON ivs_replicas (destination_session_id, id)
  WHERE state = 'ACTIVE';

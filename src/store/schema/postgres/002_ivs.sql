-- rollcall schema, version 2 (PostgreSQL): the IVS Real-Time face, as SQLite's 002_ivs.sql.
-- Member IVS state, event detail, tenant keys, stage recording settings, storage
-- configurations, tags, token revocations and replications. As in 001, every key of tenant
-- data starts with tenant_id; ivs_tenant_keys joins the credential directory (looked up by
-- key id). Flags are smallint 0/1 like SQLite's, so both stores share their row readers.

ALTER TABLE members
  ADD COLUMN user_id           text COLLATE "C" NOT NULL DEFAULT '',
  ADD COLUMN browser_name      text     NOT NULL DEFAULT '',
  ADD COLUMN browser_version   text     NOT NULL DEFAULT '',
  ADD COLUMN os_name           text     NOT NULL DEFAULT '',
  ADD COLUMN os_version        text     NOT NULL DEFAULT '',
  ADD COLUMN sdk_version       text     NOT NULL DEFAULT '',
  ADD COLUMN isp_name          text     NOT NULL DEFAULT '',
  ADD COLUMN protocol          text     NOT NULL DEFAULT 'UNKNOWN',
  ADD COLUMN published         smallint NOT NULL DEFAULT 0,
  ADD COLUMN publishing        smallint NOT NULL DEFAULT 0,
  ADD COLUMN recording_state   text     NOT NULL DEFAULT 'DISABLED',
  ADD COLUMN recording_bucket  text     NOT NULL DEFAULT '',
  ADD COLUMN recording_prefix  text     NOT NULL DEFAULT '',
  ADD COLUMN replication_type  text     NOT NULL DEFAULT 'NONE',
  ADD COLUMN replication_state text,
  ADD COLUMN source_stage_id   text     NOT NULL DEFAULT '',
  ADD COLUMN source_session_id text     NOT NULL DEFAULT '';
-- Members entered through the In-Stream face before this version: userId is their
-- In-Stream participantId.
UPDATE members m SET user_id = p.participant_id
  FROM profiles p WHERE p.tenant_id = m.tenant_id AND p.id = m.profile_id;

-- ListParticipants, unfiltered and by each filter, in (firstJoinTime, participantId, id) order.
CREATE INDEX members_by_join ON members
  (tenant_id, session_id, first_join_at, ivs_participant_id, id);
CREATE INDEX members_by_user ON members
  (tenant_id, session_id, user_id, first_join_at, ivs_participant_id, id);
CREATE INDEX members_by_published ON members
  (tenant_id, session_id, published, first_join_at, ivs_participant_id, id);
CREATE INDEX members_by_recording ON members
  (tenant_id, session_id, recording_state, first_join_at, ivs_participant_id, id);
CREATE INDEX members_connected ON members
  (tenant_id, session_id, first_join_at, ivs_participant_id, id) WHERE open_visit_id IS NOT NULL;
CREATE INDEX members_disconnected ON members
  (tenant_id, session_id, first_join_at, ivs_participant_id, id) WHERE open_visit_id IS NULL;
-- GetParticipant, FindLatestParticipant: by IVS participantId.
CREATE INDEX members_by_ivs_id ON members (tenant_id, ivs_participant_id, id);
-- Session end: who is publishing.
CREATE INDEX members_publishing ON members (tenant_id, session_id, id) WHERE publishing = 1;

ALTER TABLE events
  ADD COLUMN destination_stage_id   text     NOT NULL DEFAULT '',
  ADD COLUMN destination_session_id text     NOT NULL DEFAULT '',
  ADD COLUMN replica                smallint NOT NULL DEFAULT 0,
  ADD COLUMN error_code             text     NOT NULL DEFAULT '';

-- Signs participant tokens and pagination cursors. Tenants made before this version get one
-- (gen_random_uuid() draws from the server's strong random source).
CREATE TABLE ivs_tenant_keys (
  tenant_id  bigint PRIMARY KEY REFERENCES tenants (id),
  key_id     text   NOT NULL UNIQUE,
  secret     bytea  NOT NULL,
  created_at bigint NOT NULL
);
INSERT INTO ivs_tenant_keys (tenant_id, key_id, secret, created_at)
  SELECT id, left(replace(gen_random_uuid()::text, '-', ''), 16),
         decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'),
         created_at
  FROM tenants;

CREATE TABLE ivs_storage_configurations (
  tenant_id   bigint NOT NULL REFERENCES tenants (id),
  id          bigint GENERATED ALWAYS AS IDENTITY,
  config_id   text   NOT NULL,
  name        text   NOT NULL,
  bucket_name text   NOT NULL,
  created_at  bigint NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, config_id)
);

-- A stage's autoParticipantRecordingConfiguration (absent: none).
CREATE TABLE ivs_stage_recording (
  tenant_id                bigint NOT NULL,
  application_id           bigint NOT NULL,
  storage_configuration_id bigint NOT NULL,
  settings                 text   NOT NULL,
  PRIMARY KEY (tenant_id, application_id),
  FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id)
);
CREATE INDEX ivs_stage_recording_by_storage ON ivs_stage_recording
  (tenant_id, storage_configuration_id);

CREATE TABLE ivs_tags (
  tenant_id     bigint NOT NULL,
  resource_type text   NOT NULL,
  resource_id   bigint NOT NULL,
  key           text COLLATE "C" NOT NULL,
  value         text   NOT NULL,
  PRIMARY KEY (tenant_id, resource_type, resource_id, key)
);

CREATE TABLE ivs_revocations (
  tenant_id      bigint NOT NULL,
  application_id bigint NOT NULL,
  participant_id text   NOT NULL,
  revoked_at     bigint NOT NULL,
  PRIMARY KEY (tenant_id, application_id, participant_id),
  FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id)
);

CREATE TABLE ivs_replicas (
  tenant_id                  bigint NOT NULL,
  id                         bigint GENERATED ALWAYS AS IDENTITY,
  participant_id             text   NOT NULL,
  source_application_id      bigint NOT NULL,
  source_session_id          bigint NOT NULL,
  source_member_id           bigint NOT NULL,
  destination_application_id bigint NOT NULL,
  destination_session_id     bigint NOT NULL,
  destination_member_id      bigint NOT NULL,
  state                      text   NOT NULL,
  created_at                 bigint NOT NULL,
  updated_at                 bigint NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, source_member_id) REFERENCES members (tenant_id, id),
  FOREIGN KEY (tenant_id, destination_member_id) REFERENCES members (tenant_id, id)
);
CREATE INDEX ivs_replicas_by_source ON ivs_replicas
  (tenant_id, source_application_id, participant_id, id);
CREATE INDEX ivs_replicas_active_by_destination ON ivs_replicas
  (tenant_id, source_application_id, destination_application_id, participant_id)
  WHERE state = 'ACTIVE';
CREATE INDEX ivs_replicas_active_source_session ON ivs_replicas (tenant_id, source_session_id, id)
  WHERE state = 'ACTIVE';
CREATE INDEX ivs_replicas_active_destination_session ON ivs_replicas
  (tenant_id, destination_session_id, id) WHERE state = 'ACTIVE';

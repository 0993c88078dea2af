-- rollcall schema, version 1 (PostgreSQL).
--
-- The same tables as the SQLite schema, laid out so that a distributed PostgreSQL can shard by
-- tenant: every table holding tenant data has a primary key (tenant_id, id) and every foreign
-- key starts with tenant_id, so a tenant's rows and the joins between them stay on one shard.
-- tenants, access_keys and application_keys form the credential directory: they are looked up
-- by a credential before the tenant is known, are small, and become reference tables when
-- sharded (see docs/scaling.md).
--
-- Times are milliseconds since the Unix epoch (UTC). Text the API sorts uses COLLATE "C", so
-- order is by code point whatever the database's locale. Ids come from identity sequences and
-- are unique per table across tenants. Indexes serve exactly the queries the store runs.

CREATE TABLE tenants (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name             text COLLATE "C" NOT NULL UNIQUE,
  account_id       text   NOT NULL UNIQUE,
  admin_token_hash bytea  NOT NULL UNIQUE,
  created_at       bigint NOT NULL
);

CREATE TABLE access_keys (
  tenant_id         bigint NOT NULL REFERENCES tenants (id),
  access_key_id     text   NOT NULL UNIQUE,
  secret_access_key text   NOT NULL,
  created_at        bigint NOT NULL,
  PRIMARY KEY (tenant_id, access_key_id)
);

CREATE TABLE applications (
  tenant_id         bigint NOT NULL REFERENCES tenants (id),
  id                bigint GENERATED ALWAYS AS IDENTITY,
  uuid              text   NOT NULL,
  stage_id          text   NOT NULL,
  name              text   NOT NULL,
  type              text   NOT NULL,
  status            text   NOT NULL,
  created_at        bigint NOT NULL,
  active_session_id bigint,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, uuid),
  UNIQUE (tenant_id, stage_id)
);

-- The current ApiKey of each application, by its SHA-256.
CREATE TABLE application_keys (
  tenant_id      bigint NOT NULL,
  application_id bigint NOT NULL,
  key_hash       bytea  NOT NULL UNIQUE,
  PRIMARY KEY (tenant_id, application_id),
  FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id)
);

CREATE TABLE sessions (
  tenant_id         bigint NOT NULL,
  id                bigint GENERATED ALWAYS AS IDENTITY,
  application_id    bigint NOT NULL,
  uuid              text   NOT NULL,
  stage_session_id  text   NOT NULL,
  created_at        bigint NOT NULL,
  deleted_at        bigint,
  participant_count bigint NOT NULL DEFAULT 0,
  visit_count       bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, uuid),
  UNIQUE (tenant_id, stage_session_id),
  FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id)
);
CREATE INDEX sessions_by_application ON sessions (tenant_id, application_id, id);

CREATE TABLE profiles (
  tenant_id         bigint NOT NULL REFERENCES tenants (id),
  id                bigint GENERATED ALWAYS AS IDENTITY,
  participant_id    text COLLATE "C" NOT NULL,
  nickname          text COLLATE "C" NOT NULL,
  nickname_folded   text COLLATE "C" NOT NULL,
  profile_image_url text,
  created_at        bigint NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, participant_id)
);

CREATE TABLE members (
  tenant_id          bigint NOT NULL,
  id                 bigint GENERATED ALWAYS AS IDENTITY,
  session_id         bigint NOT NULL,
  profile_id         bigint NOT NULL,
  ivs_participant_id text COLLATE "C" NOT NULL,
  attributes         text   NOT NULL DEFAULT '{}',
  first_join_at      bigint NOT NULL,
  open_visit_id      bigint,
  last_visit_id      bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, session_id, profile_id),
  FOREIGN KEY (tenant_id, session_id) REFERENCES sessions (tenant_id, id),
  FOREIGN KEY (tenant_id, profile_id) REFERENCES profiles (tenant_id, id)
);
CREATE INDEX members_open ON members (tenant_id, session_id) WHERE open_visit_id IS NOT NULL;

CREATE TABLE visits (
  tenant_id  bigint NOT NULL,
  id         bigint GENERATED ALWAYS AS IDENTITY,
  session_id bigint NOT NULL,
  member_id  bigint NOT NULL,
  profile_id bigint NOT NULL,
  uuid       text   NOT NULL,
  created_at bigint NOT NULL,
  deleted_at bigint,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id),
  FOREIGN KEY (tenant_id, profile_id) REFERENCES profiles (tenant_id, id)
);
-- At most one open visit per member, enforced by the database itself.
CREATE UNIQUE INDEX visits_one_open ON visits (tenant_id, member_id) WHERE deleted_at IS NULL;
CREATE INDEX visits_by_created ON visits (tenant_id, session_id, created_at, id);
CREATE INDEX visits_by_deleted ON visits (tenant_id, session_id, deleted_at, id)
  WHERE deleted_at IS NOT NULL;

CREATE TABLE events (
  tenant_id             bigint NOT NULL,
  id                    bigint GENERATED ALWAYS AS IDENTITY,
  session_id            bigint NOT NULL,
  member_id             bigint NOT NULL,
  name                  text   NOT NULL,
  at                    bigint NOT NULL,
  remote_participant_id text   NOT NULL DEFAULT '',
  reason                text   NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id)
);
CREATE INDEX events_by_member ON events (tenant_id, member_id, id);

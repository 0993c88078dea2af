#include "store/postgres/pg_store.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <initializer_list>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "core/text.h"
#include "store/migration.h"
#include "store/postgres/pg_conn.h"
#include "store/rows.h"

namespace rollcall {
namespace {

using pg::Conn;
using pg::PgFailure;
using pg::Query;
using pg::Result;
using pg::Row;

// How long a connection attempt may take before the store reports kUnavailable.
constexpr int kConnectTimeoutSeconds = 2;
// The advisory lock that serializes schema migrations across processes ("rollcall").
constexpr char kMigrationLock[] = "SELECT pg_advisory_xact_lock(7237970109966541932)";
// Lock waits inside a write transaction. The first fn of a transaction holds no row lock yet,
// so it cannot close a cycle and may wait long. A later fn holds its predecessors' locks, which
// another process's transaction may be waiting for: it waits only briefly, then the transaction
// commits without it (releasing those locks) and it runs again first in the next one. Measured
// (docs/scaling.md): waits of 1-2ms let two processes writing the same rows take turns with
// full batches; 20ms and more let them stall each other.
constexpr char kFirstFnLockTimeout[] = "SET LOCAL lock_timeout = '10s'";
constexpr char kLaterFnLockTimeout[] = "SET LOCAL lock_timeout = '2ms'";
// How many times a fn is run again after deadlocks, lock timeouts or unique-key races.
constexpr int kMaxAttempts = 10;

using rows::Cols;
using rows::kAppCols;
using rows::kEventCols;
using rows::kMemberCols;
using rows::kMemberIvsCols;
using rows::kParticipantSummaryCols;
using rows::kProfileCols;
using rows::kReplicaCols;
using rows::kSessionCols;
using rows::kStorageCols;
using rows::kVisitColCount;
using rows::kVisitCols;

// Row readers as function objects, for First() and All().
constexpr auto ReadTenant = [](const Row& r) { return rows::ReadTenant(r); };
constexpr auto ReadApp = [](const Row& r) { return rows::ReadApp(r); };
constexpr auto ReadSession = [](const Row& r) { return rows::ReadSession(r); };
constexpr auto ReadProfile = [](const Row& r) { return rows::ReadProfile(r); };
constexpr auto ReadMember = [](const Row& r) { return rows::ReadMember(r); };
constexpr auto ReadVisit = [](const Row& r) { return rows::ReadVisit(r); };
constexpr auto ReadParticipant = [](const Row& r) { return rows::ReadParticipant(r); };
constexpr auto ReadParticipantSummary = [](const Row& r) {
  return rows::ReadParticipantSummary(r);
};
constexpr auto ReadStorage = [](const Row& r) { return rows::ReadStorage(r); };
constexpr auto ReadReplica = [](const Row& r) { return rows::ReadReplica(r); };
constexpr auto ReadReplicaView = [](const Row& r) { return rows::ReadReplicaView(r); };
constexpr auto ReadEvent = [](const Row& r) { return rows::ReadEvent(r); };
constexpr auto ReadTenantKey = [](const Row& r) {
  return TenantKey{r.Int(0), r.Text(1), r.Bytes(2), r.Int(3)};
};

// The first row read by `read`, or nullopt when there is none.
template <typename F>
auto First(const Result& r, F read) -> std::optional<decltype(read(r[0]))> {
  if (r.empty()) return std::nullopt;
  return read(r[0]);
}

template <typename F>
auto All(const Result& r, F read) -> std::vector<decltype(read(r[0]))> {
  std::vector<decltype(read(r[0]))> out;
  out.reserve(r.size());
  for (int i = 0; i < r.size(); ++i) out.push_back(read(r[i]));
  return out;
}

// Rows of one table that a write transaction holds locked, by (tenant, id) and by (tenant,
// natural key). Not thread-safe.
template <typename T>
class LockedRows {
 public:
  const T* Get(RowId tenant, RowId id) const {
    auto it = rows_.find({tenant, id});
    return it == rows_.end() ? nullptr : &it->second;
  }
  const T* Find(RowId tenant, const std::string& key) const {
    auto it = keys_.find({tenant, key});
    return it == keys_.end() ? nullptr : Get(tenant, it->second);
  }
  void Put(const T& row, std::initializer_list<std::string> keys) {
    rows_[{row.tenant_id, row.id}] = row;
    for (const std::string& k : keys) keys_[{row.tenant_id, k}] = row.id;
  }
  // Replaces a row held; a row not held stays out.
  void Refresh(const T& row) {
    auto it = rows_.find({row.tenant_id, row.id});
    if (it != rows_.end()) it->second = row;
  }
  void Clear() {
    rows_.clear();
    keys_.clear();
  }

 private:
  std::map<std::pair<RowId, RowId>, T> rows_;
  std::map<std::pair<RowId, std::string>, RowId> keys_;
};

// A transaction on one connection. In a write transaction, reads of applications, sessions
// and profiles lock the rows they return (FOR NO KEY UPDATE) until the transaction ends, so
// that writers in other processes that read the same rows wait for this one to commit and
// then see its changes: no lost updates of counts or profiles, and no two open visits of one
// member. Members (and through them visits) are read only while their session is locked. The
// order is always application, then session, then profile within one fn.
//
// A locked row cannot change but through this transaction, so a write transaction answers
// later reads of it from memory (LockedRows), saving a round trip for each fn of a batch that
// touches the same application or session. Every write method that changes such a row must
// Refresh it, and ForgetLocked() must run when a fn is rolled back (its locks and writes go).
class PgTx final : public Tx {
 public:
  PgTx(Conn* conn, bool write)
      : c_(*conn), write_(write), lock_(write ? " FOR NO KEY UPDATE" : "") {}

  // True when a write method ran since the last ClearDirty().
  bool dirty() const { return dirty_; }
  void ClearDirty() { dirty_ = false; }
  // Drops the rows held in memory; call when a fn is rolled back.
  void ForgetLocked() {
    apps_.Clear();
    sessions_.Clear();
    profiles_.Clear();
  }

  bool InsertTenant(Tenant* t, const std::string& admin_hash) override {
    if (!c_.Prepare("SELECT 1 FROM tenants WHERE name = $1").Bind(t->name).Run().empty()) {
      return false;
    }
    dirty_ = true;
    Result r = c_.Prepare("INSERT INTO tenants (name, account_id, admin_token_hash, created_at) "
                          "VALUES ($1, $2, $3, $4) RETURNING id")
                   .Bind(t->name)
                   .Bind(t->account_id)
                   .BindBytes(admin_hash)
                   .Bind(t->created_at)
                   .Run();
    t->id = r[0].Int(0);
    return true;
  }

  std::optional<Tenant> GetTenant(RowId id) override {
    return First(c_.Prepare("SELECT id, name, account_id, created_at FROM tenants WHERE id = $1")
                     .Bind(id)
                     .Run(),
                 ReadTenant);
  }

  std::optional<Tenant> FindTenantByAdminHash(const std::string& hash) override {
    return First(c_.Prepare("SELECT id, name, account_id, created_at FROM tenants "
                            "WHERE admin_token_hash = $1")
                     .BindBytes(hash)
                     .Run(),
                 ReadTenant);
  }

  std::vector<Tenant> ListTenants() override {
    return All(c_.Prepare("SELECT id, name, account_id, created_at FROM tenants ORDER BY id").Run(),
               ReadTenant);
  }

  void InsertAccessKey(const AccessKey& k) override {
    dirty_ = true;
    c_.Prepare("INSERT INTO access_keys (tenant_id, access_key_id, secret_access_key, created_at) "
               "VALUES ($1, $2, $3, $4)")
        .Bind(k.tenant_id)
        .Bind(k.access_key_id)
        .Bind(k.secret_access_key)
        .Bind(k.created_at)
        .Send();
  }

  std::optional<AccessKey> FindAccessKey(const std::string& id) override {
    return First(c_.Prepare("SELECT access_key_id, tenant_id, secret_access_key, created_at "
                            "FROM access_keys WHERE access_key_id = $1")
                     .Bind(id)
                     .Run(),
                 [](const Row& r) { return AccessKey{r.Text(0), r.Int(1), r.Text(2), r.Int(3)}; });
  }

  std::vector<AccessKey> ListAccessKeys() override {
    return All(c_.Prepare("SELECT access_key_id, tenant_id, secret_access_key, created_at "
                          "FROM access_keys")
                   .Run(),
               [](const Row& r) { return AccessKey{r.Text(0), r.Int(1), r.Text(2), r.Int(3)}; });
  }

  void UpdateAccessKeySecret(const std::string& id, const std::string& secret) override {
    dirty_ = true;
    c_.Prepare("UPDATE access_keys SET secret_access_key = $1 WHERE access_key_id = $2")
        .Bind(secret)
        .Bind(id)
        .Send();
  }

  std::optional<std::string> FindKeyCheck() override {
    return First(c_.Prepare("SELECT sealed FROM key_check WHERE id = 1").Run(),
                 [](const Row& r) { return r.Bytes(0); });
  }

  void InsertKeyCheck(const std::string& sealed) override {
    dirty_ = true;
    c_.Prepare("INSERT INTO key_check (id, sealed) VALUES (1, $1)").BindBytes(sealed).Send();
  }

  void InsertApplication(Application* a, const std::string& key_hash) override {
    dirty_ = true;
    Result r = c_.Prepare("WITH a AS (INSERT INTO applications (tenant_id, uuid, stage_id, name, "
                          "type, status, created_at, active_session_id) "
                          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING tenant_id, id) "
                          "INSERT INTO application_keys (tenant_id, application_id, key_hash) "
                          "SELECT tenant_id, id, $9 FROM a RETURNING application_id")
                   .Bind(a->tenant_id)
                   .Bind(a->uuid)
                   .Bind(a->stage_id)
                   .Bind(a->name)
                   .Bind(AppTypeName(a->type))
                   .Bind(AppStatusName(a->status))
                   .Bind(a->created_at)
                   .Bind(a->active_session_id)
                   .BindBytes(key_hash)
                   .Run();
    a->id = r[0].Int(0);
  }

  std::optional<Application> FindApplicationByKeyHash(const std::string& hash) override {
    return First(c_.Prepare("SELECT " + Cols(kAppCols, "a") +
                            " FROM application_keys k JOIN applications a "
                            "ON a.tenant_id = k.tenant_id AND a.id = k.application_id "
                            "WHERE k.key_hash = $1")
                     .BindBytes(hash)
                     .Run(),
                 ReadApp);
  }

  std::optional<Application> GetApplication(RowId tenant, RowId id) override {
    if (write_) {
      if (const Application* a = apps_.Get(tenant, id)) return *a;
    }
    return HoldApp(First(c_.Prepare(std::string("SELECT ") + kAppCols +
                                    " FROM applications WHERE tenant_id = $1 AND id = $2" + lock_)
                             .Bind(tenant)
                             .Bind(id)
                             .Run(),
                         ReadApp));
  }

  std::optional<Application> FindApplication(RowId tenant, const std::string& uuid) override {
    if (write_) {
      if (const Application* a = apps_.Find(tenant, "u:" + uuid)) return *a;
    }
    return HoldApp(First(c_.Prepare(std::string("SELECT ") + kAppCols +
                                    " FROM applications WHERE tenant_id = $1 AND uuid = $2" +
                                    lock_)
                             .Bind(tenant)
                             .Bind(uuid)
                             .Run(),
                         ReadApp));
  }

  std::optional<Application> FindApplicationByStageId(RowId tenant,
                                                      const std::string& stage_id) override {
    if (write_) {
      if (const Application* a = apps_.Find(tenant, "s:" + stage_id)) return *a;
    }
    return HoldApp(First(c_.Prepare(std::string("SELECT ") + kAppCols +
                                    " FROM applications WHERE tenant_id = $1 AND stage_id = $2" +
                                    lock_)
                             .Bind(tenant)
                             .Bind(stage_id)
                             .Run(),
                         ReadApp));
  }

  std::vector<Application> ListApplications(RowId tenant, int64_t offset, int64_t limit) override {
    return All(c_.Prepare(std::string("SELECT ") + kAppCols +
                          " FROM applications WHERE tenant_id = $1 ORDER BY id DESC "
                          "LIMIT $2 OFFSET $3")
                   .Bind(tenant)
                   .Bind(limit)
                   .Bind(offset)
                   .Run(),
               ReadApp);
  }

  int64_t CountApplications(RowId tenant) override {
    return c_.Prepare("SELECT count(*) FROM applications WHERE tenant_id = $1")
        .Bind(tenant)
        .Run()[0]
        .Int(0);
  }

  void UpdateApplication(const Application& a) override {
    dirty_ = true;
    apps_.Refresh(a);
    c_.Prepare("UPDATE applications SET name = $1, status = $2, active_session_id = $3 "
               "WHERE tenant_id = $4 AND id = $5")
        .Bind(a.name)
        .Bind(AppStatusName(a.status))
        .Bind(a.active_session_id)
        .Bind(a.tenant_id)
        .Bind(a.id)
        .Send();
  }

  void SetApiKeyHash(RowId tenant, RowId app, const std::string& hash) override {
    dirty_ = true;
    c_.Prepare("UPDATE application_keys SET key_hash = $1 "
               "WHERE tenant_id = $2 AND application_id = $3")
        .BindBytes(hash)
        .Bind(tenant)
        .Bind(app)
        .Send();
  }

  void InsertSession(Session* s) override {
    dirty_ = true;
    Result r = c_.Prepare("INSERT INTO sessions (tenant_id, application_id, uuid, "
                          "stage_session_id, created_at, deleted_at, participant_count, "
                          "visit_count) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
                   .Bind(s->tenant_id)
                   .Bind(s->application_id)
                   .Bind(s->uuid)
                   .Bind(s->stage_session_id)
                   .Bind(s->created_at)
                   .Bind(s->deleted_at)
                   .Bind(s->participant_count)
                   .Bind(s->visit_count)
                   .Run();
    s->id = r[0].Int(0);
  }

  std::optional<Session> GetSession(RowId tenant, RowId id) override {
    if (write_) {
      if (const Session* s = sessions_.Get(tenant, id)) return *s;
    }
    return HoldSession(First(c_.Prepare(std::string("SELECT ") + kSessionCols +
                                        " FROM sessions WHERE tenant_id = $1 AND id = $2" + lock_)
                                 .Bind(tenant)
                                 .Bind(id)
                                 .Run(),
                             ReadSession));
  }

  std::optional<Session> FindSession(RowId tenant, RowId app, const std::string& uuid) override {
    if (write_) {
      if (const Session* s = sessions_.Find(tenant, "u:" + uuid)) {
        return s->application_id == app ? std::optional<Session>(*s) : std::nullopt;
      }
    }
    return HoldSession(First(c_.Prepare(std::string("SELECT ") + kSessionCols +
                                        " FROM sessions WHERE tenant_id = $1 AND uuid = $2 "
                                        "AND application_id = $3" + lock_)
                                 .Bind(tenant)
                                 .Bind(uuid)
                                 .Bind(app)
                                 .Run(),
                             ReadSession));
  }

  std::optional<Session> FindSessionByStageSessionId(RowId tenant, RowId app,
                                                     const std::string& st_id) override {
    if (write_) {
      if (const Session* s = sessions_.Find(tenant, "s:" + st_id)) {
        return s->application_id == app ? std::optional<Session>(*s) : std::nullopt;
      }
    }
    return HoldSession(First(c_.Prepare(std::string("SELECT ") + kSessionCols +
                                        " FROM sessions WHERE tenant_id = $1 AND "
                                        "stage_session_id = $2 AND application_id = $3" + lock_)
                                 .Bind(tenant)
                                 .Bind(st_id)
                                 .Bind(app)
                                 .Run(),
                             ReadSession));
  }

  std::vector<Session> ListSessions(RowId tenant, RowId app, int64_t offset,
                                    int64_t limit) override {
    return All(c_.Prepare(std::string("SELECT ") + kSessionCols +
                          " FROM sessions WHERE tenant_id = $1 AND application_id = $2 "
                          "ORDER BY id DESC LIMIT $3 OFFSET $4")
                   .Bind(tenant)
                   .Bind(app)
                   .Bind(limit)
                   .Bind(offset)
                   .Run(),
               ReadSession);
  }

  int64_t CountSessions(RowId tenant, RowId app) override {
    return c_.Prepare("SELECT count(*) FROM sessions WHERE tenant_id = $1 AND application_id = $2")
        .Bind(tenant)
        .Bind(app)
        .Run()[0]
        .Int(0);
  }

  void UpdateSession(const Session& s) override {
    dirty_ = true;
    sessions_.Refresh(s);
    c_.Prepare("UPDATE sessions SET deleted_at = $1, participant_count = $2, visit_count = $3 "
               "WHERE tenant_id = $4 AND id = $5")
        .Bind(s.deleted_at)
        .Bind(s.participant_count)
        .Bind(s.visit_count)
        .Bind(s.tenant_id)
        .Bind(s.id)
        .Send();
  }

  std::optional<Profile> FindProfile(RowId tenant, const std::string& participant_id) override {
    if (write_) {
      if (const Profile* p = profiles_.Find(tenant, participant_id)) return *p;
    }
    return HoldProfile(First(c_.Prepare(std::string("SELECT ") + kProfileCols +
                                        " FROM profiles WHERE tenant_id = $1 AND "
                                        "participant_id = $2" + lock_)
                                 .Bind(tenant)
                                 .Bind(participant_id)
                                 .Run(),
                             ReadProfile));
  }

  std::optional<Profile> GetProfile(RowId tenant, RowId id) override {
    if (write_) {
      if (const Profile* p = profiles_.Get(tenant, id)) return *p;
    }
    return HoldProfile(First(c_.Prepare(std::string("SELECT ") + kProfileCols +
                                        " FROM profiles WHERE tenant_id = $1 AND id = $2" + lock_)
                                 .Bind(tenant)
                                 .Bind(id)
                                 .Run(),
                             ReadProfile));
  }

  void InsertProfile(Profile* p) override {
    dirty_ = true;
    Result r = c_.Prepare("INSERT INTO profiles (tenant_id, participant_id, nickname, "
                          "nickname_folded, profile_image_url, created_at) "
                          "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
                   .Bind(p->tenant_id)
                   .Bind(p->participant_id)
                   .Bind(p->nickname)
                   .Bind(FoldCase(p->nickname))
                   .Bind(p->profile_image_url)
                   .Bind(p->created_at)
                   .Run();
    p->id = r[0].Int(0);
    // A row this transaction inserted is invisible, so unchangeable, to others until commit.
    HoldProfile(*p);
  }

  void UpdateProfile(const Profile& p) override {
    dirty_ = true;
    profiles_.Refresh(p);
    c_.Prepare("UPDATE profiles SET nickname = $1, nickname_folded = $2, profile_image_url = $3 "
               "WHERE tenant_id = $4 AND id = $5")
        .Bind(p.nickname)
        .Bind(FoldCase(p.nickname))
        .Bind(p.profile_image_url)
        .Bind(p.tenant_id)
        .Bind(p.id)
        .Send();
  }

  std::optional<Member> FindMember(RowId tenant, RowId session, RowId profile) override {
    LockSessionOf(tenant, session);
    return First(c_.Prepare(std::string("SELECT ") + kMemberCols +
                            " FROM members WHERE tenant_id = $1 AND session_id = $2 "
                            "AND profile_id = $3")
                     .Bind(tenant)
                     .Bind(session)
                     .Bind(profile)
                     .Run(),
                 ReadMember);
  }

  void InsertMember(Member* m) override {
    dirty_ = true;
    Result r = c_.Prepare("INSERT INTO members (tenant_id, session_id, profile_id, "
                          "ivs_participant_id, attributes, first_join_at, open_visit_id, "
                          "last_visit_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
                   .Bind(m->tenant_id)
                   .Bind(m->session_id)
                   .Bind(m->profile_id)
                   .Bind(m->ivs_participant_id)
                   .Bind(m->attributes_json)
                   .Bind(m->first_join_at)
                   .Bind(m->open_visit_id)
                   .Bind(m->last_visit_id)
                   .Run();
    m->id = r[0].Int(0);
  }

  void UpdateMember(const Member& m) override {
    dirty_ = true;
    c_.Prepare("UPDATE members SET attributes = $1, open_visit_id = $2, last_visit_id = $3 "
               "WHERE tenant_id = $4 AND id = $5")
        .Bind(m.attributes_json)
        .Bind(m.open_visit_id)
        .Bind(m.last_visit_id)
        .Bind(m.tenant_id)
        .Bind(m.id)
        .Send();
  }

  void UpdateMemberAndPresence(const Member& m, const MemberPresence& p) override {
    dirty_ = true;
    Query q = c_.Prepare(
        "UPDATE members SET attributes = $1, open_visit_id = $2, last_visit_id = $3, "
        "presence_source = $4, heartbeats = $5, last_seen_at = $6, due_at = $7, "
        "resumable_until = $8, last_seq = $9 WHERE tenant_id = $10 AND id = $11");
    q.Bind(m.attributes_json).Bind(m.open_visit_id).Bind(m.last_visit_id);
    rows::BindPresence(q, p).Bind(m.tenant_id).Bind(m.id).Send();
  }

  void InsertVisit(Visit* v) override {
    dirty_ = true;
    Result r = c_.Prepare("INSERT INTO visits (tenant_id, session_id, member_id, profile_id, uuid, "
                          "created_at, deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                          "RETURNING id")
                   .Bind(v->tenant_id)
                   .Bind(v->session_id)
                   .Bind(v->member_id)
                   .Bind(v->profile_id)
                   .Bind(v->uuid)
                   .Bind(v->created_at)
                   .Bind(v->deleted_at)
                   .Run();
    v->id = r[0].Int(0);
  }

  std::optional<Visit> GetVisit(RowId tenant, RowId id) override {
    return First(c_.Prepare(std::string("SELECT ") + kVisitCols +
                            " FROM visits WHERE tenant_id = $1 AND id = $2")
                     .Bind(tenant)
                     .Bind(id)
                     .Run(),
                 ReadVisit);
  }

  void UpdateVisit(const Visit& v) override {
    dirty_ = true;
    c_.Prepare("UPDATE visits SET deleted_at = $1 WHERE tenant_id = $2 AND id = $3")
        .Bind(v.deleted_at)
        .Bind(v.tenant_id)
        .Bind(v.id)
        .Send();
  }

  std::optional<Visit> CloseVisitAt(RowId tenant, RowId id, Millis at) override {
    dirty_ = true;
    return First(c_.Prepare(std::string("UPDATE visits SET deleted_at = GREATEST(created_at, $1) "
                                        "WHERE tenant_id = $2 AND id = $3 RETURNING ") +
                            kVisitCols)
                     .Bind(at)
                     .Bind(tenant)
                     .Bind(id)
                     .Run(),
                 ReadVisit);
  }

  int64_t CloseOpenVisits(RowId tenant, RowId session, Millis at,
                          const std::string& reason) override {
    dirty_ = true;
    c_.Prepare("INSERT INTO events (tenant_id, session_id, member_id, name, at, reason) "
               "SELECT tenant_id, session_id, id, 'LEFT', $1, $2 FROM members "
               "WHERE tenant_id = $3 AND session_id = $4 AND open_visit_id IS NOT NULL "
               "ORDER BY id")
        .Bind(at)
        .Bind(reason)
        .Bind(tenant)
        .Bind(session)
        .Send();
    const int64_t closed =
        c_.Prepare("UPDATE visits v SET deleted_at = greatest(v.created_at, $1) FROM members m "
                   "WHERE m.tenant_id = $2 AND m.session_id = $3 AND m.open_visit_id IS NOT NULL "
                   "AND v.tenant_id = m.tenant_id AND v.id = m.open_visit_id")
            .Bind(at)
            .Bind(tenant)
            .Bind(session)
            .Run()
            .Affected();
    c_.Prepare("UPDATE members SET open_visit_id = NULL "
               "WHERE tenant_id = $1 AND session_id = $2 AND open_visit_id IS NOT NULL")
        .Bind(tenant)
        .Bind(session)
        .Send();
    return closed;
  }

  std::vector<VisitRow> SearchVisits(RowId tenant, RowId session, const VisitQuery& vq) override {
    int n = 0;
    std::string sql = "SELECT " + Cols(kVisitCols, "v") + ", " + Cols(kProfileCols, "p") +
                      " FROM visits v JOIN profiles p "
                      "ON p.tenant_id = v.tenant_id AND p.id = v.profile_id" +
                      Where(vq, &n);
    const char* dir = vq.ascending ? " ASC" : " DESC";
    switch (vq.sort) {
      case VisitSort::kCreatedAt:
        sql += std::string(" ORDER BY v.created_at") + dir;
        break;
      case VisitSort::kParticipantId:
        sql += std::string(" ORDER BY p.participant_id") + dir;
        break;
      case VisitSort::kNickname:
        sql += std::string(" ORDER BY p.nickname") + dir;
        break;
    }
    sql += std::string(", v.id") + dir + " LIMIT $" + std::to_string(n + 1) + " OFFSET $" +
           std::to_string(n + 2);
    Query q = c_.Prepare(sql);
    BindWhere(q, tenant, session, vq);
    q.Bind(vq.page.size).Bind(vq.page.offset());
    return All(q.Run(), [](const Row& r) {
      return VisitRow{rows::ReadVisit(r), rows::ReadProfile(r, kVisitColCount)};
    });
  }

  int64_t CountVisits(RowId tenant, RowId session, const VisitQuery& vq) override {
    int n = 0;
    std::string sql = "SELECT count(*) FROM visits v";
    if (vq.nickname_folded) {
      sql += " JOIN profiles p ON p.tenant_id = v.tenant_id AND p.id = v.profile_id";
    }
    sql += Where(vq, &n);
    Query q = c_.Prepare(sql);
    BindWhere(q, tenant, session, vq);
    return q.Run()[0].Int(0);
  }

  void InsertEvent(Event* e) override {
    dirty_ = true;
    Result r = c_.Prepare("INSERT INTO events (tenant_id, session_id, member_id, name, at, "
                          "remote_participant_id, reason) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                          "RETURNING id")
                   .Bind(e->tenant_id)
                   .Bind(e->session_id)
                   .Bind(e->member_id)
                   .Bind(e->name)
                   .Bind(e->at)
                   .Bind(e->remote_participant_id)
                   .Bind(e->reason)
                   .Run();
    e->id = r[0].Int(0);
  }

  // --- IVS face ---

  void InsertTenantKey(const TenantKey& k) override {
    dirty_ = true;
    c_.Prepare("INSERT INTO ivs_tenant_keys (tenant_id, key_id, secret, created_at) "
               "VALUES ($1, $2, $3, $4)")
        .Bind(k.tenant_id)
        .Bind(k.key_id)
        .BindBytes(k.secret)
        .Bind(k.created_at)
        .Send();
  }

  std::optional<TenantKey> GetTenantKey(RowId tenant) override {
    return First(c_.Prepare("SELECT tenant_id, key_id, secret, created_at FROM ivs_tenant_keys "
                            "WHERE tenant_id = $1")
                     .Bind(tenant)
                     .Run(),
                 ReadTenantKey);
  }

  std::optional<TenantKey> FindTenantKey(const std::string& key_id) override {
    return First(c_.Prepare("SELECT tenant_id, key_id, secret, created_at FROM ivs_tenant_keys "
                            "WHERE key_id = $1")
                     .Bind(key_id)
                     .Run(),
                 ReadTenantKey);
  }

  std::vector<Application> ListStages(RowId tenant, RowId after_id, int64_t limit) override {
    return All(c_.Prepare(std::string("SELECT ") + kAppCols +
                          " FROM applications WHERE tenant_id = $1 AND id > $2 AND status <> 'Y' "
                          "ORDER BY id LIMIT $3")
                   .Bind(tenant)
                   .Bind(after_id)
                   .Bind(limit)
                   .Run(),
               ReadApp);
  }

  std::optional<AutoRecording> GetStageRecording(RowId tenant, RowId app) override {
    return First(c_.Prepare("SELECT storage_configuration_id, settings FROM ivs_stage_recording "
                            "WHERE tenant_id = $1 AND application_id = $2")
                     .Bind(tenant)
                     .Bind(app)
                     .Run(),
                 [](const Row& r) { return AutoRecordingFromSettings(r.Int(0), r.Text(1)); });
  }

  void SetStageRecording(RowId tenant, RowId app, const std::optional<AutoRecording>& r) override {
    dirty_ = true;
    if (!r) {
      c_.Prepare("DELETE FROM ivs_stage_recording WHERE tenant_id = $1 AND application_id = $2")
          .Bind(tenant)
          .Bind(app)
          .Send();
      return;
    }
    c_.Prepare("INSERT INTO ivs_stage_recording (tenant_id, application_id, "
               "storage_configuration_id, settings) VALUES ($1, $2, $3, $4) "
               "ON CONFLICT (tenant_id, application_id) DO UPDATE SET "
               "storage_configuration_id = excluded.storage_configuration_id, "
               "settings = excluded.settings")
        .Bind(tenant)
        .Bind(app)
        .Bind(r->storage_configuration_id)
        .Bind(AutoRecordingSettingsJson(*r))
        .Send();
  }

  int64_t CountStagesUsingStorage(RowId tenant, RowId storage) override {
    return c_.Prepare("SELECT count(*) FROM ivs_stage_recording r JOIN applications a "
                      "ON a.tenant_id = r.tenant_id AND a.id = r.application_id "
                      "WHERE r.tenant_id = $1 AND r.storage_configuration_id = $2 "
                      "AND a.status <> 'Y'")
        .Bind(tenant)
        .Bind(storage)
        .Run()[0]
        .Int(0);
  }

  Tags GetTags(RowId tenant, ResourceKind kind, RowId resource) override {
    return All(c_.Prepare("SELECT key, value FROM ivs_tags WHERE tenant_id = $1 AND "
                          "resource_type = $2 AND resource_id = $3 ORDER BY key")
                   .Bind(tenant)
                   .Bind(ResourceKindName(kind))
                   .Bind(resource)
                   .Run(),
               [](const Row& r) { return std::make_pair(r.Text(0), r.Text(1)); });
  }

  void PutTags(RowId tenant, ResourceKind kind, RowId resource, const Tags& tags) override {
    dirty_ = true;
    for (const auto& [k, v] : tags) {
      c_.Prepare("INSERT INTO ivs_tags (tenant_id, resource_type, resource_id, key, value) "
                 "VALUES ($1, $2, $3, $4, $5) "
                 "ON CONFLICT (tenant_id, resource_type, resource_id, key) "
                 "DO UPDATE SET value = excluded.value")
          .Bind(tenant)
          .Bind(ResourceKindName(kind))
          .Bind(resource)
          .Bind(k)
          .Bind(v)
          .Send();
    }
  }

  void DeleteTags(RowId tenant, ResourceKind kind, RowId resource,
                  const std::vector<std::string>& keys) override {
    dirty_ = true;
    for (const std::string& k : keys) {
      c_.Prepare("DELETE FROM ivs_tags WHERE tenant_id = $1 AND resource_type = $2 AND "
                 "resource_id = $3 AND key = $4")
          .Bind(tenant)
          .Bind(ResourceKindName(kind))
          .Bind(resource)
          .Bind(k)
          .Send();
    }
  }

  void InsertStorageConfiguration(StorageConfiguration* c) override {
    dirty_ = true;
    Result r = c_.Prepare("INSERT INTO ivs_storage_configurations (tenant_id, config_id, name, "
                          "bucket_name, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                   .Bind(c->tenant_id)
                   .Bind(c->config_id)
                   .Bind(c->name)
                   .Bind(c->bucket_name)
                   .Bind(c->created_at)
                   .Run();
    c->id = r[0].Int(0);
  }

  std::optional<StorageConfiguration> GetStorageConfiguration(RowId tenant, RowId id) override {
    return First(c_.Prepare(std::string("SELECT ") + kStorageCols +
                            " FROM ivs_storage_configurations WHERE tenant_id = $1 AND id = $2")
                     .Bind(tenant)
                     .Bind(id)
                     .Run(),
                 ReadStorage);
  }

  std::optional<StorageConfiguration> FindStorageConfiguration(
      RowId tenant, const std::string& config_id) override {
    return First(c_.Prepare(std::string("SELECT ") + kStorageCols +
                            " FROM ivs_storage_configurations WHERE tenant_id = $1 AND "
                            "config_id = $2")
                     .Bind(tenant)
                     .Bind(config_id)
                     .Run(),
                 ReadStorage);
  }

  std::vector<StorageConfiguration> ListStorageConfigurations(RowId tenant, RowId after_id,
                                                              int64_t limit) override {
    return All(c_.Prepare(std::string("SELECT ") + kStorageCols +
                          " FROM ivs_storage_configurations WHERE tenant_id = $1 AND id > $2 "
                          "ORDER BY id LIMIT $3")
                   .Bind(tenant)
                   .Bind(after_id)
                   .Bind(limit)
                   .Run(),
               ReadStorage);
  }

  void DeleteStorageConfiguration(RowId tenant, RowId id) override {
    dirty_ = true;
    c_.Prepare("DELETE FROM ivs_tags WHERE tenant_id = $1 AND resource_type = $2 AND "
               "resource_id = $3")
        .Bind(tenant)
        .Bind(ResourceKindName(ResourceKind::kStorageConfiguration))
        .Bind(id)
        .Send();
    c_.Prepare("DELETE FROM ivs_storage_configurations WHERE tenant_id = $1 AND id = $2")
        .Bind(tenant)
        .Bind(id)
        .Send();
  }

  std::vector<Session> ListSessionsBefore(RowId tenant, RowId app, std::optional<RowId> before_id,
                                          int64_t limit) override {
    return All(c_.Prepare(std::string("SELECT ") + kSessionCols +
                          " FROM sessions WHERE tenant_id = $1 AND application_id = $2 AND "
                          "id < $3 ORDER BY id DESC LIMIT $4")
                   .Bind(tenant)
                   .Bind(app)
                   .Bind(before_id.value_or(INT64_MAX))
                   .Bind(limit)
                   .Run(),
               ReadSession);
  }

  std::optional<Participant> GetParticipant(RowId tenant, RowId member) override {
    auto read = [&] {
      return First(c_.Prepare(ParticipantSelect() + " WHERE m.tenant_id = $1 AND m.id = $2")
                       .Bind(tenant)
                       .Bind(member)
                       .Run(),
                   ReadParticipant);
    };
    std::optional<Participant> p = read();
    if (p && LockSessionOf(tenant, p->member.session_id)) p = read();
    return p;
  }

  std::optional<Participant> FindParticipant(RowId tenant, RowId session,
                                             const std::string& participant_id) override {
    LockSessionOf(tenant, session);
    return First(c_.Prepare(ParticipantSelect() +
                            " WHERE m.tenant_id = $1 AND m.session_id = $2 AND "
                            "m.ivs_participant_id = $3 ORDER BY m.id LIMIT 1")
                     .Bind(tenant)
                     .Bind(session)
                     .Bind(participant_id)
                     .Run(),
                 ReadParticipant);
  }

  std::optional<Participant> FindLatestParticipant(RowId tenant, RowId app,
                                                   const std::string& participant_id) override {
    std::optional<Participant> p;
    // A newer member may appear while this waits for a session's lock; then lock its session.
    for (bool locked_new = true; locked_new;) {
      p = First(c_.Prepare(ParticipantSelect() +
                           " JOIN sessions s ON s.tenant_id = m.tenant_id AND s.id = m.session_id "
                           "WHERE m.tenant_id = $1 AND m.ivs_participant_id = $2 AND "
                           "s.application_id = $3 ORDER BY m.id DESC LIMIT 1")
                    .Bind(tenant)
                    .Bind(participant_id)
                    .Bind(app)
                    .Run(),
                ReadParticipant);
      locked_new = p && LockSessionOf(tenant, p->member.session_id);
    }
    return p;
  }

  std::vector<ParticipantSummary> ListParticipants(RowId tenant, RowId session,
                                                   const ParticipantFilter& f,
                                                   const std::optional<ParticipantKey>& after,
                                                   int64_t limit) override {
    LockSessionOf(tenant, session);
    int n = 2;
    auto param = [&n] { return "$" + std::to_string(++n); };
    std::string sql = "SELECT " + Cols(kParticipantSummaryCols, "m") +
                      " FROM members m WHERE m.tenant_id = $1 AND m.session_id = $2";
    using Kind = ParticipantFilter::Kind;
    switch (f.kind) {
      case Kind::kNone:
        break;
      case Kind::kUserId:
        sql += " AND m.user_id = " + param();
        break;
      case Kind::kPublished:
        sql += " AND m.published = " + param();
        break;
      case Kind::kState:
        sql += f.connected ? " AND m.open_visit_id IS NOT NULL" : " AND m.open_visit_id IS NULL";
        break;
      case Kind::kRecordingState:
        sql += " AND m.recording_state = " + param();
        break;
    }
    if (after) {
      sql += " AND (m.first_join_at, m.ivs_participant_id, m.id) > (" + param() + ", ";
      sql += param() + ", ";
      sql += param() + ")";
    }
    sql += " ORDER BY m.first_join_at, m.ivs_participant_id, m.id LIMIT " + param();
    Query q = c_.Prepare(sql);
    q.Bind(tenant).Bind(session);
    if (f.kind == Kind::kUserId) q.Bind(f.user_id);
    if (f.kind == Kind::kPublished) q.Bind(int64_t{f.published ? 1 : 0});
    if (f.kind == Kind::kRecordingState) q.Bind(RecordingStateName(f.recording_state));
    if (after) q.Bind(after->first_join_at).Bind(after->participant_id).Bind(after->member_id);
    q.Bind(limit);
    return All(q.Run(), ReadParticipantSummary);
  }

  std::vector<Participant> ListPublishing(RowId tenant, RowId session) override {
    LockSessionOf(tenant, session);
    return All(c_.Prepare(ParticipantSelect() +
                          " WHERE m.tenant_id = $1 AND m.session_id = $2 AND m.publishing = 1 "
                          "ORDER BY m.id")
                   .Bind(tenant)
                   .Bind(session)
                   .Run(),
               ReadParticipant);
  }

  void UpdateMemberIvs(RowId tenant, RowId member, const MemberIvs& m) override {
    dirty_ = true;
    std::optional<std::string> replication_state;
    if (m.replication_state) {
      replication_state = std::string(ReplicationStateName(*m.replication_state));
    }
    c_.Prepare("UPDATE members SET user_id = $1, browser_name = $2, browser_version = $3, "
               "os_name = $4, os_version = $5, sdk_version = $6, isp_name = $7, protocol = $8, "
               "published = $9, publishing = $10, recording_state = $11, "
               "recording_bucket = $12, recording_prefix = $13, replication_type = $14, "
               "replication_state = $15, source_stage_id = $16, source_session_id = $17 "
               "WHERE tenant_id = $18 AND id = $19")
        .Bind(m.user_id)
        .Bind(m.client.browser_name)
        .Bind(m.client.browser_version)
        .Bind(m.client.os_name)
        .Bind(m.client.os_version)
        .Bind(m.client.sdk_version)
        .Bind(m.client.isp_name)
        .Bind(ProtocolName(m.protocol))
        .Bind(int64_t{m.published ? 1 : 0})
        .Bind(int64_t{m.publishing ? 1 : 0})
        .Bind(RecordingStateName(m.recording_state))
        .Bind(m.recording_bucket)
        .Bind(m.recording_prefix)
        .Bind(ReplicationTypeName(m.replication_type))
        .Bind(replication_state)
        .Bind(m.source_stage_id)
        .Bind(m.source_session_id)
        .Bind(tenant)
        .Bind(member)
        .Send();
  }

  void InsertEventWithDetail(Event* e, const EventDetail& d) override {
    dirty_ = true;
    Result r = c_.Prepare("INSERT INTO events (tenant_id, session_id, member_id, name, at, "
                          "remote_participant_id, reason, destination_stage_id, "
                          "destination_session_id, replica, error_code) "
                          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id")
                   .Bind(e->tenant_id)
                   .Bind(e->session_id)
                   .Bind(e->member_id)
                   .Bind(e->name)
                   .Bind(e->at)
                   .Bind(e->remote_participant_id)
                   .Bind(e->reason)
                   .Bind(d.destination_stage_id)
                   .Bind(d.destination_session_id)
                   .Bind(int64_t{d.replica ? 1 : 0})
                   .Bind(d.error_code)
                   .Run();
    e->id = r[0].Int(0);
  }

  std::vector<ParticipantEvent> ListEvents(RowId tenant, RowId member, RowId after_id,
                                           int64_t limit) override {
    return All(c_.Prepare(std::string("SELECT ") + kEventCols +
                          " FROM events WHERE tenant_id = $1 AND member_id = $2 AND id > $3 "
                          "ORDER BY id LIMIT $4")
                   .Bind(tenant)
                   .Bind(member)
                   .Bind(after_id)
                   .Bind(limit)
                   .Run(),
               ReadEvent);
  }

  void RevokeParticipant(RowId tenant, RowId app, const std::string& participant_id,
                         Millis at) override {
    dirty_ = true;
    c_.Prepare("INSERT INTO ivs_revocations (tenant_id, application_id, participant_id, "
               "revoked_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
        .Bind(tenant)
        .Bind(app)
        .Bind(participant_id)
        .Bind(at)
        .Send();
  }

  bool IsParticipantRevoked(RowId tenant, RowId app, const std::string& participant_id) override {
    return !c_.Prepare("SELECT 1 FROM ivs_revocations WHERE tenant_id = $1 AND "
                       "application_id = $2 AND participant_id = $3")
                .Bind(tenant)
                .Bind(app)
                .Bind(participant_id)
                .Run()
                .empty();
  }

  void InsertReplica(ReplicaLink* r) override {
    dirty_ = true;
    Result res = c_.Prepare("INSERT INTO ivs_replicas (tenant_id, participant_id, "
                            "source_application_id, source_session_id, source_member_id, "
                            "destination_application_id, destination_session_id, "
                            "destination_member_id, state, created_at, updated_at) "
                            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id")
                     .Bind(r->tenant_id)
                     .Bind(r->participant_id)
                     .Bind(r->source_application_id)
                     .Bind(r->source_session_id)
                     .Bind(r->source_member_id)
                     .Bind(r->destination_application_id)
                     .Bind(r->destination_session_id)
                     .Bind(r->destination_member_id)
                     .Bind(ReplicationStateName(r->state))
                     .Bind(r->created_at)
                     .Bind(r->updated_at)
                     .Run();
    r->id = res[0].Int(0);
  }

  void UpdateReplica(const ReplicaLink& r) override {
    dirty_ = true;
    c_.Prepare("UPDATE ivs_replicas SET state = $1, updated_at = $2 "
               "WHERE tenant_id = $3 AND id = $4")
        .Bind(ReplicationStateName(r.state))
        .Bind(r.updated_at)
        .Bind(r.tenant_id)
        .Bind(r.id)
        .Send();
  }

  std::optional<ReplicaLink> FindActiveReplica(RowId tenant, RowId source_app,
                                               RowId destination_app,
                                               const std::string& participant_id) override {
    return First(c_.Prepare(std::string("SELECT ") + kReplicaCols +
                            " FROM ivs_replicas WHERE tenant_id = $1 AND "
                            "source_application_id = $2 AND destination_application_id = $3 AND "
                            "participant_id = $4 AND state = 'ACTIVE' ORDER BY id LIMIT 1")
                     .Bind(tenant)
                     .Bind(source_app)
                     .Bind(destination_app)
                     .Bind(participant_id)
                     .Run(),
                 ReadReplica);
  }

  std::vector<ReplicaView> ListReplicas(RowId tenant, RowId source_app,
                                        const std::string& participant_id, RowId after_id,
                                        int64_t limit) override {
    return All(c_.Prepare("SELECT " + Cols(kReplicaCols, "r") +
                          ", sa.stage_id, ss.stage_session_id, da.stage_id, ds.stage_session_id "
                          "FROM ivs_replicas r "
                          "JOIN applications sa ON sa.tenant_id = r.tenant_id "
                          "AND sa.id = r.source_application_id "
                          "JOIN sessions ss ON ss.tenant_id = r.tenant_id "
                          "AND ss.id = r.source_session_id "
                          "JOIN applications da ON da.tenant_id = r.tenant_id "
                          "AND da.id = r.destination_application_id "
                          "JOIN sessions ds ON ds.tenant_id = r.tenant_id "
                          "AND ds.id = r.destination_session_id "
                          "WHERE r.tenant_id = $1 AND r.source_application_id = $2 AND "
                          "r.participant_id = $3 AND r.id > $4 ORDER BY r.id LIMIT $5")
                   .Bind(tenant)
                   .Bind(source_app)
                   .Bind(participant_id)
                   .Bind(after_id)
                   .Bind(limit)
                   .Run(),
               ReadReplicaView);
  }

  std::vector<ReplicaLink> ListActiveReplicasOfSession(RowId tenant, RowId session) override {
    return All(c_.Prepare(std::string("SELECT ") + kReplicaCols +
                          " FROM ivs_replicas WHERE tenant_id = $1 AND state = 'ACTIVE' AND "
                          "source_session_id = $2 UNION SELECT " + kReplicaCols +
                          " FROM ivs_replicas WHERE tenant_id = $1 AND state = 'ACTIVE' AND "
                          "destination_session_id = $2 ORDER BY id")
                   .Bind(tenant)
                   .Bind(session)
                   .Run(),
               ReadReplica);
  }

  // --- presence ---

  std::optional<PresenceSettings> GetPresenceSettings(RowId tenant, RowId app) override {
    return First(c_.Prepare("SELECT timeout_seconds, reconnect_window_seconds, "
                            "idle_session_seconds, manage_server_side FROM presence_settings "
                            "WHERE tenant_id = $1 AND application_id = $2")
                     .Bind(tenant)
                     .Bind(app)
                     .Run(),
                 [](const Row& r) {
                   return PresenceSettings{r.Int(0), r.Int(1), r.Int(2), r.Int(3) != 0};
                 });
  }

  void PutPresenceSettings(RowId tenant, RowId app, const PresenceSettings& ps) override {
    dirty_ = true;
    c_.Prepare("INSERT INTO presence_settings (tenant_id, application_id, timeout_seconds, "
               "reconnect_window_seconds, idle_session_seconds, manage_server_side) "
               "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, application_id) DO UPDATE "
               "SET timeout_seconds = excluded.timeout_seconds, "
               "reconnect_window_seconds = excluded.reconnect_window_seconds, "
               "idle_session_seconds = excluded.idle_session_seconds, "
               "manage_server_side = excluded.manage_server_side")
        .Bind(tenant)
        .Bind(app)
        .Bind(ps.timeout_seconds)
        .Bind(ps.reconnect_window_seconds)
        .Bind(ps.idle_session_seconds)
        .Bind(int64_t{ps.manage_server_side ? 1 : 0})
        .Send();
  }

  MemberPresence GetMemberPresence(RowId tenant, RowId member) override {
    auto read = [&] {
      return c_.Prepare("SELECT session_id, presence_source, heartbeats, last_seen_at, due_at, "
                        "resumable_until, last_seq FROM members WHERE tenant_id = $1 AND id = $2")
          .Bind(tenant)
          .Bind(member)
          .Run();
    };
    Result r = read();
    MemberPresence p;
    if (r.empty()) return p;
    if (LockSessionOf(tenant, r[0].Int(0))) r = read();
    p.source = ParsePresenceSource(r[0].Text(1)).value_or(PresenceSource::kServer);
    p.heartbeats = r[0].Int(2) != 0;
    p.last_seen_at = r[0].OptInt(3);
    p.due_at = r[0].OptInt(4);
    p.resumable_until = r[0].OptInt(5);
    p.last_seq = r[0].OptInt(6);
    return p;
  }

  void UpdateMemberPresence(RowId tenant, RowId member, const MemberPresence& p) override {
    dirty_ = true;
    Query q = c_.Prepare(
        "UPDATE members SET presence_source = $1, heartbeats = $2, last_seen_at = $3, "
        "due_at = $4, resumable_until = $5, last_seq = $6 WHERE tenant_id = $7 AND id = $8");
    rows::BindPresence(q, p).Bind(tenant).Bind(member).Send();
  }

  SessionPresence GetSessionPresence(RowId tenant, RowId session) override {
    LockSessionOf(tenant, session);
    return First(c_.Prepare("SELECT implicit, idle_due_at FROM sessions "
                            "WHERE tenant_id = $1 AND id = $2")
                     .Bind(tenant)
                     .Bind(session)
                     .Run(),
                 [](const Row& r) { return SessionPresence{r.Int(0) != 0, r.OptInt(1)}; })
        .value_or(SessionPresence{});
  }

  void UpdateSessionPresence(RowId tenant, RowId session, const SessionPresence& p) override {
    dirty_ = true;
    c_.Prepare("UPDATE sessions SET implicit = $1, idle_due_at = $2 "
               "WHERE tenant_id = $3 AND id = $4")
        .Bind(int64_t{p.implicit ? 1 : 0})
        .Bind(p.idle_due_at)
        .Bind(tenant)
        .Bind(session)
        .Send();
  }

  std::optional<Millis> LastEventTime(RowId tenant, RowId member) override {
    return First(c_.Prepare("SELECT at FROM events WHERE tenant_id = $1 AND member_id = $2 "
                            "ORDER BY id DESC LIMIT 1")
                     .Bind(tenant)
                     .Bind(member)
                     .Run(),
                 [](const Row& r) { return r.Int(0); });
  }

  std::vector<RowId> ListOpenMembers(RowId tenant, RowId session) override {
    LockSessionOf(tenant, session);
    return All(c_.Prepare("SELECT id FROM members WHERE tenant_id = $1 AND session_id = $2 AND "
                          "open_visit_id IS NOT NULL ORDER BY id")
                   .Bind(tenant)
                   .Bind(session)
                   .Run(),
               [](const Row& r) { return r.Int(0); });
  }

  void ClearSessionPresence(RowId tenant, RowId session) override {
    dirty_ = true;
    c_.Prepare("UPDATE members SET due_at = NULL, resumable_until = NULL WHERE tenant_id = $1 "
               "AND session_id = $2 AND (due_at IS NOT NULL OR resumable_until IS NOT NULL)")
        .Bind(tenant)
        .Bind(session)
        .Send();
    c_.Prepare("UPDATE sessions SET idle_due_at = NULL WHERE tenant_id = $1 AND id = $2")
        .Bind(tenant)
        .Bind(session)
        .Send();
  }

  std::vector<DueMember> ListDueMembers(Millis now, int64_t limit) override {
    return All(c_.Prepare("SELECT tenant_id, id FROM members WHERE due_at IS NOT NULL AND "
                          "due_at <= $1 ORDER BY due_at LIMIT $2")
                   .Bind(now)
                   .Bind(limit)
                   .Run(),
               [](const Row& r) { return DueMember{r.Int(0), r.Int(1)}; });
  }

  std::vector<DueSession> ListIdleSessions(Millis now, int64_t limit) override {
    return All(c_.Prepare("SELECT tenant_id, id, application_id FROM sessions WHERE "
                          "idle_due_at IS NOT NULL AND idle_due_at <= $1 "
                          "ORDER BY idle_due_at LIMIT $2")
                   .Bind(now)
                   .Bind(limit)
                   .Run(),
               [](const Row& r) { return DueSession{r.Int(0), r.Int(1), r.Int(2)}; });
  }

  void PutStreamKey(const StreamKey& k) override {
    dirty_ = true;
    c_.Prepare("INSERT INTO presence_stream_keys (tenant_id, key_hash, application_id, "
               "participant_id, claims, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, "
               "$7) ON CONFLICT (key_hash) DO UPDATE SET claims = excluded.claims, "
               "expires_at = excluded.expires_at")
        .Bind(k.tenant_id)
        .BindBytes(k.key_hash)
        .Bind(k.application_id)
        .Bind(k.participant_id)
        .Bind(k.claims_json)
        .Bind(k.expires_at)
        .Bind(k.created_at)
        .Send();
  }

  std::optional<StreamKey> FindStreamKey(const std::string& key_hash) override {
    return First(c_.Prepare("SELECT key_hash, tenant_id, application_id, participant_id, claims, "
                            "expires_at, created_at FROM presence_stream_keys WHERE key_hash = $1")
                     .BindBytes(key_hash)
                     .Run(),
                 [](const Row& r) {
                   return StreamKey{r.Bytes(0), r.Int(1),  r.Int(2), r.Text(3),
                                    r.Text(4),  r.Int(5), r.Int(6)};
                 });
  }

  std::optional<MediaConnection> FindMediaConnection(RowId tenant, RowId app,
                                                     const std::string& participant_id,
                                                     const std::string& connection_id) override {
    return First(c_.Prepare("SELECT tenant_id, application_id, participant_id, connection_id, "
                            "member_id, role, stream, opened_at, closed_at "
                            "FROM presence_media_connections WHERE tenant_id = $1 AND "
                            "application_id = $2 AND participant_id = $3 AND connection_id = $4")
                     .Bind(tenant)
                     .Bind(app)
                     .Bind(participant_id)
                     .Bind(connection_id)
                     .Run(),
                 [](const Row& r) {
                   return MediaConnection{r.Int(0),  r.Int(1),  r.Text(2), r.Text(3),  r.Int(4),
                                          r.Text(5), r.Text(6), r.Int(7),  r.OptInt(8)};
                 });
  }

  void PutMediaConnection(const MediaConnection& mc) override {
    dirty_ = true;
    c_.Prepare("INSERT INTO presence_media_connections (tenant_id, application_id, "
               "participant_id, connection_id, member_id, role, stream, opened_at, closed_at) "
               "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (tenant_id, "
               "application_id, participant_id, connection_id) DO UPDATE SET "
               "member_id = excluded.member_id, role = excluded.role, stream = excluded.stream, "
               "opened_at = excluded.opened_at, closed_at = excluded.closed_at")
        .Bind(mc.tenant_id)
        .Bind(mc.application_id)
        .Bind(mc.participant_id)
        .Bind(mc.connection_id)
        .Bind(mc.member_id)
        .Bind(mc.role)
        .Bind(mc.stream)
        .Bind(mc.opened_at)
        .Bind(mc.closed_at)
        .Send();
  }

  int64_t CountOpenMediaConnections(RowId tenant, RowId member, const std::string& role) override {
    return c_.Prepare("SELECT count(*) FROM presence_media_connections WHERE tenant_id = $1 AND "
                      "member_id = $2 AND closed_at IS NULL AND ($3 = '' OR role = $3)")
        .Bind(tenant)
        .Bind(member)
        .Bind(role)
        .Run()[0]
        .Int(0);
  }

 private:
  // The SELECT list of a Participant (rows::ReadParticipant): members m joined with profiles p.
  static std::string ParticipantSelect() {
    return "SELECT " + Cols(kMemberCols, "m") + ", " + Cols(kMemberIvsCols, "m") + ", " +
           Cols(kProfileCols, "p") +
           " FROM members m JOIN profiles p ON p.tenant_id = m.tenant_id AND p.id = m.profile_id";
  }

  // In a write transaction, a member is read only while its session is locked: the session
  // lock is what serializes writers of the session's members. Locks the session unless held;
  // true when it was not held (so a member read before may be stale).
  bool LockSessionOf(RowId tenant, RowId session) {
    if (!write_ || sessions_.Get(tenant, session) != nullptr) return false;
    GetSession(tenant, session);
    return true;
  }

  // The WHERE clause of a visit search; *n is the number of parameters it uses.
  static std::string Where(const VisitQuery& vq, int* n) {
    std::string w = " WHERE v.tenant_id = $1 AND v.session_id = $2";
    *n = 2;
    auto add = [&](const char* cond) {
      w += cond;
      w += std::to_string(++*n);
    };
    if (vq.nickname_folded) {
      add(" AND strpos(p.nickname_folded, $");
      w += ") > 0";
    }
    if (vq.created_from) add(" AND v.created_at >= $");
    if (vq.created_to) add(" AND v.created_at <= $");
    if (vq.deleted_from) add(" AND v.deleted_at >= $");
    if (vq.deleted_to) add(" AND v.deleted_at <= $");
    return w;
  }

  static void BindWhere(Query& q, RowId tenant, RowId session, const VisitQuery& vq) {
    q.Bind(tenant).Bind(session);
    if (vq.nickname_folded) q.Bind(*vq.nickname_folded);
    if (vq.created_from) q.Bind(*vq.created_from);
    if (vq.created_to) q.Bind(*vq.created_to);
    if (vq.deleted_from) q.Bind(*vq.deleted_from);
    if (vq.deleted_to) q.Bind(*vq.deleted_to);
  }

  // In a write transaction, keeps the row just read (and locked) for later reads.
  std::optional<Application> HoldApp(std::optional<Application> a) {
    if (write_ && a) apps_.Put(*a, {"u:" + a->uuid, "s:" + a->stage_id});
    return a;
  }
  std::optional<Session> HoldSession(std::optional<Session> s) {
    if (write_ && s) sessions_.Put(*s, {"u:" + s->uuid, "s:" + s->stage_session_id});
    return s;
  }
  std::optional<Profile> HoldProfile(std::optional<Profile> p) {
    if (write_ && p) profiles_.Put(*p, {p->participant_id});
    return p;
  }

  Conn& c_;
  const bool write_;
  const std::string lock_;
  bool dirty_ = false;
  LockedRows<Application> apps_;
  LockedRows<Session> sessions_;
  LockedRows<Profile> profiles_;
};

void Migrate(Conn* conn) {
  conn->Exec("BEGIN");
  try {
    conn->Exec(kMigrationLock);
    conn->Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
               "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
    const int64_t current =
        conn->Exec("SELECT coalesce(max(version), 0) FROM schema_migrations")[0].Int(0);
    for (const Migration& m : PostgresMigrations()) {
      if (m.version <= current) continue;
      conn->Exec(m.sql);
      conn->Prepare("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
          .Bind(int64_t{m.version})
          .Bind(std::string_view(m.name))
          .Run();
    }
    conn->Exec("COMMIT");
  } catch (const StoreFailure&) {
    try {
      if (!conn->broken() && conn->tx_status() != PQTRANS_IDLE) conn->Exec("ROLLBACK");
    } catch (const StoreFailure&) {
      // The connection is dropped with the failure being reported.
    }
    throw;
  }
}

Status ToStatus(const StoreFailure& f) { return Status(f.code(), f.what()); }

class PgStore final : public Store {
 public:
  PgStore(std::string url, const StoreOptions& options)
      : url_(std::move(url)),
        max_batch_(std::max(1, options.max_batch)),
        readers_(std::max(1, options.pool - 1)) {}

  ~PgStore() override { Close(); }

  void Start() { writer_ = std::thread([this] { WriterLoop(); }); }

  void Write(TxFn fn, Done done) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!closing_) {
        queue_.push_back(Item{std::move(fn), std::move(done), 0});
        cv_.notify_one();
        return;
      }
    }
    done(Status::Unavailable("the store is shutting down"));
  }

  Status Read(const TxFn& fn) override {
    return WithReader([&fn](Conn& conn) {
      conn.Send("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      PgTx tx(&conn, false);
      Status s = fn(tx);
      conn.Send("COMMIT");
      conn.FlushLater();
      return s;
    });
  }

  Status Ping() override {
    return WithReader([](Conn& conn) {
      conn.Exec("SELECT 1");
      return Status::Ok();
    });
  }

  void Close() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closing_ = true;
      cv_.notify_all();
    }
    if (writer_.joinable()) writer_.join();
  }

 private:
  struct Item {
    TxFn fn;
    Done done;
    int attempts;  // runs that ended in a retryable failure
  };

  std::unique_ptr<Conn> Connect() {
    return std::make_unique<Conn>(url_, kConnectTimeoutSeconds, true);
  }

  // Runs `body` on a pooled read connection, connecting when the pool has none idle and
  // reconnecting once when an idle connection turns out to be lost before anything ran.
  // Blocks while every read connection is in use.
  template <typename F>
  Status WithReader(F body) {
    std::unique_ptr<Conn> conn;
    {
      std::unique_lock<std::mutex> lock(reader_mu_);
      reader_cv_.wait(lock, [this] { return readers_out_ < readers_; });
      ++readers_out_;
      if (!idle_readers_.empty()) {
        conn = std::move(idle_readers_.back());
        idle_readers_.pop_back();
      }
    }
    if (conn && !conn->Alive()) conn.reset();
    bool reused = conn != nullptr;
    Status s;
    for (;;) {
      try {
        if (!conn) conn = Connect();
        const uint64_t waits = conn->waits();
        try {
          s = body(*conn);
        } catch (const StoreFailure&) {
          if (reused && conn->broken() && conn->waits() == waits) {
            conn.reset();
            reused = false;
            continue;
          }
          throw;
        }
        break;
      } catch (const StoreFailure& f) {
        s = ToStatus(f);
        if (conn && !conn->broken()) {
          try {
            if (conn->tx_status() != PQTRANS_IDLE) conn->Exec("ROLLBACK");
          } catch (const StoreFailure&) {
            conn.reset();
          }
        }
        if (conn && conn->broken()) conn.reset();
        break;
      }
    }
    {
      std::lock_guard<std::mutex> lock(reader_mu_);
      --readers_out_;
      if (conn) idle_readers_.push_back(std::move(conn));
      reader_cv_.notify_one();
    }
    return s;
  }

  void WriterLoop() {
    std::unique_ptr<Conn> conn;
    std::vector<Item> batch;
    std::vector<Status> results;
    std::vector<Item> retry;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return closing_ || !queue_.empty(); });
        if (queue_.empty()) return;  // closing and drained
        while (!queue_.empty() && static_cast<int>(batch.size()) < max_batch_) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      RunBatch(&conn, &batch, &results, &retry);
      if (!retry.empty()) {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto it = retry.rbegin(); it != retry.rend(); ++it) {
          queue_.push_front(std::move(*it));
        }
      }
      for (size_t i = 0; i < results.size(); ++i) batch[i].done(std::move(results[i]));
      batch.clear();
      results.clear();
      retry.clear();
    }
  }

  // Undoes the current fn: everything since SAVEPOINT w.
  static void RollBackFn(Conn& c) {
    try {
      if (c.queued() > 0) c.Flush();
    } catch (const PgFailure&) {
      if (c.broken()) throw;
    }
    c.Exec("ROLLBACK TO SAVEPOINT w");
  }

  // Runs the fns of *batch in one transaction, each inside its own savepoint. Fills *results
  // with the outcome of the leading fns that ran, in order; the rest of *batch goes to *retry
  // (moved out, to run again first in a later transaction) when a fn met a deadlock, a lock
  // timeout or a unique-key race. When the transaction itself fails, every fn fails with
  // kUnavailable and nothing is retried, except that a batch whose reused connection proves
  // lost before the server answered anything runs again once on a new connection.
  void RunBatch(std::unique_ptr<Conn>* conn, std::vector<Item>* batch,
                std::vector<Status>* results, std::vector<Item>* retry) {
    bool reused = *conn && (*conn)->Alive();
    for (;;) {
      try {
        if (!reused) {
          conn->reset();
          *conn = Connect();
        }
        (*conn)->Send("BEGIN");
        (*conn)->Send(kFirstFnLockTimeout);
        (*conn)->Send("SAVEPOINT w");
      } catch (const StoreFailure& f) {
        conn->reset();
        results->assign(batch->size(), ToStatus(f));
        return;
      }
      Conn& c = **conn;
      const uint64_t waits = c.waits();
      try {
        RunFns(c, batch, results, retry);
        Result done = c.Exec("COMMIT");
        if (done.Command() != "COMMIT") {
          throw PgFailure(Code::kUnavailable, "", "the transaction was rolled back at commit");
        }
        return;
      } catch (const StoreFailure& f) {
        for (Item& item : *retry) batch->push_back(std::move(item));
        retry->clear();
        if (c.broken()) {
          const bool untouched = c.waits() == waits;
          conn->reset();
          if (reused && untouched) {
            reused = false;
            results->clear();
            continue;
          }
        } else if (c.tx_status() != PQTRANS_IDLE) {
          try {
            c.Exec("ROLLBACK");
          } catch (const StoreFailure&) {
            conn->reset();
          }
        }
        results->assign(batch->size(), Status::Unavailable(
                                           std::string("the write transaction failed: ") + f.what()));
        return;
      }
    }
  }

  // The body of RunBatch's transaction. Throws when the transaction itself is lost.
  void RunFns(Conn& c, std::vector<Item>* batch, std::vector<Status>* results,
              std::vector<Item>* retry) {
    PgTx tx(&c, true);
    for (size_t i = 0; i < batch->size(); ++i) {
      if (i > 0) {
        c.Send("RELEASE SAVEPOINT w");
        if (i == 1) c.Send(kLaterFnLockTimeout);
        c.Send("SAVEPOINT w");
      }
      Item& item = (*batch)[i];
      tx.ClearDirty();
      Status s;
      bool again = false;
      try {
        s = item.fn(tx);
        // Its queued writes must have succeeded before it counts as done.
        if (s.ok() && tx.dirty() && c.queued() > 0) c.Flush();
      } catch (const PgFailure& f) {
        if (c.broken()) throw;
        again = f.retryable() && item.attempts + 1 < kMaxAttempts;
        s = ToStatus(f);
        if (f.retryable() && !again) {
          s = Status::Unavailable("too many conflicting writes, try again: " + s.message());
        }
      } catch (const StoreFailure& f) {
        if (c.broken()) throw;
        s = ToStatus(f);
      }
      if (!s.ok() && (tx.dirty() || c.tx_status() == PQTRANS_INERROR)) {
        tx.ForgetLocked();
        RollBackFn(c);
      }
      if (again) {
        item.attempts += 1;
        for (size_t j = i; j < batch->size(); ++j) retry->push_back(std::move((*batch)[j]));
        batch->resize(i);
        return;
      }
      results->push_back(std::move(s));
    }
  }

  const std::string url_;
  const int max_batch_;
  const int readers_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool closing_ = false;
  std::thread writer_;

  std::mutex reader_mu_;
  std::condition_variable reader_cv_;
  std::vector<std::unique_ptr<Conn>> idle_readers_;
  int readers_out_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url,
                                                   const StoreOptions& options) {
  try {
    {
      Conn conn(url, kConnectTimeoutSeconds, false);
      Migrate(&conn);
    }
    auto store = std::make_unique<PgStore>(url, options);
    store->Start();
    return std::unique_ptr<Store>(std::move(store));
  } catch (const StoreFailure& f) {
    return ToStatus(f);
  }
}

}  // namespace rollcall

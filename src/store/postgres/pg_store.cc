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

// Column lists, in the order the Read* functions below expect.
constexpr char kAppCols[] =
    "id, tenant_id, uuid, stage_id, name, type, status, created_at, active_session_id";
constexpr char kSessionCols[] =
    "id, tenant_id, application_id, uuid, stage_session_id, created_at, deleted_at, "
    "participant_count, visit_count";
constexpr char kProfileCols[] =
    "id, tenant_id, participant_id, nickname, profile_image_url, created_at";
constexpr char kMemberCols[] =
    "id, tenant_id, session_id, profile_id, ivs_participant_id, attributes, first_join_at, "
    "open_visit_id, last_visit_id";
constexpr char kVisitCols[] =
    "id, tenant_id, session_id, member_id, profile_id, uuid, created_at, deleted_at";
constexpr int kVisitColCount = 8;

// "a, b" with prefix "t" -> "t.a, t.b".
std::string Cols(const char* cols, const char* prefix) {
  std::string out;
  std::string_view s(cols);
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view col = s.substr(start, end - start);
    while (!col.empty() && col.front() == ' ') col.remove_prefix(1);
    if (!out.empty()) out += ", ";
    out += prefix;
    out += '.';
    out += col;
    start = end + 1;
  }
  return out;
}

Tenant ReadTenant(const Row& r) { return Tenant{r.Int(0), r.Text(1), r.Text(2), r.Int(3)}; }

Application ReadApp(const Row& r) {
  Application a;
  a.id = r.Int(0);
  a.tenant_id = r.Int(1);
  a.uuid = r.Text(2);
  a.stage_id = r.Text(3);
  a.name = r.Text(4);
  a.type = ParseAppType(r.Text(5)).value_or(AppType::kLive);
  a.status = ParseAppStatus(r.Text(6)).value_or(AppStatus::kActive);
  a.created_at = r.Int(7);
  a.active_session_id = r.OptInt(8);
  return a;
}

Session ReadSession(const Row& r) {
  Session s;
  s.id = r.Int(0);
  s.tenant_id = r.Int(1);
  s.application_id = r.Int(2);
  s.uuid = r.Text(3);
  s.stage_session_id = r.Text(4);
  s.created_at = r.Int(5);
  s.deleted_at = r.OptInt(6);
  s.participant_count = r.Int(7);
  s.visit_count = r.Int(8);
  return s;
}

Profile ReadProfile(const Row& r, int c = 0) {
  Profile p;
  p.id = r.Int(c);
  p.tenant_id = r.Int(c + 1);
  p.participant_id = r.Text(c + 2);
  p.nickname = r.Text(c + 3);
  p.profile_image_url = r.OptText(c + 4);
  p.created_at = r.Int(c + 5);
  return p;
}

Member ReadMember(const Row& r) {
  Member m;
  m.id = r.Int(0);
  m.tenant_id = r.Int(1);
  m.session_id = r.Int(2);
  m.profile_id = r.Int(3);
  m.ivs_participant_id = r.Text(4);
  m.attributes_json = r.Text(5);
  m.first_join_at = r.Int(6);
  m.open_visit_id = r.OptInt(7);
  m.last_visit_id = r.Int(8);
  return m;
}

Visit ReadVisit(const Row& r, int c = 0) {
  Visit v;
  v.id = r.Int(c);
  v.tenant_id = r.Int(c + 1);
  v.session_id = r.Int(c + 2);
  v.member_id = r.Int(c + 3);
  v.profile_id = r.Int(c + 4);
  v.uuid = r.Text(c + 5);
  v.created_at = r.Int(c + 6);
  v.deleted_at = r.OptInt(c + 7);
  return v;
}

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
// member. The order is always application, then session, then profile within one fn.
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
                             [](const Row& r) { return ReadProfile(r); }));
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
                             [](const Row& r) { return ReadProfile(r); }));
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
                 [](const Row& r) { return ReadVisit(r); });
  }

  void UpdateVisit(const Visit& v) override {
    dirty_ = true;
    c_.Prepare("UPDATE visits SET deleted_at = $1 WHERE tenant_id = $2 AND id = $3")
        .Bind(v.deleted_at)
        .Bind(v.tenant_id)
        .Bind(v.id)
        .Send();
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
      return VisitRow{ReadVisit(r), ReadProfile(r, kVisitColCount)};
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

 private:
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

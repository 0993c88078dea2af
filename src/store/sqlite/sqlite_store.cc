#include "store/sqlite/sqlite_store.h"

#include <pthread.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <tuple>
#include <vector>

#include "core/text.h"
#include "store/migration.h"
#include "store/sqlite/sqlite_db.h"

namespace rollcall {
namespace {

using sqlite::Db;
using sqlite::Query;

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

Tenant ReadTenant(const Query& q) {
  return Tenant{q.Int(0), q.Text(1), q.Text(2), q.Int(3)};
}

Application ReadApp(const Query& q, int c = 0) {
  Application a;
  a.id = q.Int(c);
  a.tenant_id = q.Int(c + 1);
  a.uuid = q.Text(c + 2);
  a.stage_id = q.Text(c + 3);
  a.name = q.Text(c + 4);
  a.type = ParseAppType(q.Text(c + 5)).value_or(AppType::kLive);
  a.status = ParseAppStatus(q.Text(c + 6)).value_or(AppStatus::kActive);
  a.created_at = q.Int(c + 7);
  a.active_session_id = q.OptInt(c + 8);
  return a;
}

Session ReadSession(const Query& q) {
  Session s;
  s.id = q.Int(0);
  s.tenant_id = q.Int(1);
  s.application_id = q.Int(2);
  s.uuid = q.Text(3);
  s.stage_session_id = q.Text(4);
  s.created_at = q.Int(5);
  s.deleted_at = q.OptInt(6);
  s.participant_count = q.Int(7);
  s.visit_count = q.Int(8);
  return s;
}

Profile ReadProfile(const Query& q, int c = 0) {
  Profile p;
  p.id = q.Int(c);
  p.tenant_id = q.Int(c + 1);
  p.participant_id = q.Text(c + 2);
  p.nickname = q.Text(c + 3);
  p.profile_image_url = q.OptText(c + 4);
  p.created_at = q.Int(c + 5);
  return p;
}

Member ReadMember(const Query& q) {
  Member m;
  m.id = q.Int(0);
  m.tenant_id = q.Int(1);
  m.session_id = q.Int(2);
  m.profile_id = q.Int(3);
  m.ivs_participant_id = q.Text(4);
  m.attributes_json = q.Text(5);
  m.first_join_at = q.Int(6);
  m.open_visit_id = q.OptInt(7);
  m.last_visit_id = q.Int(8);
  return m;
}

Visit ReadVisit(const Query& q, int c = 0) {
  Visit v;
  v.id = q.Int(c);
  v.tenant_id = q.Int(c + 1);
  v.session_id = q.Int(c + 2);
  v.member_id = q.Int(c + 3);
  v.profile_id = q.Int(c + 4);
  v.uuid = q.Text(c + 5);
  v.created_at = q.Int(c + 6);
  v.deleted_at = q.OptInt(c + 7);
  return v;
}

class SqliteTx final : public Tx {
 public:
  explicit SqliteTx(Db* db) : db_(*db) {}

  bool InsertTenant(Tenant* t, const std::string& admin_hash) override {
    {
      Query q = db_.Prepare("SELECT 1 FROM tenants WHERE name = ?");
      if (q.Bind(t->name).Step()) return false;
    }
    db_.Prepare("INSERT INTO tenants (name, account_id, admin_token_hash, created_at) "
                "VALUES (?, ?, ?, ?)")
        .Bind(t->name)
        .Bind(t->account_id)
        .BindBlob(admin_hash)
        .Bind(t->created_at)
        .Run();
    t->id = db_.LastInsertId();
    return true;
  }

  std::optional<Tenant> GetTenant(RowId id) override {
    Query q = db_.Prepare("SELECT id, name, account_id, created_at FROM tenants WHERE id = ?");
    q.Bind(id);
    if (!q.Step()) return std::nullopt;
    return ReadTenant(q);
  }

  std::optional<Tenant> FindTenantByAdminHash(const std::string& hash) override {
    Query q = db_.Prepare(
        "SELECT id, name, account_id, created_at FROM tenants WHERE admin_token_hash = ?");
    q.BindBlob(hash);
    if (!q.Step()) return std::nullopt;
    return ReadTenant(q);
  }

  std::vector<Tenant> ListTenants() override {
    Query q = db_.Prepare("SELECT id, name, account_id, created_at FROM tenants ORDER BY id");
    std::vector<Tenant> out;
    while (q.Step()) out.push_back(ReadTenant(q));
    return out;
  }

  void InsertAccessKey(const AccessKey& k) override {
    db_.Prepare("INSERT INTO access_keys (access_key_id, tenant_id, secret_access_key, "
                "created_at) VALUES (?, ?, ?, ?)")
        .Bind(k.access_key_id)
        .Bind(k.tenant_id)
        .Bind(k.secret_access_key)
        .Bind(k.created_at)
        .Run();
  }

  std::optional<AccessKey> FindAccessKey(const std::string& id) override {
    Query q = db_.Prepare(
        "SELECT access_key_id, tenant_id, secret_access_key, created_at FROM access_keys "
        "WHERE access_key_id = ?");
    q.Bind(id);
    if (!q.Step()) return std::nullopt;
    return AccessKey{q.Text(0), q.Int(1), q.Text(2), q.Int(3)};
  }

  void InsertApplication(Application* a, const std::string& key_hash) override {
    db_.Prepare("INSERT INTO applications (tenant_id, uuid, stage_id, name, type, status, "
                "created_at, api_key_hash, active_session_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .Bind(a->tenant_id)
        .Bind(a->uuid)
        .Bind(a->stage_id)
        .Bind(a->name)
        .Bind(AppTypeName(a->type))
        .Bind(AppStatusName(a->status))
        .Bind(a->created_at)
        .BindBlob(key_hash)
        .Bind(a->active_session_id)
        .Run();
    a->id = db_.LastInsertId();
  }

  std::optional<Application> FindApplicationByKeyHash(const std::string& hash) override {
    Query q = db_.Prepare(std::string("SELECT ") + kAppCols +
                          " FROM applications WHERE api_key_hash = ?");
    q.BindBlob(hash);
    if (!q.Step()) return std::nullopt;
    return ReadApp(q);
  }

  std::optional<Application> GetApplication(RowId tenant, RowId id) override {
    Query q = db_.Prepare(std::string("SELECT ") + kAppCols +
                          " FROM applications WHERE id = ? AND tenant_id = ?");
    q.Bind(id).Bind(tenant);
    if (!q.Step()) return std::nullopt;
    return ReadApp(q);
  }

  std::optional<Application> FindApplication(RowId tenant, const std::string& uuid) override {
    Query q = db_.Prepare(std::string("SELECT ") + kAppCols +
                          " FROM applications WHERE uuid = ? AND tenant_id = ?");
    q.Bind(uuid).Bind(tenant);
    if (!q.Step()) return std::nullopt;
    return ReadApp(q);
  }

  std::optional<Application> FindApplicationByStageId(RowId tenant,
                                                      const std::string& stage_id) override {
    Query q = db_.Prepare(std::string("SELECT ") + kAppCols +
                          " FROM applications WHERE stage_id = ? AND tenant_id = ?");
    q.Bind(stage_id).Bind(tenant);
    if (!q.Step()) return std::nullopt;
    return ReadApp(q);
  }

  std::vector<Application> ListApplications(RowId tenant, int64_t offset, int64_t limit) override {
    Query q = db_.Prepare(std::string("SELECT ") + kAppCols +
                          " FROM applications WHERE tenant_id = ? ORDER BY id DESC LIMIT ? "
                          "OFFSET ?");
    q.Bind(tenant).Bind(limit).Bind(offset);
    std::vector<Application> out;
    while (q.Step()) out.push_back(ReadApp(q));
    return out;
  }

  int64_t CountApplications(RowId tenant) override {
    Query q = db_.Prepare("SELECT count(*) FROM applications WHERE tenant_id = ?");
    q.Bind(tenant).Step();
    return q.Int(0);
  }

  void UpdateApplication(const Application& a) override {
    db_.Prepare("UPDATE applications SET name = ?, status = ?, active_session_id = ? "
                "WHERE id = ? AND tenant_id = ?")
        .Bind(a.name)
        .Bind(AppStatusName(a.status))
        .Bind(a.active_session_id)
        .Bind(a.id)
        .Bind(a.tenant_id)
        .Run();
  }

  void SetApiKeyHash(RowId tenant, RowId app, const std::string& hash) override {
    db_.Prepare("UPDATE applications SET api_key_hash = ? WHERE id = ? AND tenant_id = ?")
        .BindBlob(hash)
        .Bind(app)
        .Bind(tenant)
        .Run();
  }

  void InsertSession(Session* s) override {
    db_.Prepare("INSERT INTO sessions (tenant_id, application_id, uuid, stage_session_id, "
                "created_at, deleted_at, participant_count, visit_count) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .Bind(s->tenant_id)
        .Bind(s->application_id)
        .Bind(s->uuid)
        .Bind(s->stage_session_id)
        .Bind(s->created_at)
        .Bind(s->deleted_at)
        .Bind(s->participant_count)
        .Bind(s->visit_count)
        .Run();
    s->id = db_.LastInsertId();
  }

  std::optional<Session> GetSession(RowId tenant, RowId id) override {
    Query q = db_.Prepare(std::string("SELECT ") + kSessionCols +
                          " FROM sessions WHERE id = ? AND tenant_id = ?");
    q.Bind(id).Bind(tenant);
    if (!q.Step()) return std::nullopt;
    return ReadSession(q);
  }

  std::optional<Session> FindSession(RowId tenant, RowId app, const std::string& uuid) override {
    Query q = db_.Prepare(std::string("SELECT ") + kSessionCols +
                          " FROM sessions WHERE uuid = ? AND application_id = ? AND tenant_id = ?");
    q.Bind(uuid).Bind(app).Bind(tenant);
    if (!q.Step()) return std::nullopt;
    return ReadSession(q);
  }

  std::optional<Session> FindSessionByStageSessionId(RowId tenant, RowId app,
                                                     const std::string& st_id) override {
    Query q = db_.Prepare(std::string("SELECT ") + kSessionCols +
                          " FROM sessions WHERE stage_session_id = ? AND application_id = ? AND "
                          "tenant_id = ?");
    q.Bind(st_id).Bind(app).Bind(tenant);
    if (!q.Step()) return std::nullopt;
    return ReadSession(q);
  }

  std::vector<Session> ListSessions(RowId tenant, RowId app, int64_t offset,
                                    int64_t limit) override {
    Query q = db_.Prepare(std::string("SELECT ") + kSessionCols +
                          " FROM sessions WHERE application_id = ? AND tenant_id = ? "
                          "ORDER BY id DESC LIMIT ? OFFSET ?");
    q.Bind(app).Bind(tenant).Bind(limit).Bind(offset);
    std::vector<Session> out;
    while (q.Step()) out.push_back(ReadSession(q));
    return out;
  }

  int64_t CountSessions(RowId tenant, RowId app) override {
    Query q = db_.Prepare(
        "SELECT count(*) FROM sessions WHERE application_id = ? AND tenant_id = ?");
    q.Bind(app).Bind(tenant).Step();
    return q.Int(0);
  }

  void UpdateSession(const Session& s) override {
    db_.Prepare("UPDATE sessions SET deleted_at = ?, participant_count = ?, visit_count = ? "
                "WHERE id = ? AND tenant_id = ?")
        .Bind(s.deleted_at)
        .Bind(s.participant_count)
        .Bind(s.visit_count)
        .Bind(s.id)
        .Bind(s.tenant_id)
        .Run();
  }

  std::optional<Profile> FindProfile(RowId tenant, const std::string& participant_id) override {
    Query q = db_.Prepare(std::string("SELECT ") + kProfileCols +
                          " FROM profiles WHERE tenant_id = ? AND participant_id = ?");
    q.Bind(tenant).Bind(participant_id);
    if (!q.Step()) return std::nullopt;
    return ReadProfile(q);
  }

  std::optional<Profile> GetProfile(RowId tenant, RowId id) override {
    Query q = db_.Prepare(std::string("SELECT ") + kProfileCols +
                          " FROM profiles WHERE id = ? AND tenant_id = ?");
    q.Bind(id).Bind(tenant);
    if (!q.Step()) return std::nullopt;
    return ReadProfile(q);
  }

  void InsertProfile(Profile* p) override {
    db_.Prepare("INSERT INTO profiles (tenant_id, participant_id, nickname, nickname_folded, "
                "profile_image_url, created_at) VALUES (?, ?, ?, ?, ?, ?)")
        .Bind(p->tenant_id)
        .Bind(p->participant_id)
        .Bind(p->nickname)
        .Bind(FoldCase(p->nickname))
        .Bind(p->profile_image_url)
        .Bind(p->created_at)
        .Run();
    p->id = db_.LastInsertId();
  }

  void UpdateProfile(const Profile& p) override {
    db_.Prepare("UPDATE profiles SET nickname = ?, nickname_folded = ?, profile_image_url = ? "
                "WHERE id = ? AND tenant_id = ?")
        .Bind(p.nickname)
        .Bind(FoldCase(p.nickname))
        .Bind(p.profile_image_url)
        .Bind(p.id)
        .Bind(p.tenant_id)
        .Run();
  }

  std::optional<Member> FindMember(RowId tenant, RowId session, RowId profile) override {
    Query q = db_.Prepare(std::string("SELECT ") + kMemberCols +
                          " FROM members WHERE session_id = ? AND profile_id = ? AND "
                          "tenant_id = ?");
    q.Bind(session).Bind(profile).Bind(tenant);
    if (!q.Step()) return std::nullopt;
    return ReadMember(q);
  }

  void InsertMember(Member* m) override {
    db_.Prepare("INSERT INTO members (tenant_id, session_id, profile_id, ivs_participant_id, "
                "attributes, first_join_at, open_visit_id, last_visit_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .Bind(m->tenant_id)
        .Bind(m->session_id)
        .Bind(m->profile_id)
        .Bind(m->ivs_participant_id)
        .Bind(m->attributes_json)
        .Bind(m->first_join_at)
        .Bind(m->open_visit_id)
        .Bind(m->last_visit_id)
        .Run();
    m->id = db_.LastInsertId();
  }

  void UpdateMember(const Member& m) override {
    db_.Prepare("UPDATE members SET attributes = ?, open_visit_id = ?, last_visit_id = ? "
                "WHERE id = ? AND tenant_id = ?")
        .Bind(m.attributes_json)
        .Bind(m.open_visit_id)
        .Bind(m.last_visit_id)
        .Bind(m.id)
        .Bind(m.tenant_id)
        .Run();
  }

  // Also assigns the visit's seq (003_search.sql): the next number when it is the session's
  // latest enter, otherwise its rank, moving the visits entered after it up by one.
  void InsertVisit(Visit* v) override {
    int64_t seq = 1;
    bool in_order = true;
    {
      Query last = db_.Prepare(
          "SELECT seq, created_at FROM visits WHERE session_id = ? ORDER BY seq DESC LIMIT 1");
      if (last.Bind(v->session_id).Step()) {
        seq = last.Int(0) + 1;
        in_order = v->created_at >= last.Int(1);
      }
    }
    if (!in_order) {
      db_.Prepare("UPDATE visits SET seq = -(seq + 1) WHERE session_id = ? AND created_at > ?")
          .Bind(v->session_id)
          .Bind(v->created_at)
          .Run();
      seq -= db_.Changes();
      db_.Prepare("UPDATE visits SET seq = -seq WHERE session_id = ? AND seq < 0")
          .Bind(v->session_id)
          .Run();
    }
    db_.Prepare("INSERT INTO visits (tenant_id, session_id, member_id, profile_id, uuid, "
                "created_at, deleted_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .Bind(v->tenant_id)
        .Bind(v->session_id)
        .Bind(v->member_id)
        .Bind(v->profile_id)
        .Bind(v->uuid)
        .Bind(v->created_at)
        .Bind(v->deleted_at)
        .Bind(seq)
        .Run();
    v->id = db_.LastInsertId();
  }

  std::optional<Visit> GetVisit(RowId tenant, RowId id) override {
    Query q = db_.Prepare(std::string("SELECT ") + kVisitCols +
                          " FROM visits WHERE id = ? AND tenant_id = ?");
    q.Bind(id).Bind(tenant);
    if (!q.Step()) return std::nullopt;
    return ReadVisit(q);
  }

  void UpdateVisit(const Visit& v) override {
    db_.Prepare("UPDATE visits SET deleted_at = ? WHERE id = ? AND tenant_id = ?")
        .Bind(v.deleted_at)
        .Bind(v.id)
        .Bind(v.tenant_id)
        .Run();
  }

  int64_t CloseOpenVisits(RowId tenant, RowId session, Millis at,
                          const std::string& reason) override {
    db_.Prepare("INSERT INTO events (tenant_id, session_id, member_id, name, at, reason) "
                "SELECT tenant_id, session_id, id, 'LEFT', ?, ? FROM members "
                "WHERE session_id = ? AND tenant_id = ? AND open_visit_id IS NOT NULL "
                "ORDER BY id")
        .Bind(at)
        .Bind(reason)
        .Bind(session)
        .Bind(tenant)
        .Run();
    db_.Prepare("UPDATE visits SET deleted_at = max(created_at, ?) WHERE id IN "
                "(SELECT open_visit_id FROM members WHERE session_id = ? AND tenant_id = ? "
                "AND open_visit_id IS NOT NULL)")
        .Bind(at)
        .Bind(session)
        .Bind(tenant)
        .Run();
    const int64_t closed = db_.Changes();
    db_.Prepare("UPDATE members SET open_visit_id = NULL WHERE session_id = ? AND tenant_id = ? "
                "AND open_visit_id IS NOT NULL")
        .Bind(session)
        .Bind(tenant)
        .Run();
    return closed;
  }

  std::vector<VisitRow> SearchVisits(RowId tenant, RowId session, const VisitQuery& vq) override {
    const Plan& plan = PlanSearch(tenant, session, vq);
    const std::string select =
        "SELECT " + SearchColumns() + " FROM visits v JOIN profiles p ON p.id = v.profile_id";
    const int64_t limit = vq.page.size;
    const int64_t offset = vq.page.offset();
    if (plan.kind == Plan::kSeq) {
      // The page is the seq range [first, last] of the matching range [lo, hi].
      int64_t first = 0, last = -1;
      if (offset <= plan.hi - plan.lo) {
        if (vq.ascending) {
          first = plan.lo + offset;
          last = std::min(plan.hi, first + limit - 1);
        } else {
          last = plan.hi - offset;
          first = std::max(plan.lo, last - limit + 1);
        }
      }
      Query q = db_.Prepare(select +
                            " WHERE v.session_id = ? AND v.tenant_id = ? AND v.seq BETWEEN ? AND ?"
                            " ORDER BY v.seq" + (vq.ascending ? " ASC" : " DESC"));
      q.Bind(session).Bind(tenant).Bind(first).Bind(last);
      return ReadRows(q);
    }
    if (plan.kind == Plan::kMembers) {
      // Sorts the matching visits by what the index holds, then reads the page's rows only.
      Query q = db_.Prepare(select + " WHERE v.id IN (SELECT v.id" +
                            MembersSource(vq, vq.sort != VisitSort::kCreatedAt) + OrderBy(vq) +
                            " LIMIT ? OFFSET ?)" + OrderBy(vq));
      BindMembers(q, plan, tenant, session, vq);
      q.Bind(limit).Bind(offset);
      return ReadRows(q);
    }
    Query q = db_.Prepare(select + Where(vq) + OrderBy(vq) + " LIMIT ? OFFSET ?");
    BindWhere(q, tenant, session, vq);
    q.Bind(limit).Bind(offset);
    return ReadRows(q);
  }

  int64_t CountVisits(RowId tenant, RowId session, const VisitQuery& vq) override {
    const Plan& plan = PlanSearch(tenant, session, vq);
    if (plan.kind == Plan::kSeq) return std::max<int64_t>(0, plan.hi - plan.lo + 1);
    if (plan.kind == Plan::kMembers) {
      Query q = db_.Prepare("SELECT count(*)" + MembersSource(vq, false));
      BindMembers(q, plan, tenant, session, vq);
      q.Step();
      return q.Int(0);
    }
    std::string sql = "SELECT count(*) FROM visits v";
    if (vq.nickname_folded) sql += " JOIN profiles p ON p.id = v.profile_id";
    Query q = db_.Prepare(sql + Where(vq));
    BindWhere(q, tenant, session, vq);
    q.Step();
    return q.Int(0);
  }

  void InsertEvent(Event* e) override {
    db_.Prepare("INSERT INTO events (tenant_id, session_id, member_id, name, at, "
                "remote_participant_id, reason) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .Bind(e->tenant_id)
        .Bind(e->session_id)
        .Bind(e->member_id)
        .Bind(e->name)
        .Bind(e->at)
        .Bind(e->remote_participant_id)
        .Bind(e->reason)
        .Run();
    e->id = db_.LastInsertId();
  }

 private:
  // How a search of one session's visits runs (see 003_search.sql):
  // - kSeq: the default order without filters other than the created-time range. The matching
  //   visits are exactly those with seq in [lo, hi]; pages and the count are arithmetic.
  // - kMembers: a nickname filter of 3+ characters that few profiles match. The suffix index
  //   gives the tenant's matching profiles (listed in `profiles`, a JSON array), then come
  //   their members in this session, then those members' visits: cost follows the matches.
  // - kScan: the session's visits (narrowed by an index on a time range when there is one),
  //   each checked against the filters.
  struct Plan {
    enum Kind { kSeq, kMembers, kScan } kind = kScan;
    int64_t lo = 1, hi = 0;
    std::string profiles;
  };

  static const std::string& SearchColumns() {
    static const std::string cols = Cols(kVisitCols, "v") + ", " + Cols(kProfileCols, "p");
    return cols;
  }

  // " ORDER BY <the query's sort> <dir>, v.id <dir>".
  static std::string OrderBy(const VisitQuery& vq) {
    const char* dir = vq.ascending ? " ASC" : " DESC";
    const char* key = vq.sort == VisitSort::kCreatedAt       ? "v.created_at"
                      : vq.sort == VisitSort::kParticipantId ? "p.participant_id"
                                                             : "p.nickname";
    return std::string(" ORDER BY ") + key + dir + ", v.id" + dir;
  }

  // FROM and WHERE of the kMembers plan: the visits of the candidates' members in this session,
  // within the time filters. The candidates are exact (tenant and nickname checked), and a
  // member's visits are in its session and tenant, so without a leave-time filter the visits
  // are read from visits_by_member alone. `with_profile` joins the profile as p.
  static std::string MembersSource(const VisitQuery& vq, bool with_profile) {
    std::string s =
        " FROM json_each(?) j CROSS JOIN members m ON m.session_id = ? AND m.tenant_id = ? AND "
        "m.profile_id = j.value CROSS JOIN visits v ON v.member_id = m.id";
    if (with_profile) s += " CROSS JOIN profiles p ON p.id = v.profile_id";
    s += " WHERE 1";
    if (vq.created_from) s += " AND v.created_at >= ?";
    if (vq.created_to) s += " AND v.created_at <= ?";
    if (vq.deleted_from) s += " AND v.deleted_at >= ?";
    if (vq.deleted_to) s += " AND v.deleted_at <= ?";
    return s;
  }

  static void BindMembers(Query& q, const Plan& plan, RowId tenant, RowId session,
                          const VisitQuery& vq) {
    q.Bind(plan.profiles).Bind(session).Bind(tenant);
    for (const std::optional<Millis>& t :
         {vq.created_from, vq.created_to, vq.deleted_from, vq.deleted_to}) {
      if (t) q.Bind(*t);
    }
  }

  static std::vector<VisitRow> ReadRows(Query& q) {
    std::vector<VisitRow> out;
    while (q.Step()) out.push_back(VisitRow{ReadVisit(q), ReadProfile(q, 8)});
    return out;
  }

  // The seq of the session's first visit entered at or after `from` (ascending) or last entered
  // at or before it (descending); nullopt when there is none.
  std::optional<int64_t> SeqAt(RowId tenant, RowId session, Millis at, bool from) {
    Query q = db_.Prepare(
        from ? "SELECT seq FROM visits WHERE session_id = ? AND tenant_id = ? AND created_at >= ? "
               "ORDER BY created_at, id LIMIT 1"
             : "SELECT seq FROM visits WHERE session_id = ? AND tenant_id = ? AND created_at <= ? "
               "ORDER BY created_at DESC, id DESC LIMIT 1");
    q.Bind(session).Bind(tenant).Bind(at);
    if (!q.Step()) return std::nullopt;
    return q.Int(0);
  }

  // [lo, hi]: the seq range of the session's visits entered within the query's created range.
  std::pair<int64_t, int64_t> CreatedSeqRange(RowId tenant, RowId session, const VisitQuery& vq) {
    int64_t lo = 1, hi = 0;
    if (vq.created_to) {
      hi = SeqAt(tenant, session, *vq.created_to, false).value_or(0);
    } else {
      Query q = db_.Prepare(
          "SELECT coalesce(max(seq), 0) FROM visits WHERE session_id = ? AND tenant_id = ?");
      q.Bind(session).Bind(tenant).Step();
      hi = q.Int(0);
    }
    if (vq.created_from) lo = SeqAt(tenant, session, *vq.created_from, true).value_or(hi + 1);
    return {lo, hi};
  }

  // The plan of (tenant, session, vq), computed once per transaction: a search asks for the
  // page and then the count of the same query.
  const Plan& PlanSearch(RowId tenant, RowId session, const VisitQuery& vq) {
    std::string key = std::to_string(tenant) + '/' + std::to_string(session) + '/' +
                      std::to_string(static_cast<int>(vq.sort));
    for (const std::optional<Millis>& t :
         {vq.created_from, vq.created_to, vq.deleted_from, vq.deleted_to}) {
      key += t ? '/' + std::to_string(*t) : std::string("/-");
    }
    key += vq.nickname_folded ? "/=" + *vq.nickname_folded : std::string("/-");
    if (plan_key_ != key) {
      plan_ = MakePlan(tenant, session, vq);
      plan_key_ = std::move(key);
    }
    return plan_;
  }

  Plan MakePlan(RowId tenant, RowId session, const VisitQuery& vq) {
    Plan plan;
    const bool by_time_only = !vq.nickname_folded && !vq.deleted_from && !vq.deleted_to;
    if (by_time_only && vq.sort == VisitSort::kCreatedAt) {
      plan.kind = Plan::kSeq;
      std::tie(plan.lo, plan.hi) = CreatedSeqRange(tenant, session, vq);
      return plan;
    }
    if (!vq.nickname_folded || Utf8Length(*vq.nickname_folded).value_or(0) < 3) return plan;
    // The scan reads at most the visits in the created range (~0.5 us each); the member path
    // costs ~10 us per matching profile (its member, its visits, for the count and the page).
    // Take it when that is cheaper. The matching profiles are the tenant's suffixes starting
    // with the filter (003_search.sql).
    const auto [lo, hi] = CreatedSeqRange(tenant, session, vq);
    const int64_t max_profiles = std::max<int64_t>(0, hi - lo + 1) / 20;
    Query q = db_.Prepare(
        "SELECT DISTINCT profile_id FROM profile_nickname_suffixes WHERE tenant_id = ? AND "
        "suffix >= ? AND suffix < ? LIMIT ?");
    q.Bind(tenant).Bind(*vq.nickname_folded).Bind(PrefixEnd(*vq.nickname_folded));
    q.Bind(max_profiles + 1);
    std::string ids = "[";
    int64_t n = 0;
    while (q.Step()) {
      if (++n > max_profiles) return plan;
      if (n > 1) ids += ',';
      ids += std::to_string(q.Int(0));
    }
    plan.kind = Plan::kMembers;
    plan.profiles = ids + "]";
    return plan;
  }

  // The least byte string greater than every string that starts with `prefix` (binary order).
  // REQUIRES: prefix is non-empty UTF-8 (so holds no 0xFF byte).
  static std::string PrefixEnd(std::string prefix) {
    prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
    return prefix;
  }

  static std::string Where(const VisitQuery& vq) {
    std::string w = " WHERE v.session_id = ? AND v.tenant_id = ?";
    if (vq.nickname_folded) w += " AND instr(p.nickname_folded, ?) > 0";
    if (vq.created_from) w += " AND v.created_at >= ?";
    if (vq.created_to) w += " AND v.created_at <= ?";
    if (vq.deleted_from) w += " AND v.deleted_at >= ?";
    if (vq.deleted_to) w += " AND v.deleted_at <= ?";
    return w;
  }

  static void BindWhere(Query& q, RowId tenant, RowId session, const VisitQuery& vq) {
    q.Bind(session).Bind(tenant);
    if (vq.nickname_folded) q.Bind(*vq.nickname_folded);
    if (vq.created_from) q.Bind(*vq.created_from);
    if (vq.created_to) q.Bind(*vq.created_to);
    if (vq.deleted_from) q.Bind(*vq.deleted_from);
    if (vq.deleted_to) q.Bind(*vq.deleted_to);
  }

  Db& db_;
  std::string plan_key_;
  Plan plan_;
};

void Configure(Db* db) {
  db->Exec("PRAGMA journal_mode = WAL");
  db->Exec("PRAGMA synchronous = FULL");
  db->Exec("PRAGMA foreign_keys = OFF");
  db->Exec("PRAGMA cache_size = -16384");
  // Statement journals (one per write's SAVEPOINT) and sorts stay in memory: on disk they cost
  // a temp-file write per page a write touches.
  db->Exec("PRAGMA temp_store = MEMORY");
  // A checkpoint per 40 MB of WAL rather than 4 MB: pages that many commits rewrite (session
  // rows, index tails) are copied to the database file once per checkpoint.
  db->Exec("PRAGMA wal_autocheckpoint = 10000");
}

void Migrate(Db* db) {
  db->Exec("BEGIN IMMEDIATE");
  try {
    db->Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
             "name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
    // Every embedded migration not yet recorded, in version order: a migration merged later
    // with a lower number than one already applied is applied too.
    std::vector<int64_t> applied;
    {
      Query q = db->Prepare("SELECT version FROM schema_migrations");
      while (q.Step()) applied.push_back(q.Int(0));
    }
    for (const Migration& m : SqliteMigrations()) {
      if (std::find(applied.begin(), applied.end(), m.version) != applied.end()) continue;
      db->Exec(m.sql);
      db->Prepare("INSERT INTO schema_migrations (version, name, applied_at) "
                  "VALUES (?, ?, CAST(strftime('%s', 'now') AS INTEGER) * 1000)")
          .Bind(int64_t{m.version})
          .Bind(std::string_view(m.name))
          .Run();
    }
    db->Exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db->raw(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

Status ToStatus(const StoreFailure& f) { return Status(f.code(), f.what()); }

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string path, const StoreOptions& options)
      : path_(std::move(path)), options_(options) {}

  ~SqliteStore() override {
    Close();
  }

  void Start(std::unique_ptr<Db> writer) {
    writer_db_ = std::move(writer);
    thread_ = std::thread([this] { WriterLoop(); });
  }

  void Write(TxFn fn, Done done) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!closing_) {
        queue_.push_back(Item{std::move(fn), std::move(done)});
        cv_.notify_one();
        return;
      }
    }
    done(Status::Unavailable("the store is shutting down"));
  }

  Status Read(const TxFn& fn) override {
    std::unique_ptr<Db> db;
    try {
      db = TakeReader();
    } catch (const StoreFailure& f) {
      return ToStatus(f);
    }
    Status s;
    try {
      db->Prepare("BEGIN").Run();
      SqliteTx tx(db.get());
      s = fn(tx);
      db->Prepare("COMMIT").Run();
    } catch (const StoreFailure& f) {
      sqlite3_exec(db->raw(), "ROLLBACK", nullptr, nullptr, nullptr);
      s = ToStatus(f);
    }
    ReturnReader(std::move(db));
    return s;
  }

  Status Ping() override {
    return Read([](Tx&) { return Status::Ok(); });
  }

  void Close() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closing_) {
        if (!thread_.joinable()) return;
      }
      closing_ = true;
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  struct Item {
    TxFn fn;
    Done done;
  };

  std::unique_ptr<Db> TakeReader() {
    {
      std::lock_guard<std::mutex> lock(reader_mu_);
      if (!readers_.empty()) {
        std::unique_ptr<Db> db = std::move(readers_.back());
        readers_.pop_back();
        return db;
      }
    }
    auto db = std::make_unique<Db>(path_);
    db->Exec("PRAGMA query_only = 1");
    db->Exec("PRAGMA cache_size = -8192");
    db->Exec("PRAGMA temp_store = MEMORY");
    return db;
  }

  void ReturnReader(std::unique_ptr<Db> db) {
    std::lock_guard<std::mutex> lock(reader_mu_);
    if (static_cast<int>(readers_.size()) < options_.readers) readers_.push_back(std::move(db));
  }

  void WriterLoop() {
    pthread_setname_np(pthread_self(), "rollcall-writer");
    std::vector<Item> batch;
    std::vector<Status> results;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return closing_ || !queue_.empty(); });
        if (queue_.empty()) return;  // closing and drained
        while (!queue_.empty() && static_cast<int>(batch.size()) < options_.max_batch) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      RunBatch(batch, &results);
      for (size_t i = 0; i < batch.size(); ++i) batch[i].done(results[i]);
      batch.clear();
      results.clear();
    }
  }

  // Runs the batch in one transaction and commits it. A fn that fails must leave no change
  // behind. Most fail before they write (a missing session, an ended one), so the batch first
  // runs without a savepoint per fn (each costs about a tenth of a write); if a fn fails after
  // changing something, the transaction is rolled back and the whole batch runs again with a
  // savepoint around each fn (fns may run again: see Store::Write).
  void RunBatch(std::vector<Item>& batch, std::vector<Status>* results) {
    if (RunBatchIn(batch, results, /*savepoints=*/false)) return;
    results->clear();
    RunBatchIn(batch, results, /*savepoints=*/true);
  }

  // Returns false, with the transaction rolled back, when a fn failed after changing something
  // and `savepoints` is false.
  bool RunBatchIn(std::vector<Item>& batch, std::vector<Status>* results, bool savepoints) {
    Db& db = *writer_db_;
    try {
      db.Prepare("BEGIN IMMEDIATE").Run();
    } catch (const StoreFailure& f) {
      results->assign(batch.size(), ToStatus(f));
      return true;
    }
    SqliteTx tx(&db);
    try {
      for (Item& item : batch) {
        if (savepoints) db.Prepare("SAVEPOINT w").Run();
        const int64_t changes = sqlite3_total_changes64(db.raw());
        bool threw = false;
        Status s;
        try {
          s = item.fn(tx);
        } catch (const StoreFailure& f) {
          s = ToStatus(f);
          threw = true;
        }
        if (savepoints) {
          if (!s.ok()) db.Prepare("ROLLBACK TO w").Run();
          db.Prepare("RELEASE w").Run();
        } else if (!s.ok() && (threw || sqlite3_total_changes64(db.raw()) != changes)) {
          sqlite3_exec(db.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
          return false;
        }
        results->push_back(std::move(s));
      }
      db.Prepare("COMMIT").Run();
    } catch (const StoreFailure& f) {
      sqlite3_exec(db.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
      results->assign(batch.size(), Status::Unavailable(std::string("commit failed: ") + f.what()));
    }
    return true;
  }

  const std::string path_;
  const StoreOptions options_;
  std::unique_ptr<Db> writer_db_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool closing_ = false;
  std::mutex reader_mu_;
  std::vector<std::unique_ptr<Db>> readers_;
};

}  // namespace

StatusOr<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                                 const StoreOptions& options) {
  try {
    auto db = std::make_unique<Db>(path);
    Configure(db.get());
    Migrate(db.get());
    auto store = std::make_unique<SqliteStore>(path, options);
    store->Start(std::move(db));
    return std::unique_ptr<Store>(std::move(store));
  } catch (const StoreFailure& f) {
    return ToStatus(f);
  }
}

}  // namespace rollcall

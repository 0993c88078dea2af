#include "store/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <pthread.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "core/crypto.h"
#include "core/text.h"
#include "store/migration.h"
#include "store/rows.h"
#include "store/sqlite/sqlite_db.h"

namespace rollcall {
namespace {

using sqlite::Db;
using sqlite::Query;

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
using rows::kVisitCols;
using rows::ReadApp;
using rows::ReadEvent;
using rows::ReadMember;
using rows::ReadParticipant;
using rows::ReadParticipantSummary;
using rows::ReadProfile;
using rows::ReadReplica;
using rows::ReadReplicaView;
using rows::ReadSession;
using rows::ReadStorage;
using rows::ReadTenant;
using rows::ReadVisit;

// The SELECT list of a Participant (rows::ReadParticipant): members m joined with profiles p.
std::string ParticipantSelect() {
  return "SELECT " + Cols(kMemberCols, "m") + ", " + Cols(kMemberIvsCols, "m") + ", " +
         Cols(kProfileCols, "p") + " FROM members m JOIN profiles p ON p.id = m.profile_id";
}

// Rows the writer connection read in earlier transactions and reads again on most writes,
// kept while they cannot have changed: a write of this connection to one of them erases it
// (the session's last visit is updated instead), any rollback clears everything (Clear), and
// so does a commit of another connection to the file, seen through PRAGMA data_version when a
// write transaction begins. Used by the writer thread only.
struct WriterCache {
  struct LastVisit {
    int64_t seq = 0;
    Millis created_at = 0;
  };
  struct Settings {
    RowId tenant_id = 0;
    std::optional<PresenceSettings> settings;  // nullopt: none stored
  };
  // Kept small: cleared when one of the maps grows past this many entries.
  static constexpr size_t kMaxEntries = 100000;

  std::unordered_map<RowId, Application> apps;        // by id
  std::unordered_map<RowId, Settings> settings;       // by application id
  std::unordered_map<RowId, LastVisit> last_visits;   // by session id; absent: not known
  // Whether some replication is ACTIVE (ivs_replicas); nullopt: not known.
  std::optional<bool> any_active_replica;
  std::optional<int64_t> data_version;                // at the last write transaction's start

  void Clear() {
    apps.clear();
    settings.clear();
    last_visits.clear();
    any_active_replica.reset();
  }

  template <typename Map, typename V>
  void Put(Map& map, RowId key, V value) {
    if (map.size() >= kMaxEntries) Clear();
    map.insert_or_assign(key, std::move(value));
  }
};

// The presence columns of members, in MemberPresence order.
constexpr char kMemberPresenceCols[] =
    "presence_source, heartbeats, last_seen_at, due_at, resumable_until, last_seq";

MemberPresence ReadMemberPresence(const Query& q, int c) {
  MemberPresence p;
  p.source = ParsePresenceSource(q.Text(c)).value_or(PresenceSource::kServer);
  p.heartbeats = q.Int(c + 1) != 0;
  p.last_seen_at = q.OptInt(c + 2);
  p.due_at = q.OptInt(c + 3);
  p.resumable_until = q.OptInt(c + 4);
  p.last_seq = q.OptInt(c + 5);
  return p;
}

// A Tx on one connection. A write Tx serves a single fn of a batch (RunBatchIn) and gets the
// writer's cache; a read Tx gets none.
class SqliteTx final : public Tx {
 public:
  SqliteTx(Db* db, WriterCache* cache) : db_(*db), cache_(cache) {
    sqlite3_update_hook(db_.raw(), &SqliteTx::OnRowChanged, this);
  }
  SqliteTx(const SqliteTx&) = delete;
  SqliteTx& operator=(const SqliteTx&) = delete;
  ~SqliteTx() override { sqlite3_update_hook(db_.raw(), nullptr, nullptr); }

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

  std::vector<AccessKey> ListAccessKeys() override {
    Query q = db_.Prepare(
        "SELECT access_key_id, tenant_id, secret_access_key, created_at FROM access_keys");
    std::vector<AccessKey> out;
    while (q.Step()) out.push_back(AccessKey{q.Text(0), q.Int(1), q.Text(2), q.Int(3)});
    return out;
  }

  void UpdateAccessKeySecret(const std::string& id, const std::string& secret) override {
    db_.Prepare("UPDATE access_keys SET secret_access_key = ? WHERE access_key_id = ?")
        .Bind(secret)
        .Bind(id)
        .Run();
  }

  std::optional<std::string> FindKeyCheck() override {
    Query q = db_.Prepare("SELECT sealed FROM key_check WHERE id = 1");
    if (!q.Step()) return std::nullopt;
    return q.Text(0);
  }

  void InsertKeyCheck(const std::string& sealed) override {
    db_.Prepare("INSERT INTO key_check (id, sealed) VALUES (1, ?)").BindBlob(sealed).Run();
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
    if (cache_ != nullptr) {
      auto it = cache_->apps.find(id);
      if (it != cache_->apps.end()) {
        if (it->second.tenant_id != tenant) return std::nullopt;
        return it->second;
      }
    }
    Query q = db_.Prepare(std::string("SELECT ") + kAppCols +
                          " FROM applications WHERE id = ? AND tenant_id = ?");
    q.Bind(id).Bind(tenant);
    if (!q.Step()) return std::nullopt;
    Application a = ReadApp(q);
    if (cache_ != nullptr) cache_->Put(cache_->apps, a.id, a);
    return a;
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
    if (cache_ != nullptr) cache_->apps.erase(a.id);
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
    if (cache_ != nullptr) cache_->apps.erase(app);
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
    static const std::string sql = std::string("SELECT ") + kSessionCols +
                                   " FROM sessions WHERE uuid = ? AND application_id = ? AND "
                                   "tenant_id = ?";
    Query q = db_.Prepare(sql);
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
    Profile p = ReadProfile(q);
    profile_read_ = ProfileRead{row_writes_, p};
    return p;
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

  // Reads the whole row: the member's presence and participant view usually come next.
  std::optional<Member> FindMember(RowId tenant, RowId session, RowId profile) override {
    static const std::string sql = std::string("SELECT ") + kMemberCols + ", " + kMemberIvsCols +
                                   ", " + kMemberPresenceCols +
                                   " FROM members WHERE session_id = ? AND profile_id = ? AND "
                                   "tenant_id = ?";
    Query q = db_.Prepare(sql);
    q.Bind(session).Bind(profile).Bind(tenant);
    if (!q.Step()) return std::nullopt;
    MemberRead r{row_writes_, ReadMember(q), rows::ReadMemberIvs(q, rows::kMemberColCount),
                 ReadMemberPresence(q, rows::kMemberColCount + rows::kMemberIvsColCount)};
    member_read_ = r;
    return std::move(r.member);
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

  void UpdateMemberAndPresence(const Member& m, const MemberPresence& p) override {
    Query q = db_.Prepare(
        "UPDATE members SET attributes = ?, open_visit_id = ?, last_visit_id = ?, "
        "presence_source = ?, heartbeats = ?, last_seen_at = ?, due_at = ?, "
        "resumable_until = ?, last_seq = ? WHERE id = ? AND tenant_id = ?");
    q.Bind(m.attributes_json).Bind(m.open_visit_id).Bind(m.last_visit_id);
    rows::BindPresence(q, p).Bind(m.id).Bind(m.tenant_id).Run();
  }

  // Also assigns the visit's seq (006_search.sql): the next number when it is the session's
  // latest enter, otherwise its rank, moving the visits entered after it up by one.
  void InsertVisit(Visit* v) override {
    std::optional<WriterCache::LastVisit> last = LastVisitOf(v->session_id);
    int64_t seq = last ? last->seq + 1 : 1;
    const bool in_order = !last || v->created_at >= last->created_at;
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
    if (cache_ != nullptr) {
      if (in_order) {
        cache_->Put(cache_->last_visits, v->session_id, WriterCache::LastVisit{seq, v->created_at});
      } else {
        cache_->last_visits.erase(v->session_id);
      }
    }
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

  std::optional<Visit> CloseVisitAt(RowId tenant, RowId id, Millis at) override {
    static const std::string sql =
        std::string("UPDATE visits SET deleted_at = max(created_at, ?) WHERE id = ? AND "
                    "tenant_id = ? RETURNING ") +
        kVisitCols;
    Query q = db_.Prepare(sql);
    q.Bind(at).Bind(id).Bind(tenant);
    if (!q.Step()) return std::nullopt;
    Visit v = ReadVisit(q);
    q.Run();
    return v;
  }

  // The session's open members are those of members_connected (007_ingest.sql), named so that
  // the planner does not prefer an index on tenant_id alone.
  int64_t CloseOpenVisits(RowId tenant, RowId session, Millis at,
                          const std::string& reason) override {
    db_.Prepare("INSERT INTO events (tenant_id, session_id, member_id, name, at, reason) "
                "SELECT tenant_id, session_id, id, 'LEFT', ?, ? FROM members "
                "INDEXED BY members_connected "
                "WHERE session_id = ? AND tenant_id = ? AND open_visit_id IS NOT NULL "
                "ORDER BY id")
        .Bind(at)
        .Bind(reason)
        .Bind(session)
        .Bind(tenant)
        .Run();
    db_.Prepare("UPDATE visits SET deleted_at = max(created_at, ?) WHERE id IN "
                "(SELECT open_visit_id FROM members INDEXED BY members_connected "
                "WHERE session_id = ? AND tenant_id = ? AND open_visit_id IS NOT NULL)")
        .Bind(at)
        .Bind(session)
        .Bind(tenant)
        .Run();
    const int64_t closed = db_.Changes();
    db_.Prepare("UPDATE members INDEXED BY members_connected SET open_visit_id = NULL "
                "WHERE session_id = ? AND tenant_id = ? AND open_visit_id IS NOT NULL")
        .Bind(session)
        .Bind(tenant)
        .Run();
    return closed;
  }

  std::vector<VisitRow> SearchVisits(RowId tenant, RowId session, const VisitQuery& vq) override {
    const Plan& plan = PlanSearch(tenant, session, vq);
    static const std::string select =
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
      // Read in ascending order either way: SQLite steps to the next row id without a search
      // from the root, not to the previous one (a descending page cost ~10% more).
      static const std::string by_seq =
          select + " WHERE v.session_id = ? AND v.tenant_id = ? AND v.seq BETWEEN ? AND ?"
                   " ORDER BY v.seq ASC";
      Query q = db_.Prepare(by_seq);
      q.Bind(session).Bind(tenant).Bind(first).Bind(last);
      std::vector<VisitRow> rows = ReadRows(q);
      if (!vq.ascending) std::reverse(rows.begin(), rows.end());
      return rows;
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

  // --- IVS face ---

  void InsertTenantKey(const TenantKey& k) override {
    db_.Prepare("INSERT INTO ivs_tenant_keys (tenant_id, key_id, secret, created_at) "
                "VALUES (?, ?, ?, ?)")
        .Bind(k.tenant_id)
        .Bind(k.key_id)
        .BindBlob(k.secret)
        .Bind(k.created_at)
        .Run();
  }

  std::optional<TenantKey> GetTenantKey(RowId tenant) override {
    Query q = db_.Prepare(
        "SELECT tenant_id, key_id, secret, created_at FROM ivs_tenant_keys WHERE tenant_id = ?");
    q.Bind(tenant);
    if (!q.Step()) return std::nullopt;
    return TenantKey{q.Int(0), q.Text(1), q.Text(2), q.Int(3)};
  }

  std::optional<TenantKey> FindTenantKey(const std::string& key_id) override {
    Query q = db_.Prepare(
        "SELECT tenant_id, key_id, secret, created_at FROM ivs_tenant_keys WHERE key_id = ?");
    q.Bind(key_id);
    if (!q.Step()) return std::nullopt;
    return TenantKey{q.Int(0), q.Text(1), q.Text(2), q.Int(3)};
  }

  std::vector<Application> ListStages(RowId tenant, RowId after_id, int64_t limit) override {
    Query q = db_.Prepare(std::string("SELECT ") + kAppCols +
                          " FROM applications WHERE tenant_id = ? AND id > ? AND status <> 'Y' "
                          "ORDER BY id LIMIT ?");
    q.Bind(tenant).Bind(after_id).Bind(limit);
    std::vector<Application> out;
    while (q.Step()) out.push_back(ReadApp(q));
    return out;
  }

  std::optional<AutoRecording> GetStageRecording(RowId tenant, RowId app) override {
    Query q = db_.Prepare(
        "SELECT storage_configuration_id, settings FROM ivs_stage_recording "
        "WHERE application_id = ? AND tenant_id = ?");
    q.Bind(app).Bind(tenant);
    if (!q.Step()) return std::nullopt;
    return AutoRecordingFromSettings(q.Int(0), q.Text(1));
  }

  void SetStageRecording(RowId tenant, RowId app, const std::optional<AutoRecording>& r) override {
    if (!r) {
      db_.Prepare("DELETE FROM ivs_stage_recording WHERE application_id = ? AND tenant_id = ?")
          .Bind(app)
          .Bind(tenant)
          .Run();
      return;
    }
    db_.Prepare("INSERT INTO ivs_stage_recording (application_id, tenant_id, "
                "storage_configuration_id, settings) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (application_id) DO UPDATE SET "
                "storage_configuration_id = excluded.storage_configuration_id, "
                "settings = excluded.settings")
        .Bind(app)
        .Bind(tenant)
        .Bind(r->storage_configuration_id)
        .Bind(AutoRecordingSettingsJson(*r))
        .Run();
  }

  int64_t CountStagesUsingStorage(RowId tenant, RowId storage) override {
    Query q = db_.Prepare(
        "SELECT count(*) FROM ivs_stage_recording r JOIN applications a "
        "ON a.id = r.application_id WHERE r.storage_configuration_id = ? AND r.tenant_id = ? "
        "AND a.status <> 'Y'");
    q.Bind(storage).Bind(tenant).Step();
    return q.Int(0);
  }

  Tags GetTags(RowId tenant, ResourceKind kind, RowId resource) override {
    Query q = db_.Prepare(
        "SELECT key, value FROM ivs_tags WHERE resource_type = ? AND resource_id = ? "
        "AND tenant_id = ? ORDER BY key");
    q.Bind(ResourceKindName(kind)).Bind(resource).Bind(tenant);
    Tags out;
    while (q.Step()) out.emplace_back(q.Text(0), q.Text(1));
    return out;
  }

  void PutTags(RowId tenant, ResourceKind kind, RowId resource, const Tags& tags) override {
    for (const auto& [k, v] : tags) {
      db_.Prepare("INSERT INTO ivs_tags (tenant_id, resource_type, resource_id, key, value) "
                  "VALUES (?, ?, ?, ?, ?) ON CONFLICT (resource_type, resource_id, key) "
                  "DO UPDATE SET value = excluded.value")
          .Bind(tenant)
          .Bind(ResourceKindName(kind))
          .Bind(resource)
          .Bind(k)
          .Bind(v)
          .Run();
    }
  }

  void DeleteTags(RowId tenant, ResourceKind kind, RowId resource,
                  const std::vector<std::string>& keys) override {
    for (const std::string& k : keys) {
      db_.Prepare("DELETE FROM ivs_tags WHERE resource_type = ? AND resource_id = ? AND key = ? "
                  "AND tenant_id = ?")
          .Bind(ResourceKindName(kind))
          .Bind(resource)
          .Bind(k)
          .Bind(tenant)
          .Run();
    }
  }

  void InsertStorageConfiguration(StorageConfiguration* c) override {
    db_.Prepare("INSERT INTO ivs_storage_configurations (tenant_id, config_id, name, "
                "bucket_name, created_at) VALUES (?, ?, ?, ?, ?)")
        .Bind(c->tenant_id)
        .Bind(c->config_id)
        .Bind(c->name)
        .Bind(c->bucket_name)
        .Bind(c->created_at)
        .Run();
    c->id = db_.LastInsertId();
  }

  std::optional<StorageConfiguration> GetStorageConfiguration(RowId tenant, RowId id) override {
    Query q = db_.Prepare(std::string("SELECT ") + kStorageCols +
                          " FROM ivs_storage_configurations WHERE id = ? AND tenant_id = ?");
    q.Bind(id).Bind(tenant);
    if (!q.Step()) return std::nullopt;
    return ReadStorage(q);
  }

  std::optional<StorageConfiguration> FindStorageConfiguration(
      RowId tenant, const std::string& config_id) override {
    Query q = db_.Prepare(std::string("SELECT ") + kStorageCols +
                          " FROM ivs_storage_configurations WHERE config_id = ? AND tenant_id = ?");
    q.Bind(config_id).Bind(tenant);
    if (!q.Step()) return std::nullopt;
    return ReadStorage(q);
  }

  std::vector<StorageConfiguration> ListStorageConfigurations(RowId tenant, RowId after_id,
                                                              int64_t limit) override {
    Query q = db_.Prepare(std::string("SELECT ") + kStorageCols +
                          " FROM ivs_storage_configurations WHERE tenant_id = ? AND id > ? "
                          "ORDER BY id LIMIT ?");
    q.Bind(tenant).Bind(after_id).Bind(limit);
    std::vector<StorageConfiguration> out;
    while (q.Step()) out.push_back(ReadStorage(q));
    return out;
  }

  void DeleteStorageConfiguration(RowId tenant, RowId id) override {
    db_.Prepare("DELETE FROM ivs_tags WHERE resource_type = ? AND resource_id = ? AND "
                "tenant_id = ?")
        .Bind(ResourceKindName(ResourceKind::kStorageConfiguration))
        .Bind(id)
        .Bind(tenant)
        .Run();
    db_.Prepare("DELETE FROM ivs_storage_configurations WHERE id = ? AND tenant_id = ?")
        .Bind(id)
        .Bind(tenant)
        .Run();
  }

  std::vector<Session> ListSessionsBefore(RowId tenant, RowId app, std::optional<RowId> before_id,
                                          int64_t limit) override {
    Query q = db_.Prepare(std::string("SELECT ") + kSessionCols +
                          " FROM sessions WHERE application_id = ? AND tenant_id = ? AND id < ? "
                          "ORDER BY id DESC LIMIT ?");
    q.Bind(app).Bind(tenant).Bind(before_id.value_or(INT64_MAX)).Bind(limit);
    std::vector<Session> out;
    while (q.Step()) out.push_back(ReadSession(q));
    return out;
  }

  std::optional<Participant> GetParticipant(RowId tenant, RowId member) override {
    if (const MemberRead* m = MemberReadOf(tenant, member)) {
      if (profile_read_ && profile_read_->writes == m->writes &&
          profile_read_->profile.id == m->member.profile_id) {
        return Participant{m->member, m->ivs, profile_read_->profile};
      }
    }
    Query q = db_.Prepare(ParticipantSelect() + " WHERE m.id = ? AND m.tenant_id = ?");
    q.Bind(member).Bind(tenant);
    if (!q.Step()) return std::nullopt;
    return ReadParticipant(q);
  }

  std::optional<Participant> FindParticipant(RowId tenant, RowId session,
                                             const std::string& participant_id) override {
    Query q = db_.Prepare(ParticipantSelect() +
                          " WHERE m.tenant_id = ? AND m.ivs_participant_id = ? AND "
                          "m.session_id = ? ORDER BY m.id LIMIT 1");
    q.Bind(tenant).Bind(participant_id).Bind(session);
    if (!q.Step()) return std::nullopt;
    return ReadParticipant(q);
  }

  std::optional<Participant> FindLatestParticipant(RowId tenant, RowId app,
                                                   const std::string& participant_id) override {
    Query q = db_.Prepare(ParticipantSelect() +
                          " JOIN sessions s ON s.id = m.session_id WHERE m.tenant_id = ? AND "
                          "m.ivs_participant_id = ? AND s.application_id = ? "
                          "ORDER BY m.id DESC LIMIT 1");
    q.Bind(tenant).Bind(participant_id).Bind(app);
    if (!q.Step()) return std::nullopt;
    return ReadParticipant(q);
  }

  std::vector<ParticipantSummary> ListParticipants(RowId tenant, RowId session,
                                                   const ParticipantFilter& f,
                                                   const std::optional<ParticipantKey>& after,
                                                   int64_t limit) override {
    std::string sql = "SELECT " + Cols(kParticipantSummaryCols, "m") +
                      " FROM members m WHERE m.session_id = ? AND m.tenant_id = ?";
    using Kind = ParticipantFilter::Kind;
    switch (f.kind) {
      case Kind::kNone:
        break;
      case Kind::kUserId:
        sql += " AND m.user_id = ?";
        break;
      case Kind::kPublished:
        sql += " AND m.published = ?";
        break;
      case Kind::kState:
        sql += f.connected ? " AND m.open_visit_id IS NOT NULL" : " AND m.open_visit_id IS NULL";
        break;
      case Kind::kRecordingState:
        sql += " AND m.recording_state = ?";
        break;
    }
    if (after) sql += " AND (m.first_join_at, m.ivs_participant_id, m.id) > (?, ?, ?)";
    sql += " ORDER BY m.first_join_at, m.ivs_participant_id, m.id LIMIT ?";
    Query q = db_.Prepare(sql);
    q.Bind(session).Bind(tenant);
    if (f.kind == Kind::kUserId) q.Bind(f.user_id);
    if (f.kind == Kind::kPublished) q.Bind(int64_t{f.published ? 1 : 0});
    if (f.kind == Kind::kRecordingState) q.Bind(RecordingStateName(f.recording_state));
    if (after) q.Bind(after->first_join_at).Bind(after->participant_id).Bind(after->member_id);
    q.Bind(limit);
    std::vector<ParticipantSummary> out;
    while (q.Step()) out.push_back(ReadParticipantSummary(q));
    return out;
  }

  std::vector<Participant> ListPublishing(RowId tenant, RowId session) override {
    Query q = db_.Prepare(ParticipantSelect() +
                          " WHERE m.session_id = ? AND m.tenant_id = ? AND m.publishing = 1 "
                          "ORDER BY m.id");
    q.Bind(session).Bind(tenant);
    std::vector<Participant> out;
    while (q.Step()) out.push_back(ReadParticipant(q));
    return out;
  }

  void UpdateMemberIvs(RowId tenant, RowId member, const MemberIvs& m) override {
    std::optional<std::string> replication_state;
    if (m.replication_state) replication_state = std::string(ReplicationStateName(*m.replication_state));
    db_.Prepare("UPDATE members SET user_id = ?, browser_name = ?, browser_version = ?, "
                "os_name = ?, os_version = ?, sdk_version = ?, isp_name = ?, protocol = ?, "
                "published = ?, publishing = ?, recording_state = ?, recording_bucket = ?, "
                "recording_prefix = ?, replication_type = ?, replication_state = ?, "
                "source_stage_id = ?, source_session_id = ? WHERE id = ? AND tenant_id = ?")
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
        .Bind(member)
        .Bind(tenant)
        .Run();
  }

  void InsertEventWithDetail(Event* e, const EventDetail& d) override {
    db_.Prepare("INSERT INTO events (tenant_id, session_id, member_id, name, at, "
                "remote_participant_id, reason, destination_stage_id, destination_session_id, "
                "replica, error_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
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
    e->id = db_.LastInsertId();
  }

  std::vector<ParticipantEvent> ListEvents(RowId tenant, RowId member, RowId after_id,
                                           int64_t limit) override {
    Query q = db_.Prepare(std::string("SELECT ") + kEventCols +
                          " FROM events WHERE member_id = ? AND id > ? AND tenant_id = ? "
                          "ORDER BY id LIMIT ?");
    q.Bind(member).Bind(after_id).Bind(tenant).Bind(limit);
    std::vector<ParticipantEvent> out;
    while (q.Step()) out.push_back(ReadEvent(q));
    return out;
  }

  void RevokeParticipant(RowId tenant, RowId app, const std::string& participant_id,
                         Millis at) override {
    db_.Prepare("INSERT INTO ivs_revocations (tenant_id, application_id, participant_id, "
                "revoked_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")
        .Bind(tenant)
        .Bind(app)
        .Bind(participant_id)
        .Bind(at)
        .Run();
  }

  bool IsParticipantRevoked(RowId tenant, RowId app, const std::string& participant_id) override {
    Query q = db_.Prepare(
        "SELECT 1 FROM ivs_revocations WHERE application_id = ? AND participant_id = ? AND "
        "tenant_id = ?");
    q.Bind(app).Bind(participant_id).Bind(tenant);
    return q.Step();
  }

  void InsertReplica(ReplicaLink* r) override {
    if (cache_ != nullptr) cache_->any_active_replica.reset();
    db_.Prepare("INSERT INTO ivs_replicas (tenant_id, participant_id, source_application_id, "
                "source_session_id, source_member_id, destination_application_id, "
                "destination_session_id, destination_member_id, state, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
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
    r->id = db_.LastInsertId();
  }

  void UpdateReplica(const ReplicaLink& r) override {
    if (cache_ != nullptr) cache_->any_active_replica.reset();
    db_.Prepare("UPDATE ivs_replicas SET state = ?, updated_at = ? WHERE id = ? AND tenant_id = ?")
        .Bind(ReplicationStateName(r.state))
        .Bind(r.updated_at)
        .Bind(r.id)
        .Bind(r.tenant_id)
        .Run();
  }

  std::optional<ReplicaLink> FindActiveReplica(RowId tenant, RowId source_app,
                                               RowId destination_app,
                                               const std::string& participant_id) override {
    Query q = db_.Prepare(std::string("SELECT ") + kReplicaCols +
                          " FROM ivs_replicas WHERE source_application_id = ? AND "
                          "destination_application_id = ? AND participant_id = ? AND "
                          "state = 'ACTIVE' AND tenant_id = ? ORDER BY id LIMIT 1");
    q.Bind(source_app).Bind(destination_app).Bind(participant_id).Bind(tenant);
    if (!q.Step()) return std::nullopt;
    return ReadReplica(q);
  }

  std::vector<ReplicaView> ListReplicas(RowId tenant, RowId source_app,
                                        const std::string& participant_id, RowId after_id,
                                        int64_t limit) override {
    Query q = db_.Prepare(
        "SELECT " + Cols(kReplicaCols, "r") +
        ", sa.stage_id, ss.stage_session_id, da.stage_id, ds.stage_session_id "
        "FROM ivs_replicas r "
        "JOIN applications sa ON sa.id = r.source_application_id "
        "JOIN sessions ss ON ss.id = r.source_session_id "
        "JOIN applications da ON da.id = r.destination_application_id "
        "JOIN sessions ds ON ds.id = r.destination_session_id "
        "WHERE r.source_application_id = ? AND r.participant_id = ? AND r.id > ? AND "
        "r.tenant_id = ? ORDER BY r.id LIMIT ?");
    q.Bind(source_app).Bind(participant_id).Bind(after_id).Bind(tenant).Bind(limit);
    std::vector<ReplicaView> out;
    while (q.Step()) {
      out.push_back(ReadReplicaView(q));
    }
    return out;
  }

  // Every leave asks; most stores have no active replication at all.
  std::vector<ReplicaLink> ListActiveReplicasOfSession(RowId tenant, RowId session) override {
    if (cache_ != nullptr) {
      if (!cache_->any_active_replica) {
        Query any = db_.Prepare("SELECT 1 FROM ivs_replicas WHERE state = 'ACTIVE' LIMIT 1");
        cache_->any_active_replica = any.Step();
      }
      if (!*cache_->any_active_replica) return {};
    }
    Query q = db_.Prepare(std::string("SELECT ") + kReplicaCols +
                          " FROM ivs_replicas WHERE source_session_id = ? AND state = 'ACTIVE' "
                          "AND tenant_id = ? UNION SELECT " + kReplicaCols +
                          " FROM ivs_replicas WHERE destination_session_id = ? AND "
                          "state = 'ACTIVE' AND tenant_id = ? ORDER BY id");
    q.Bind(session).Bind(tenant).Bind(session).Bind(tenant);
    std::vector<ReplicaLink> out;
    while (q.Step()) out.push_back(ReadReplica(q));
    return out;
  }

  // --- presence ---

  std::optional<PresenceSettings> GetPresenceSettings(RowId tenant, RowId app) override {
    if (cache_ != nullptr) {
      auto it = cache_->settings.find(app);
      if (it != cache_->settings.end() && it->second.tenant_id == tenant) {
        return it->second.settings;
      }
    }
    Query q = db_.Prepare(
        "SELECT timeout_seconds, reconnect_window_seconds, idle_session_seconds, "
        "manage_server_side FROM presence_settings WHERE application_id = ? AND tenant_id = ?");
    q.Bind(app).Bind(tenant);
    std::optional<PresenceSettings> out;
    if (q.Step()) out = PresenceSettings{q.Int(0), q.Int(1), q.Int(2), q.Int(3) != 0};
    if (cache_ != nullptr) cache_->Put(cache_->settings, app, WriterCache::Settings{tenant, out});
    return out;
  }

  void PutPresenceSettings(RowId tenant, RowId app, const PresenceSettings& s) override {
    if (cache_ != nullptr) cache_->settings.erase(app);
    db_.Prepare("INSERT INTO presence_settings (application_id, tenant_id, timeout_seconds, "
                "reconnect_window_seconds, idle_session_seconds, manage_server_side) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (application_id) DO UPDATE SET "
                "timeout_seconds = excluded.timeout_seconds, "
                "reconnect_window_seconds = excluded.reconnect_window_seconds, "
                "idle_session_seconds = excluded.idle_session_seconds, "
                "manage_server_side = excluded.manage_server_side")
        .Bind(app)
        .Bind(tenant)
        .Bind(s.timeout_seconds)
        .Bind(s.reconnect_window_seconds)
        .Bind(s.idle_session_seconds)
        .Bind(int64_t{s.manage_server_side ? 1 : 0})
        .Run();
  }

  MemberPresence GetMemberPresence(RowId tenant, RowId member) override {
    if (const MemberRead* m = MemberReadOf(tenant, member)) return m->presence;
    static const std::string sql = std::string("SELECT ") + kMemberPresenceCols +
                                   " FROM members WHERE id = ? AND tenant_id = ?";
    Query q = db_.Prepare(sql);
    q.Bind(member).Bind(tenant);
    if (!q.Step()) return MemberPresence{};
    return ReadMemberPresence(q, 0);
  }

  void UpdateMemberPresence(RowId tenant, RowId member, const MemberPresence& p) override {
    Query q = db_.Prepare(
        "UPDATE members SET presence_source = ?, heartbeats = ?, last_seen_at = ?, "
        "due_at = ?, resumable_until = ?, last_seq = ? WHERE id = ? AND tenant_id = ?");
    rows::BindPresence(q, p).Bind(member).Bind(tenant).Run();
  }

  SessionPresence GetSessionPresence(RowId tenant, RowId session) override {
    Query q = db_.Prepare(
        "SELECT implicit, idle_due_at FROM sessions WHERE id = ? AND tenant_id = ?");
    q.Bind(session).Bind(tenant);
    SessionPresence p;
    if (!q.Step()) return p;
    p.implicit = q.Int(0) != 0;
    p.idle_due_at = q.OptInt(1);
    return p;
  }

  void UpdateSessionPresence(RowId tenant, RowId session, const SessionPresence& p) override {
    db_.Prepare("UPDATE sessions SET implicit = ?, idle_due_at = ? WHERE id = ? AND tenant_id = ?")
        .Bind(int64_t{p.implicit ? 1 : 0})
        .Bind(p.idle_due_at)
        .Bind(session)
        .Bind(tenant)
        .Run();
  }

  std::optional<Millis> LastEventTime(RowId tenant, RowId member) override {
    Query q = db_.Prepare(
        "SELECT at FROM events WHERE member_id = ? AND tenant_id = ? ORDER BY id DESC LIMIT 1");
    q.Bind(member).Bind(tenant);
    if (!q.Step()) return std::nullopt;
    return q.Int(0);
  }

  std::vector<RowId> ListOpenMembers(RowId tenant, RowId session) override {
    Query q = db_.Prepare(
        "SELECT id FROM members INDEXED BY members_connected WHERE session_id = ? AND "
        "tenant_id = ? AND open_visit_id IS NOT NULL ORDER BY id");
    q.Bind(session).Bind(tenant);
    std::vector<RowId> out;
    while (q.Step()) out.push_back(q.Int(0));
    return out;
  }

  // members_by_join is named: without table statistics the planner takes members_by_ivs_id
  // (tenant_id first) and reads every member of the tenant, not of the session.
  void ClearSessionPresence(RowId tenant, RowId session) override {
    db_.Prepare("UPDATE members INDEXED BY members_by_join SET due_at = NULL, "
                "resumable_until = NULL WHERE session_id = ? AND tenant_id = ? AND "
                "(due_at IS NOT NULL OR resumable_until IS NOT NULL)")
        .Bind(session)
        .Bind(tenant)
        .Run();
    db_.Prepare("UPDATE sessions SET idle_due_at = NULL WHERE id = ? AND tenant_id = ?")
        .Bind(session)
        .Bind(tenant)
        .Run();
  }

  std::vector<DueMember> ListDueMembers(Millis now, int64_t limit) override {
    Query q = db_.Prepare(
        "SELECT tenant_id, id FROM members WHERE due_at IS NOT NULL AND due_at <= ? "
        "ORDER BY due_at LIMIT ?");
    q.Bind(now).Bind(limit);
    std::vector<DueMember> out;
    while (q.Step()) out.push_back(DueMember{q.Int(0), q.Int(1)});
    return out;
  }

  std::vector<DueSession> ListIdleSessions(Millis now, int64_t limit) override {
    Query q = db_.Prepare(
        "SELECT tenant_id, id, application_id FROM sessions WHERE idle_due_at IS NOT NULL AND "
        "idle_due_at <= ? ORDER BY idle_due_at LIMIT ?");
    q.Bind(now).Bind(limit);
    std::vector<DueSession> out;
    while (q.Step()) out.push_back(DueSession{q.Int(0), q.Int(1), q.Int(2)});
    return out;
  }

  void PutStreamKey(const StreamKey& k) override {
    db_.Prepare("INSERT INTO presence_stream_keys (key_hash, tenant_id, application_id, "
                "participant_id, claims, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (key_hash) DO UPDATE SET claims = excluded.claims, "
                "expires_at = excluded.expires_at")
        .BindBlob(k.key_hash)
        .Bind(k.tenant_id)
        .Bind(k.application_id)
        .Bind(k.participant_id)
        .Bind(k.claims_json)
        .Bind(k.expires_at)
        .Bind(k.created_at)
        .Run();
  }

  std::optional<StreamKey> FindStreamKey(const std::string& key_hash) override {
    Query q = db_.Prepare(
        "SELECT key_hash, tenant_id, application_id, participant_id, claims, expires_at, "
        "created_at FROM presence_stream_keys WHERE key_hash = ?");
    q.BindBlob(key_hash);
    if (!q.Step()) return std::nullopt;
    return StreamKey{q.Text(0), q.Int(1), q.Int(2), q.Text(3), q.Text(4), q.Int(5), q.Int(6)};
  }

  std::optional<MediaConnection> FindMediaConnection(RowId tenant, RowId app,
                                                     const std::string& participant_id,
                                                     const std::string& connection_id) override {
    Query q = db_.Prepare(
        "SELECT tenant_id, application_id, participant_id, connection_id, member_id, role, "
        "stream, opened_at, closed_at FROM presence_media_connections WHERE application_id = ? "
        "AND participant_id = ? AND connection_id = ? AND tenant_id = ?");
    q.Bind(app).Bind(participant_id).Bind(connection_id).Bind(tenant);
    if (!q.Step()) return std::nullopt;
    return MediaConnection{q.Int(0), q.Int(1),  q.Text(2), q.Text(3),  q.Int(4),
                           q.Text(5), q.Text(6), q.Int(7),  q.OptInt(8)};
  }

  void PutMediaConnection(const MediaConnection& c) override {
    db_.Prepare("INSERT INTO presence_media_connections (application_id, participant_id, "
                "connection_id, tenant_id, member_id, role, stream, opened_at, closed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (application_id, participant_id, "
                "connection_id) DO UPDATE SET member_id = excluded.member_id, "
                "role = excluded.role, stream = excluded.stream, opened_at = excluded.opened_at, "
                "closed_at = excluded.closed_at")
        .Bind(c.application_id)
        .Bind(c.participant_id)
        .Bind(c.connection_id)
        .Bind(c.tenant_id)
        .Bind(c.member_id)
        .Bind(c.role)
        .Bind(c.stream)
        .Bind(c.opened_at)
        .Bind(c.closed_at)
        .Run();
  }

  int64_t CountOpenMediaConnections(RowId tenant, RowId member, const std::string& role) override {
    Query q = db_.Prepare(
        "SELECT count(*) FROM presence_media_connections WHERE member_id = ? AND "
        "closed_at IS NULL AND (? = '' OR role = ?) AND tenant_id = ?");
    q.Bind(member).Bind(role).Bind(role).Bind(tenant).Step();
    return q.Int(0);
  }

 private:
  // What this Tx last read of a member row (FindMember) and of a profile (FindProfile), with
  // row_writes_ then: while no member or profile row has been written since, later reads of
  // the same rows (GetMemberPresence, GetParticipant) are answered from it.
  struct MemberRead {
    uint64_t writes = 0;
    Member member;
    MemberIvs ivs;
    MemberPresence presence;
  };
  struct ProfileRead {
    uint64_t writes = 0;
    Profile profile;
  };

  // sqlite3_update_hook: counts the rows of members and profiles changed (by any statement or
  // trigger) while this Tx runs.
  static void OnRowChanged(void* self, int, const char*, const char* table, sqlite3_int64) {
    if (std::strcmp(table, "members") == 0 || std::strcmp(table, "profiles") == 0) {
      ++static_cast<SqliteTx*>(self)->row_writes_;
    }
  }

  // The seq and created_at of the session's visit with the highest seq; nullopt when the
  // session has none.
  std::optional<WriterCache::LastVisit> LastVisitOf(RowId session) {
    if (cache_ != nullptr) {
      auto it = cache_->last_visits.find(session);
      if (it != cache_->last_visits.end()) return it->second;
    }
    Query q = db_.Prepare(
        "SELECT seq, created_at FROM visits WHERE session_id = ? ORDER BY seq DESC LIMIT 1");
    if (!q.Bind(session).Step()) return std::nullopt;
    return WriterCache::LastVisit{q.Int(0), q.Int(1)};
  }

  // The last member read when it is `member` of `tenant` and still current; else nullptr.
  const MemberRead* MemberReadOf(RowId tenant, RowId member) const {
    if (!member_read_ || member_read_->writes != row_writes_) return nullptr;
    const Member& m = member_read_->member;
    return m.id == member && m.tenant_id == tenant ? &*member_read_ : nullptr;
  }

  // How a search of one session's visits runs (see 006_search.sql):
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
    out.reserve(32);
    while (q.Step()) out.push_back(VisitRow{ReadVisit(q), ReadProfile(q, rows::kVisitColCount)});
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
    // with the filter (006_search.sql).
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
  WriterCache* const cache_;
  uint64_t row_writes_ = 0;
  std::optional<MemberRead> member_read_;
  std::optional<ProfileRead> profile_read_;
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
      SqliteTx tx(db.get(), nullptr);
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

  Status Backup(const std::string& target) override {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::equivalent(fs::path(target), fs::path(path_), ec)) {
      return Status::Invalid("backup: the target is the live database itself");
    }
    const std::string tmp = target + ".partial-" + HexEncode(RandomBytes(4));
    auto remove_tmp = [&tmp] {
      for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
        std::remove((tmp + suffix).c_str());
      }
    };
    try {
      // Its own connection: one read transaction, a snapshot, while the writer goes on.
      Db source(path_);
      source.Exec("PRAGMA query_only = 1");
      Db copy(tmp);
      sqlite3_backup* b = sqlite3_backup_init(copy.raw(), "main", source.raw(), "main");
      if (b == nullptr) sqlite::Fail(copy.raw(), sqlite3_errcode(copy.raw()), "backup");
      const int rc = sqlite3_backup_step(b, -1);
      sqlite3_backup_finish(b);
      if (rc != SQLITE_DONE) sqlite::Fail(copy.raw(), rc, "backup");
      // A single self-contained file (the server turns WAL back on when it opens it).
      copy.Exec("PRAGMA journal_mode = DELETE");
      Query check = copy.Prepare("PRAGMA quick_check");
      if (!check.Step() || check.Text(0) != "ok") {
        throw StoreFailure(Code::kInternal, "backup: the copy failed its check");
      }
    } catch (const StoreFailure& f) {
      remove_tmp();
      return Status(f.code() == Code::kInternal ? Code::kInternal : Code::kUnavailable,
                    std::string("backup to ") + target + ": " + f.what());
    }
    // The copy's own commit synced it; the rename is made durable by syncing the directory.
    if (std::rename(tmp.c_str(), target.c_str()) != 0) {
      remove_tmp();
      return Status::Unavailable("backup: cannot rename the copy to " + target);
    }
    fs::path dir = fs::path(target).parent_path();
    const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
    return Status::Ok();
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
      // Holding the write lock: no other connection commits until this transaction ends.
      Query q = db.Prepare("PRAGMA data_version");
      q.Step();
      if (cache_.data_version != q.Int(0)) {
        cache_.Clear();
        cache_.data_version = q.Int(0);
      }
    } catch (const StoreFailure& f) {
      sqlite3_exec(db.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
      results->assign(batch.size(), ToStatus(f));
      return true;
    }
    try {
      for (Item& item : batch) {
        if (savepoints) db.Prepare("SAVEPOINT w").Run();
        const int64_t changes = sqlite3_total_changes64(db.raw());
        bool threw = false;
        Status s;
        try {
          SqliteTx tx(&db, &cache_);
          s = item.fn(tx);
        } catch (const StoreFailure& f) {
          s = ToStatus(f);
          threw = true;
        }
        if (savepoints) {
          if (!s.ok()) {
            cache_.Clear();
            db.Prepare("ROLLBACK TO w").Run();
          }
          db.Prepare("RELEASE w").Run();
        } else if (!s.ok() && (threw || sqlite3_total_changes64(db.raw()) != changes)) {
          cache_.Clear();
          sqlite3_exec(db.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
          return false;
        }
        results->push_back(std::move(s));
      }
      db.Prepare("COMMIT").Run();
    } catch (const StoreFailure& f) {
      cache_.Clear();
      sqlite3_exec(db.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
      results->assign(batch.size(), Status::Unavailable(std::string("commit failed: ") + f.what()));
    }
    return true;
  }

  const std::string path_;
  const StoreOptions options_;
  std::unique_ptr<Db> writer_db_;
  WriterCache cache_;  // the writer thread's
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

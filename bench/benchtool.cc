// rollcall-bench: the data generator and the storage ceilings behind `make bench` (bench/run).
// A developer tool, not shipped to users. Every command prints one JSON object on stdout.
//
//   rollcall-bench generate --database URL --visits N --participants P --inside W
//     On an empty store, creates the tenant "default" with one LIVE application (exactly as
//     `rollcall serve` bootstraps it) and one session holding N visits of P participants,
//     written through the real Service and Store (so every row, count and event is the one
//     the server writes). Visit i is an enter of participant i % P; from i = W on, each enter
//     is followed by the leave of the visit opened W enters earlier, so W stay inside at the
//     end. A clock that ticks 5 ms per read dates the writes. Prints the credentials and ids.
//
//   rollcall-bench sqlite-ceiling --path FILE --sessions S --participants P --lag L --seconds T
//                                 [--batch B]
//     The storage ceiling of the ingest workload: in a new tenant of the store at FILE, creates
//     S applications with one session each (through the Service), then for T seconds writes
//     the rows of a 1:1 enter/leave stream over P participants straight into SQLite, in
//     transactions of B operations (default 1000), with the store's pragmas and schema and no
//     reads.
//
//   rollcall-bench service-ingest --path FILE (same options) --in-flight N
//     The same stream through the real Service and Store, without HTTP, N writes in flight.
//
//   rollcall-bench pg-ceiling --url URL ... (same options): the same over PostgreSQL, when this
//     build has libpq and the store at URL can be opened. Otherwise prints {"na": "<why>"}.
#include <sqlite3.h>
#include <sys/resource.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/ids.h"
#include "core/service.h"
#include "store/store.h"

#ifdef ROLLCALL_BENCH_PG
#include <libpq-fe.h>
#endif

namespace rollcall::bench {
namespace {

namespace json = boost::json;
using Args = std::map<std::string, std::string>;

constexpr Millis kStart = 1795304540000;  // 2026-11-21T23:42:20Z
constexpr int kBatch = 1000;

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "rollcall-bench: " << what << "\n";
  std::exit(1);
}

// A clock that advances a fixed step on every read, so generated times are distinct,
// increasing and reproducible.
class TickingClock final : public Clock {
 public:
  TickingClock(Millis start, Millis step) : start_(start), step_(step) {}
  Millis Now() override { return start_ + step_ * ticks_.fetch_add(1); }

 private:
  const Millis start_;
  const Millis step_;
  std::atomic<int64_t> ticks_{0};
};

Args ParseArgs(int argc, char** argv, int first) {
  Args a;
  for (int i = first; i < argc; i += 2) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0 || i + 1 >= argc) Die("bad argument " + k);
    a[k.substr(2)] = argv[i + 1];
  }
  return a;
}

std::string Need(const Args& a, const std::string& k) {
  auto it = a.find(k);
  if (it == a.end()) Die("--" + k + " is required");
  return it->second;
}

int64_t NeedInt(const Args& a, const std::string& k) { return std::stoll(Need(a, k)); }

int64_t IntOr(const Args& a, const std::string& k, int64_t fallback) {
  return a.count(k) > 0 ? NeedInt(a, k) : fallback;
}

// Participant k of the generated session: a stable id, a nickname from a small vocabulary
// (so a nickname search matches a known share) and an image URL.
std::string ParticipantId(int64_t k) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "user-%07lld", static_cast<long long>(k));
  return buf;
}

constexpr const char* kAdjectives[] = {
    "Brave",  "Calm",  "Eager", "Fancy", "Gentle", "Happy", "Jolly", "Kind",
    "Lively", "Merry", "Nice",  "Proud", "Quick",  "Silly", "Witty", "Zesty"};
constexpr const char* kNouns[] = {"Tiger", "Panda",  "Otter", "Eagle", "Whale", "Koala",
                                  "Raven", "Bison",  "Lemur", "Moose", "Hyena", "Camel",
                                  "Gecko", "Falcon", "Heron", "Llama", "Puffin", "Walrus",
                                  "Badger", "Marten"};

std::string Nickname(int64_t k) {
  const uint64_t h = static_cast<uint64_t>(k) * 2654435761u;
  return std::string(kAdjectives[h % 16]) + kNouns[(h >> 8) % 20] + std::to_string(k % 1000);
}

// Counts asynchronous writes in flight and waits for room or for all of them.
class Window {
 public:
  explicit Window(int64_t max) : max_(max) {}

  void Acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return in_flight_ < max_; });
    ++in_flight_;
  }

  void Release(const Status& s) {
    std::lock_guard<std::mutex> lock(mu_);
    --in_flight_;
    if (!s.ok() && first_error_.empty()) first_error_ = s.message();
    cv_.notify_all();
  }

  // Waits for every write; returns the first failure's message, empty if none.
  std::string Drain() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return in_flight_ == 0; });
    return first_error_;
  }

 private:
  const int64_t max_;
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t in_flight_ = 0;
  std::string first_error_;
};

template <typename T>
T Await(std::function<void(Callback<T>)> start) {
  std::promise<StatusOr<T>> p;
  auto f = p.get_future();
  start([&p](StatusOr<T> r) { p.set_value(std::move(r)); });
  StatusOr<T> r = f.get();
  if (!r.ok()) Die(r.status().message());
  return std::move(r.value());
}

std::unique_ptr<Store> OpenOrDie(const std::string& url) {
  StatusOr<std::unique_ptr<Store>> store = OpenStore(url, StoreOptions{});
  if (!store.ok()) Die("cannot open " + url + ": " + store.status().message());
  return std::move(store.value());
}

int Generate(const Args& a) {
  const std::string url = Need(a, "database");
  const int64_t visits = NeedInt(a, "visits");
  const int64_t participants = NeedInt(a, "participants");
  const int64_t inside = NeedInt(a, "inside");
  if (participants <= inside || visits < participants) {
    Die("need visits >= participants > inside");
  }
  std::unique_ptr<Store> store = OpenOrDie(url);
  TickingClock clock(kStart, 5);
  Service service(store.get(), &clock, "us-east-1");
  StatusOr<std::optional<std::pair<TenantCredentials, NewApplication>>> boot =
      service.Bootstrap("default", AppType::kLive);
  if (!boot.ok()) Die(boot.status().message());
  if (!boot.value()) Die("the store is not empty: " + url);
  const auto& [creds, app] = *boot.value();
  const Session session = Await<Session>(
      [&](Callback<Session> cb) { service.StartSession(app.app, std::move(cb)); });

  const auto t0 = std::chrono::steady_clock::now();
  Window window(20000);
  auto done = [&window](const StatusOr<VisitView>& r) { window.Release(r.status()); };
  for (int64_t i = 0; i < visits; ++i) {
    const int64_t k = i % participants;
    EnterRequest enter;
    enter.participant_id = ParticipantId(k);
    enter.nickname = Nickname(k);
    enter.profile_image_url = "https://img.example.com/avatars/" + std::to_string(k) + ".png";
    window.Acquire();
    service.Enter(app.app, session.uuid, std::move(enter), done);
    if (i >= inside) {
      window.Acquire();
      service.Leave(app.app, session.uuid, ParticipantId((i - inside) % participants), done);
    }
  }
  const std::string error = window.Drain();
  if (!error.empty()) Die("a generated write failed: " + error);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  StatusOr<Session> final_session = service.GetSession(app.app, session.uuid);
  if (!final_session.ok()) Die(final_session.status().message());
  // The first enter read the clock right after StartSession; every operation reads it once.
  const Millis first_enter = session.created_at + 5;
  const Millis last_tick = clock.Now() - 5;
  store->Close();

  json::object out{
      {"adminToken", creds.admin_token},
      {"accountId", creds.tenant.account_id},
      {"accessKeyId", creds.access_key.access_key_id},
      {"secretAccessKey", creds.access_key.secret_access_key},
      {"applicationId", app.app.uuid},
      {"apiKey", app.api_key},
      {"stageArn", StageArn(service.region(), creds.tenant.account_id, app.app.stage_id)},
      {"sessionId", session.uuid},
      {"stageSessionId", session.stage_session_id},
      {"visits", final_session->visit_count},
      {"inside", final_session->participant_count},
      {"participants", participants},
      {"firstEnterAt", FormatTimestamp(first_enter)},
      {"lastWriteAt", FormatTimestamp(last_tick)},
      {"seconds", seconds}};
  std::cout << json::serialize(out) << std::endl;
  return 0;
}

// --- storage ceilings ---

// The ingest stream both ceilings write, mirroring bench/wrk/ingest.lua: participant k belongs
// to session k % sessions; the first `lag` operations are enters, then leaves of the visit
// opened `lag` enters earlier alternate with new enters.
struct Ceiling {
  struct Participant {
    RowId profile = 0;
    RowId member = 0;
    RowId open_visit = 0;
  };
  struct SessionRow {
    RowId id = 0;
    int64_t inside = 0;
    int64_t visits = 0;
    int64_t last_seq = 0;
  };

  RowId tenant = 0;
  std::vector<SessionRow> sessions;
  std::vector<Application> apps;          // of each session, for the Service
  std::vector<std::string> session_uuids;
  std::vector<Participant> participants;
  int64_t lag = 0;
  int64_t next = 0;  // operations issued

  // The next operation: true for an enter, with the participant index.
  std::pair<bool, int64_t> Next() {
    const int64_t r = next++;
    const int64_t n = static_cast<int64_t>(participants.size());
    if (r < lag) return {true, r % n};
    const int64_t u = r - lag;
    if (u % 2 == 0) return {false, (u / 2) % n};
    return {true, (lag + u / 2) % n};
  }
};

// Creates the ceiling's tenant, applications and sessions through the Service.
Ceiling SetUpCeiling(const std::string& url, const Args& a) {
  const int64_t n_sessions = NeedInt(a, "sessions");
  std::unique_ptr<Store> store = OpenOrDie(url);
  SystemClock clock;
  Service service(store.get(), &clock, "us-east-1");
  StatusOr<TenantCredentials> t = service.CreateTenant("ceiling-" + RandomAlnum(8));
  if (!t.ok()) Die(t.status().message());
  Ceiling c;
  c.tenant = t->tenant.id;
  for (int64_t i = 0; i < n_sessions; ++i) {
    NewApplication app = Await<NewApplication>([&](Callback<NewApplication> cb) {
      service.CreateApplication(t->tenant, AppType::kLive, "ceiling", std::move(cb));
    });
    Session s = Await<Session>(
        [&](Callback<Session> cb) { service.StartSession(app.app, std::move(cb)); });
    c.sessions.push_back(Ceiling::SessionRow{s.id, 0, 0, 0});
    c.apps.push_back(app.app);
    c.session_uuids.push_back(s.uuid);
  }
  store->Close();
  c.participants.resize(NeedInt(a, "participants"));
  c.lag = NeedInt(a, "lag");
  return c;
}

// CPU seconds (user + system) this process has used.
double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

json::object CeilingResult(int64_t ops, double seconds, double cpu_seconds,
                           std::vector<double> batch_ms) {
  std::sort(batch_ms.begin(), batch_ms.end());
  auto pct = [&](double p) {
    return batch_ms.empty() ? 0.0 : batch_ms[static_cast<size_t>(p * (batch_ms.size() - 1))];
  };
  return json::object{{"ops", ops},
                      {"seconds", seconds},
                      {"opsPerSecond", ops / seconds},
                      {"cpuSeconds", cpu_seconds},
                      {"batchMsP50", pct(0.5)},
                      {"batchMsP99", pct(0.99)}};
}

class Sqlite {
 public:
  explicit Sqlite(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) Die("open " + path);
    Exec("PRAGMA journal_mode = WAL");
    Exec("PRAGMA synchronous = FULL");
    Exec("PRAGMA cache_size = -16384");
  }
  ~Sqlite() {
    for (auto& [sql, st] : cache_) sqlite3_finalize(st);
    sqlite3_close(db_);
  }

  void Exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
      Die(std::string(sql) + ": " + sqlite3_errmsg(db_));
    }
  }

  // Runs sql with the integer/text arguments; returns the last insert rowid.
  template <typename... T>
  RowId Run(const char* sql, const T&... args) {
    sqlite3_stmt*& st = cache_[sql];
    if (st == nullptr && sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
                                            nullptr) != SQLITE_OK) {
      Die(std::string(sql) + ": " + sqlite3_errmsg(db_));
    }
    int i = 1;
    (Bind(st, i++, args), ...);
    if (sqlite3_step(st) != SQLITE_DONE) Die(std::string(sql) + ": " + sqlite3_errmsg(db_));
    sqlite3_reset(st);
    return sqlite3_last_insert_rowid(db_);
  }

 private:
  static void Bind(sqlite3_stmt* st, int i, int64_t v) { sqlite3_bind_int64(st, i, v); }
  static void Bind(sqlite3_stmt* st, int i, const std::string& v) {
    sqlite3_bind_text(st, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }

  sqlite3* db_ = nullptr;
  std::map<const char*, sqlite3_stmt*> cache_;
};

int SqliteCeiling(const Args& a) {
  const std::string path = Need(a, "path");
  Ceiling c = SetUpCeiling("sqlite:" + path, a);
  const double limit = static_cast<double>(NeedInt(a, "seconds"));
  Sqlite db(path);
  const int64_t batch = IntOr(a, "batch", kBatch);
  std::vector<double> batch_ms;
  const double cpu0 = CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  double elapsed = 0;
  while (elapsed < limit) {
    const auto b0 = std::chrono::steady_clock::now();
    db.Exec("BEGIN IMMEDIATE");
    for (int64_t i = 0; i < batch; ++i) {
      const auto [enter, k] = c.Next();
      Ceiling::Participant& p = c.participants[k];
      Ceiling::SessionRow& s = c.sessions[k % c.sessions.size()];
      const Millis now = SystemClock().Now();
      if (enter) {
        if (p.profile == 0) {
          const std::string id = "ceil-" + std::to_string(k);
          const std::string nick = Nickname(k);
          std::string folded = nick;
          for (char& ch : folded) ch = static_cast<char>(std::tolower(ch));
          p.profile = db.Run(
              "INSERT INTO profiles (tenant_id, participant_id, nickname, nickname_folded, "
              "profile_image_url, created_at) VALUES (?, ?, ?, ?, ?, ?)",
              c.tenant, id, nick, folded, std::string("https://img.example.com/c.png"), now);
          p.member = db.Run(
              "INSERT INTO members (tenant_id, session_id, profile_id, ivs_participant_id, "
              "attributes, first_join_at) VALUES (?, ?, ?, ?, '{}', ?)",
              c.tenant, s.id, p.profile, id, now);
        }
        p.open_visit = db.Run(
            "INSERT INTO visits (tenant_id, session_id, member_id, profile_id, uuid, "
            "created_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
            c.tenant, s.id, p.member, p.profile, NewUuid(), now, ++s.last_seq);
        db.Run("UPDATE members SET open_visit_id = ?, last_visit_id = ? WHERE id = ?",
               p.open_visit, p.open_visit, p.member);
        db.Run("UPDATE sessions SET participant_count = ?, visit_count = ? WHERE id = ?",
               ++s.inside, ++s.visits, s.id);
        db.Run("INSERT INTO events (tenant_id, session_id, member_id, name, at) "
               "VALUES (?, ?, ?, 'JOINED', ?)",
               c.tenant, s.id, p.member, now);
      } else {
        db.Run("UPDATE visits SET deleted_at = ? WHERE id = ?", now, p.open_visit);
        db.Run("UPDATE members SET open_visit_id = NULL WHERE id = ?", p.member);
        db.Run("UPDATE sessions SET participant_count = ? WHERE id = ?", --s.inside, s.id);
        db.Run("INSERT INTO events (tenant_id, session_id, member_id, name, at) "
               "VALUES (?, ?, ?, 'LEFT', ?)",
               c.tenant, s.id, p.member, now);
      }
    }
    db.Exec("COMMIT");
    const auto b1 = std::chrono::steady_clock::now();
    batch_ms.push_back(std::chrono::duration<double, std::milli>(b1 - b0).count());
    elapsed = std::chrono::duration<double>(b1 - t0).count();
  }
  std::cout << json::serialize(
                   CeilingResult(c.next, elapsed, CpuSeconds() - cpu0, std::move(batch_ms))) << std::endl;
  return 0;
}

// The ingest stream through the Service and the Store (group commit, savepoints, the reads a
// write needs), without HTTP: at most --in-flight writes queued, as wrk's connections allow.
int ServiceIngest(const Args& a) {
  const std::string path = Need(a, "path");
  Ceiling c = SetUpCeiling("sqlite:" + path, a);
  const double limit = static_cast<double>(NeedInt(a, "seconds"));
  std::unique_ptr<Store> store = OpenOrDie("sqlite:" + path);
  SystemClock clock;
  Service service(store.get(), &clock, "us-east-1");
  Window window(NeedInt(a, "in-flight"));
  auto done = [&window](const StatusOr<VisitView>& r) { window.Release(r.status()); };
  const double cpu0 = CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  double elapsed = 0;
  while (elapsed < limit) {
    for (int i = 0; i < kBatch; ++i) {
      const auto [enter, k] = c.Next();
      const size_t s = k % c.sessions.size();
      window.Acquire();
      if (enter) {
        service.Enter(c.apps[s], c.session_uuids[s],
                      EnterRequest{"ceil-" + std::to_string(k), Nickname(k),
                                   "https://img.example.com/c.png", std::nullopt},
                      done);
      } else {
        service.Leave(c.apps[s], c.session_uuids[s], "ceil-" + std::to_string(k), done);
      }
    }
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  const std::string error = window.Drain();
  if (!error.empty()) Die("an ingest write failed: " + error);
  elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = CpuSeconds() - cpu0;
  store->Close();
  std::cout << json::serialize(CeilingResult(c.next, elapsed, cpu, {})) << std::endl;
  return 0;
}

int PgCeiling(const Args& a) {
  const std::string url = Need(a, "url");
#ifndef ROLLCALL_BENCH_PG
  std::cout << json::serialize(json::object{{"na", "built without libpq"}}) << std::endl;
  return 0;
#else
  StatusOr<std::unique_ptr<Store>> probe = OpenStore(url, StoreOptions{});
  if (!probe.ok()) {
    std::cout << json::serialize(json::object{{"na", probe.status().message()}}) << std::endl;
    return 0;
  }
  probe.value()->Close();
  probe.value().reset();
  Ceiling c = SetUpCeiling(url, a);
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) Die(std::string("pg: ") + PQerrorMessage(conn));
  // One round trip per statement would measure the network, not the store: every batch is
  // sent in pipeline mode, ids are taken from the statements themselves.
  auto prepare = [&](const char* name, const char* sql) {
    PGresult* r = PQprepare(conn, name, sql, 0, nullptr);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) Die(std::string("pg prepare: ") + PQerrorMessage(conn));
    PQclear(r);
  };
  prepare("profile",
          "INSERT INTO profiles (tenant_id, participant_id, nickname, nickname_folded, "
          "profile_image_url, created_at) VALUES ($1, $2, $3, lower($3), $4, $5)");
  // Participant $3 of session $2: its member row. Every lookup is an equality on a whole
  // unique key (scalar subqueries), so no plan depends on the new tenant's statistics.
  constexpr char kProfileId[] =
      "(SELECT id FROM profiles WHERE tenant_id = $1 AND participant_id = $3)";
  const std::string member_where =
      std::string("tenant_id = $1 AND session_id = $2 AND profile_id = ") + kProfileId;
  prepare("member",
          "INSERT INTO members (tenant_id, session_id, profile_id, ivs_participant_id, "
          "first_join_at) SELECT $1, $2, id, $3, $4 FROM profiles WHERE tenant_id = $1 AND "
          "participant_id = $3");
  prepare("enter", ("WITH v AS (INSERT INTO visits (tenant_id, session_id, member_id, "
                    "profile_id, uuid, created_at) SELECT $1, $2, id, profile_id, $4, $5 FROM "
                    "members WHERE " + member_where +
                    " RETURNING id, member_id) UPDATE members SET open_visit_id = (SELECT id FROM "
                    "v), last_visit_id = (SELECT id FROM v) WHERE tenant_id = $1 AND id = "
                    "(SELECT member_id FROM v)")
                       .c_str());
  prepare("leave", ("WITH c AS (UPDATE members SET open_visit_id = NULL WHERE " + member_where +
                    " RETURNING last_visit_id) UPDATE visits SET deleted_at = $4 WHERE "
                    "tenant_id = $1 AND id = (SELECT last_visit_id FROM c)")
                       .c_str());
  prepare("session",
          "UPDATE sessions SET participant_count = participant_count + $3, visit_count = "
          "visit_count + $4 WHERE tenant_id = $1 AND id = $2");
  prepare("event", ("INSERT INTO events (tenant_id, session_id, member_id, name, at) SELECT $1, "
                    "$2, id, $4, $5 FROM members WHERE " + member_where)
                       .c_str());
  if (PQenterPipelineMode(conn) != 1) Die("pg: pipeline mode unavailable");
  int queued = 0;
  auto send = [&](const char* name, std::vector<std::string> params) {
    std::vector<const char*> values;
    for (const std::string& p : params) values.push_back(p.c_str());
    if (PQsendQueryPrepared(conn, name, static_cast<int>(values.size()), values.data(), nullptr,
                            nullptr, 0) != 1) {
      Die(std::string("pg send: ") + PQerrorMessage(conn));
    }
    ++queued;
  };
  auto simple = [&](const char* sql) {
    if (PQsendQueryParams(conn, sql, 0, nullptr, nullptr, nullptr, nullptr, 0) != 1) {
      Die(std::string("pg send: ") + PQerrorMessage(conn));
    }
    ++queued;
  };
  const double limit = static_cast<double>(NeedInt(a, "seconds"));
  std::vector<double> batch_ms;
  const double cpu0 = CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  double elapsed = 0;
  const std::string tenant = std::to_string(c.tenant);
  while (elapsed < limit) {
    const auto b0 = std::chrono::steady_clock::now();
    simple("BEGIN");
    for (int i = 0; i < kBatch; ++i) {
      const auto [enter, k] = c.Next();
      Ceiling::Participant& p = c.participants[k];
      const std::string session = std::to_string(c.sessions[k % c.sessions.size()].id);
      const std::string id = "ceil-" + std::to_string(k);
      const std::string now = std::to_string(SystemClock().Now());
      if (enter) {
        if (p.profile == 0) {
          p.profile = 1;
          send("profile", {tenant, id, Nickname(k), "https://img.example.com/c.png", now});
          send("member", {tenant, session, id, now});
        }
        send("enter", {tenant, session, id, NewUuid(), now});
        send("session", {tenant, session, "1", "1"});
        send("event", {tenant, session, id, "JOINED", now});
      } else {
        send("leave", {tenant, session, id, now});
        send("session", {tenant, session, "-1", "0"});
        send("event", {tenant, session, id, "LEFT", now});
      }
    }
    simple("COMMIT");
    if (PQpipelineSync(conn) != 1) Die("pg sync");
    for (; queued > 0; --queued) {
      PGresult* r = PQgetResult(conn);
      const ExecStatusType st = PQresultStatus(r);
      if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        Die(std::string("pg: ") + PQresultErrorMessage(r));
      }
      PQclear(r);
      PQclear(PQgetResult(conn));  // the NULL that ends each result
    }
    PQclear(PQgetResult(conn));  // the sync
    const auto b1 = std::chrono::steady_clock::now();
    batch_ms.push_back(std::chrono::duration<double, std::milli>(b1 - b0).count());
    elapsed = std::chrono::duration<double>(b1 - t0).count();
  }
  PQfinish(conn);
  std::cout << json::serialize(
                   CeilingResult(c.next, elapsed, CpuSeconds() - cpu0, std::move(batch_ms))) << std::endl;
  return 0;
#endif
}

int Main(int argc, char** argv) {
  if (argc < 2) Die("usage: rollcall-bench generate|sqlite-ceiling|pg-ceiling --option value...");
  const std::string cmd = argv[1];
  const Args a = ParseArgs(argc, argv, 2);
  if (cmd == "generate") return Generate(a);
  if (cmd == "sqlite-ceiling") return SqliteCeiling(a);
  if (cmd == "service-ingest") return ServiceIngest(a);
  if (cmd == "pg-ceiling") return PgCeiling(a);
  Die("unknown command " + cmd);
}

}  // namespace
}  // namespace rollcall::bench

int main(int argc, char** argv) { return rollcall::bench::Main(argc, argv); }

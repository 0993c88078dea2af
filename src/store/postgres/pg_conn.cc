#include "store/postgres/pg_conn.h"

#include <charconv>
#include <cstring>

namespace rollcall::pg {
namespace {

// SQLSTATEs after which the server is unreachable, going away or out of resources: the
// request can succeed later, so callers get kUnavailable (HTTP 503).
bool Unreachable(std::string_view state) {
  if (state.size() != 5) return true;  // libpq's own failures carry no SQLSTATE
  const std::string_view cls = state.substr(0, 2);
  return cls == "08" ||  // connection exception
         cls == "53" ||  // insufficient resources
         cls == "57" ||  // operator intervention: shutdown, cannot connect now, query canceled
         cls == "58" ||  // system error
         state == "55P03";  // lock not available in time
}

std::string Trim(const char* msg) {
  std::string s = msg != nullptr ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

int64_t Row::Int(int col) const {
  const char* v = PQgetvalue(res_, row_, col);
  int64_t out = 0;
  std::from_chars(v, v + std::strlen(v), out);
  return out;
}

std::string Row::Text(int col) const {
  return std::string(PQgetvalue(res_, row_, col),
                     static_cast<size_t>(PQgetlength(res_, row_, col)));
}

std::optional<int64_t> Row::OptInt(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Int(col);
}

std::optional<std::string> Row::OptText(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Text(col);
}

std::string Row::Bytes(int col) const {
  size_t n = 0;
  unsigned char* raw =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(res_, row_, col)), &n);
  if (raw == nullptr) return std::string();
  std::string out(reinterpret_cast<const char*>(raw), n);
  PQfreemem(raw);
  return out;
}

int64_t Result::Affected() const {
  const char* n = PQcmdTuples(res_.get());
  int64_t out = 0;
  std::from_chars(n, n + std::strlen(n), out);
  return out;
}

void Query::Add(std::string v, bool null, int format) {
  values_.push_back(std::move(v));
  nulls_.push_back(null);
  formats_.push_back(format);
}

Query& Query::Bind(int64_t v) {
  Add(std::to_string(v), false, 0);
  return *this;
}

Query& Query::Bind(std::string_view v) {
  Add(std::string(v), false, 0);
  return *this;
}

Query& Query::Bind(const std::optional<int64_t>& v) {
  if (v) return Bind(*v);
  Add(std::string(), true, 0);
  return *this;
}

Query& Query::Bind(const std::optional<std::string>& v) {
  if (v) return Bind(std::string_view(*v));
  Add(std::string(), true, 0);
  return *this;
}

Query& Query::BindBytes(std::string_view v) {
  Add(std::string(v), false, 1);
  return *this;
}

Result Query::Run() { return std::move(*conn_.RunPrepared(name_, values_, nulls_, formats_, true)); }

void Query::Send() { conn_.RunPrepared(name_, values_, nulls_, formats_, false); }

Conn::Conn(const std::string& url, int connect_timeout_s, bool pipeline) : pipeline_(pipeline) {
  // Earlier keywords are defaults: the connection string expanded from dbname overrides them.
  const std::string timeout = std::to_string(connect_timeout_s);
  const char* keys[] = {"connect_timeout",  "application_name", "keepalives",
                        "keepalives_idle",  "keepalives_interval", "keepalives_count",
                        "tcp_user_timeout", "dbname",           nullptr};
  const char* values[] = {timeout.c_str(), "rollcall", "1", "10", "5", "3", "15000",
                          url.c_str(),     nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (conn_ == nullptr) throw PgFailure(Code::kUnavailable, "", "postgres: out of memory");
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string msg = Trim(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    throw PgFailure(Code::kUnavailable, "", "cannot connect to PostgreSQL: " + msg);
  }
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  if (pipeline_ && PQenterPipelineMode(conn_) != 1) Fail(nullptr, "pipeline mode");
}

Conn::~Conn() {
  if (conn_ != nullptr) PQfinish(conn_);
}

bool Conn::Alive() {
  return !poisoned_ && PQconsumeInput(conn_) == 1 && PQstatus(conn_) == CONNECTION_OK;
}

PgFailure Conn::Failure(PGresult* res, std::string_view what) {
  std::string state;
  std::string msg;
  if (res != nullptr) {
    if (const char* s = PQresultErrorField(res, PG_DIAG_SQLSTATE)) state = s;
    msg = Trim(PQresultErrorMessage(res));
    PQclear(res);
  }
  if (msg.empty()) msg = Trim(PQerrorMessage(conn_));
  const Code code = broken() || Unreachable(state) ? Code::kUnavailable : Code::kInternal;
  return PgFailure(code, state, "postgres " + std::string(what) + ": " + msg);
}

void Conn::Fail(PGresult* res, std::string_view what) { throw Failure(res, what); }

Result Conn::Check(PGresult* res, std::string_view what) {
  const ExecStatusType st = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) Fail(res, what);
  return Result(res);
}

Result Conn::Drain(std::optional<size_t> wanted, std::string_view what) {
  if (PQpipelineSync(conn_) != 1) Fail(nullptr, what);
  expected_.push_back(Expect{true, {}});
  queued_ = 0;
  PGresult* keep = nullptr;
  std::optional<PgFailure> failure;
  auto lost = [&]() -> PgFailure {
    poisoned_ = true;
    expected_.clear();
    if (keep != nullptr) PQclear(keep);
    if (failure) return PgFailure(Code::kUnavailable, failure->sqlstate(), failure->what());
    return Failure(nullptr, what);
  };
  for (size_t pos = 0; !expected_.empty(); ++pos) {
    Expect e = std::move(expected_.front());
    expected_.pop_front();
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) throw lost();
    const ExecStatusType st = PQresultStatus(r);
    if (e.sync) {
      PQclear(r);
      if (st != PGRES_PIPELINE_SYNC) throw lost();
      continue;
    }
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      if (!e.prepared_sql.empty()) prepared_.erase(e.prepared_sql);
      if (st != PGRES_PIPELINE_ABORTED && !failure) {
        failure = Failure(r, what);
      } else {
        PQclear(r);
      }
    } else if (wanted && pos == *wanted) {
      keep = r;
    } else {
      PQclear(r);
    }
    // The rest of this statement's results, up to the null that ends them.
    while (PGresult* more = PQgetResult(conn_)) PQclear(more);
  }
  if (broken()) throw lost();
  ++waits_;
  if (failure) {
    if (keep != nullptr) PQclear(keep);
    throw *failure;
  }
  return Result(keep);
}

Result Conn::Exec(const std::string& sql) {
  if (!pipeline_) {
    Result r = Check(PQexec(conn_, sql.c_str()), "exec");
    ++waits_;
    return r;
  }
  Send(sql);
  return Drain(expected_.size() - 1, "exec");
}

void Conn::Send(const std::string& sql) {
  if (PQsendQueryParams(conn_, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) != 1) {
    Fail(nullptr, "send");
  }
  expected_.push_back(Expect{false, {}});
  ++queued_;
}

void Conn::Flush() { Drain(std::nullopt, "flush"); }

void Conn::FlushLater() {
  if (PQpipelineSync(conn_) != 1) Fail(nullptr, "sync");
  expected_.push_back(Expect{true, {}});
  queued_ = 0;
}

std::optional<Result> Conn::RunPrepared(const std::string& name,
                                        const std::vector<std::string>& values,
                                        const std::vector<bool>& nulls,
                                        const std::vector<int>& formats, bool wait) {
  const int n = static_cast<int>(values.size());
  std::vector<const char*> ptrs(n);
  std::vector<int> lengths(n);
  for (int i = 0; i < n; ++i) {
    ptrs[i] = nulls[i] ? nullptr : values[i].c_str();
    lengths[i] = static_cast<int>(values[i].size());
  }
  if (!pipeline_) {
    Result r = Check(PQexecPrepared(conn_, name.c_str(), n, ptrs.data(), lengths.data(),
                                    formats.data(), 0),
                     "query");
    ++waits_;
    return r;
  }
  if (PQsendQueryPrepared(conn_, name.c_str(), n, ptrs.data(), lengths.data(), formats.data(),
                          0) != 1) {
    Fail(nullptr, "send");
  }
  expected_.push_back(Expect{false, {}});
  ++queued_;
  if (!wait) return std::nullopt;
  return Drain(expected_.size() - 1, "query");
}

Query Conn::Prepare(const std::string& sql) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "s" + std::to_string(next_statement_++);
    if (pipeline_) {
      if (PQsendPrepare(conn_, name.c_str(), sql.c_str(), 0, nullptr) != 1) {
        Fail(nullptr, "prepare");
      }
      expected_.push_back(Expect{false, sql});
      ++queued_;
    } else {
      Check(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr), "prepare");
    }
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  return Query(this, it->second);
}

}  // namespace rollcall::pg

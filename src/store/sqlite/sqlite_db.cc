#include "store/sqlite/sqlite_db.h"

#include "store/store.h"

namespace rollcall::sqlite {

void Fail(sqlite3* db, int rc, std::string_view what) {
  const int primary = rc & 0xff;
  const Code code = (primary == SQLITE_BUSY || primary == SQLITE_LOCKED ||
                     primary == SQLITE_IOERR || primary == SQLITE_FULL ||
                     primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY)
                        ? Code::kUnavailable
                        : Code::kInternal;
  throw StoreFailure(code, std::string(what) + ": " +
                               (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

Query::~Query() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Query& Query::Bind(int64_t v) {
  sqlite3_bind_int64(stmt_, next_++, v);
  return *this;
}

Query& Query::Bind(std::string_view v) {
  sqlite3_bind_text(stmt_, next_++, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

Query& Query::Bind(const std::optional<int64_t>& v) {
  if (v) return Bind(*v);
  sqlite3_bind_null(stmt_, next_++);
  return *this;
}

Query& Query::Bind(const std::optional<std::string>& v) {
  if (v) return Bind(std::string_view(*v));
  sqlite3_bind_null(stmt_, next_++);
  return *this;
}

Query& Query::BindBlob(std::string_view v) {
  sqlite3_bind_blob(stmt_, next_++, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

bool Query::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Fail(db_, rc, "step");
}

void Query::Run() {
  while (Step()) {
  }
}

std::string Query::Text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_blob(stmt_, col));
  return p == nullptr ? std::string() : std::string(p, sqlite3_column_bytes(stmt_, col));
}

std::optional<int64_t> Query::OptInt(int col) const {
  if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
  return Int(col);
}

std::optional<std::string> Query::OptText(int col) const {
  if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
  return Text(col);
}

Db::Db(const std::string& path) {
  // Memory statistics take a global mutex on every allocation; nothing reads them. Only
  // possible before SQLite initializes (the first open), so once per process.
  static const int memstatus_off = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)memstatus_off;
  const int rc = sqlite3_open_v2(path.c_str(), &db_,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreFailure(Code::kUnavailable, "open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 10000);
}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

void Db::Exec(const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    Code code = Code::kInternal;
    const int primary = rc & 0xff;
    if (primary == SQLITE_BUSY || primary == SQLITE_IOERR || primary == SQLITE_FULL ||
        primary == SQLITE_LOCKED) {
      code = Code::kUnavailable;
    }
    throw StoreFailure(code, "exec: " + msg);
  }
}

Query Db::Prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) Fail(db_, rc, "prepare");
    it = cache_.emplace(std::string(sql), stmt).first;
  }
  return Query(db_, it->second);
}

}  // namespace rollcall::sqlite

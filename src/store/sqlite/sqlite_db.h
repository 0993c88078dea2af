#ifndef ROLLCALL_STORE_SQLITE_SQLITE_DB_H_
#define ROLLCALL_STORE_SQLITE_SQLITE_DB_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace rollcall::sqlite {

// A prepared statement in use: binds in order, steps, reads columns. Resets the statement
// when destroyed so the connection's cache can hand it out again. Throws StoreFailure.
class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query();

  Query& Bind(int64_t v);
  Query& Bind(std::string_view v);
  Query& Bind(const std::string& v) { return Bind(std::string_view(v)); }
  Query& Bind(const char* v) { return Bind(std::string_view(v)); }
  Query& Bind(const std::optional<int64_t>& v);
  Query& Bind(const std::optional<std::string>& v);
  Query& BindBlob(std::string_view v);

  // Steps once; true when a row is ready.
  bool Step();
  // Steps to completion.
  void Run();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const;
  std::optional<int64_t> OptInt(int col) const;
  std::optional<std::string> OptText(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int next_ = 1;
};

// One SQLite connection with a cache of prepared statements. Not thread-safe.
class Db {
 public:
  // Opens (creating if needed) the database at path. Throws StoreFailure.
  explicit Db(const std::string& path);
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // Executes one or more statements without results. Throws StoreFailure.
  void Exec(const std::string& sql);
  // Returns the cached prepared statement for sql, ready to bind.
  Query Prepare(std::string_view sql);
  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int64_t Changes() const { return sqlite3_changes64(db_); }
  sqlite3* raw() { return db_; }

 private:
  sqlite3* db_ = nullptr;
  // By SQL text; looked up without copying the text (transparent hash).
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, sqlite3_stmt*, TextHash, std::equal_to<>> cache_;
};

// Throws StoreFailure describing the connection's last error.
[[noreturn]] void Fail(sqlite3* db, int rc, std::string_view what);

}  // namespace rollcall::sqlite

#endif  // ROLLCALL_STORE_SQLITE_SQLITE_DB_H_

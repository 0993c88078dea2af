#ifndef ROLLCALL_STORE_POSTGRES_PG_CONN_H_
#define ROLLCALL_STORE_POSTGRES_PG_CONN_H_

#include <libpq-fe.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace rollcall::pg {

// A store failure reported by PostgreSQL or libpq, with its SQLSTATE ("" when the connection
// itself failed). code() is kUnavailable when the server cannot be reached or is shutting down,
// or when a lock could not be taken in time; kInternal otherwise.
class PgFailure : public StoreFailure {
 public:
  PgFailure(Code code, std::string sqlstate, const std::string& what)
      : StoreFailure(code, what), sqlstate_(std::move(sqlstate)) {}
  const std::string& sqlstate() const { return sqlstate_; }

  // True when running the same transaction work again, after the current transaction has
  // released its locks, can succeed: serialization failure, deadlock, lock timeout, or a unique
  // key taken by a transaction that committed while this one ran.
  bool retryable() const {
    return sqlstate_ == "40001" || sqlstate_ == "40P01" || sqlstate_ == "55P03" ||
           sqlstate_ == "23505";
  }

 private:
  std::string sqlstate_;
};

// One row of a Result. Columns are read in text format.
class Row {
 public:
  Row(const PGresult* res, int row) : res_(res), row_(row) {}
  bool IsNull(int col) const { return PQgetisnull(res_, row_, col) != 0; }
  int64_t Int(int col) const;
  std::string Text(int col) const;
  std::optional<int64_t> OptInt(int col) const;
  std::optional<std::string> OptText(int col) const;

 private:
  const PGresult* res_;
  int row_;
};

// The rows a statement returned. Owns its PGresult. Movable.
class Result {
 public:
  explicit Result(PGresult* res) : res_(res, &PQclear) {}
  int size() const { return PQntuples(res_.get()); }
  bool empty() const { return size() == 0; }
  // REQUIRES: 0 <= i < size()
  Row operator[](int i) const { return Row(res_.get(), i); }
  // Rows affected by an INSERT, UPDATE or DELETE.
  int64_t Affected() const;
  // The command tag, such as "COMMIT" (or "ROLLBACK" when COMMIT found the transaction failed).
  std::string_view Command() const { return PQcmdStatus(res_.get()); }

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> res_;
};

class Conn;

// A prepared statement being bound: parameters in order ($1, $2, ...), then Run(). Text
// parameters go in text format, bytes in binary format. Throws PgFailure.
class Query {
 public:
  Query(Conn* conn, const std::string* name) : conn_(*conn), name_(*name) {}
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& Bind(int64_t v);
  Query& Bind(std::string_view v);
  Query& Bind(const std::string& v) { return Bind(std::string_view(v)); }
  Query& Bind(const char* v) { return Bind(std::string_view(v)); }
  Query& Bind(const std::optional<int64_t>& v);
  Query& Bind(const std::optional<std::string>& v);
  Query& BindBytes(std::string_view v);

  Result Run();

 private:
  void Add(std::string v, bool null, int format);

  Conn& conn_;
  const std::string& name_;
  std::vector<std::string> values_;
  std::vector<bool> nulls_;
  std::vector<int> formats_;
};

// One libpq connection with a cache of prepared statements. Not thread-safe.
class Conn {
 public:
  // Connects to the server `url` names (a postgresql:// URL or a conninfo string), with
  // connect_timeout `connect_timeout_s` unless the URL sets one, and TCP keepalives.
  // Throws PgFailure(kUnavailable) when the server cannot be reached.
  Conn(const std::string& url, int connect_timeout_s);
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn();

  // Runs one or more statements through the simple query protocol; returns the last one's
  // result. Throws PgFailure.
  Result Exec(const std::string& sql);
  // Returns a query on the statement prepared (once per connection) from sql, ready to bind.
  Query Prepare(const std::string& sql);
  // True when the connection is lost and must be replaced.
  bool broken() const { return PQstatus(conn_) == CONNECTION_BAD; }
  // The transaction state after the last command (PQTRANS_IDLE, PQTRANS_INTRANS, ...).
  PGTransactionStatusType tx_status() const { return PQtransactionStatus(conn_); }
  PGconn* raw() { return conn_; }

  // Throws the PgFailure that describes res (or the connection's error when res is null).
  // Takes ownership of res.
  [[noreturn]] void Fail(PGresult* res, std::string_view what);
  // Returns res if it reports success, else throws through Fail().
  Result Check(PGresult* res, std::string_view what);

 private:
  PGconn* conn_ = nullptr;
  std::map<std::string, std::string, std::less<>> prepared_;  // sql -> statement name
};

}  // namespace rollcall::pg

#endif  // ROLLCALL_STORE_POSTGRES_PG_CONN_H_

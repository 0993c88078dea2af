#ifndef ROLLCALL_STORE_POSTGRES_PG_CONN_H_
#define ROLLCALL_STORE_POSTGRES_PG_CONN_H_

#include <libpq-fe.h>

#include <cstdint>
#include <deque>
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
  // A bytea column's bytes.
  std::string Bytes(int col) const;

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

// A prepared statement being bound: parameters in order ($1, $2, ...), then Run() or Send().
// Text parameters go in text format, bytes in binary format. Throws PgFailure.
class Query {
 public:
  Query(Conn* conn, std::string name) : conn_(*conn), name_(std::move(name)) {}
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& Bind(int64_t v);
  Query& Bind(std::string_view v);
  Query& Bind(const std::string& v) { return Bind(std::string_view(v)); }
  Query& Bind(const char* v) { return Bind(std::string_view(v)); }
  Query& Bind(const std::optional<int64_t>& v);
  Query& Bind(const std::optional<std::string>& v);
  Query& BindBytes(std::string_view v);

  // Executes the statement (after everything queued before it) and returns its rows.
  Result Run();
  // Queues the statement; a later Run(), Exec() or Flush() reports its failure.
  void Send();

 private:
  void Add(std::string v, bool null, int format);

  Conn& conn_;
  const std::string name_;
  std::vector<std::string> values_;
  std::vector<bool> nulls_;
  std::vector<int> formats_;
};

// One libpq connection with a cache of prepared statements. Not thread-safe.
//
// In pipeline mode (libpq's), statements can be queued with Send() and travel to the server
// together with the next statement whose result is needed, so a run of writes costs no round
// trip of its own. Every wait covers everything queued before it and throws the first failure
// among it; the server skips what follows a failure up to that wait, so after a failure inside
// a transaction block the block is in the failed state (tx_status() == PQTRANS_INERROR).
class Conn {
 public:
  // Connects to the server `url` names (a postgresql:// URL or a conninfo string), with
  // connect_timeout `connect_timeout_s` unless the URL sets one, and TCP keepalives. Without
  // `pipeline`, Exec() takes several statements at once and nothing is queued.
  // Throws PgFailure(kUnavailable) when the server cannot be reached.
  Conn(const std::string& url, int connect_timeout_s, bool pipeline);
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn();

  // Runs sql (one statement in pipeline mode) after everything queued; returns its result.
  Result Exec(const std::string& sql);
  // Pipeline mode: queues one statement without parameters.
  void Send(const std::string& sql);
  // Pipeline mode: waits for everything queued.
  void Flush();
  // Pipeline mode: sends everything queued for execution now but reads its results only at
  // the next wait (whose failure then includes theirs).
  void FlushLater();
  // Number of statements queued and not yet sent for execution.
  int queued() const { return queued_; }
  // Returns a query on the statement prepared (once per connection) from sql, ready to bind.
  Query Prepare(const std::string& sql);

  // True when the connection is lost (or out of step) and must be replaced.
  bool broken() const { return poisoned_ || PQstatus(conn_) == CONNECTION_BAD; }
  // Reads whatever the server sent meanwhile without blocking; false when that shows the
  // connection lost (the server restarted or closed it).
  bool Alive();
  // The transaction state after the last wait (PQTRANS_IDLE, PQTRANS_INTRANS, ...).
  PGTransactionStatusType tx_status() const { return PQtransactionStatus(conn_); }
  // Times a wait completed without losing the connection.
  uint64_t waits() const { return waits_; }

 private:
  friend class Query;
  // What the server owes for each thing sent, in order: a statement's results (for a prepare,
  // its SQL, uncached again if the prepare did not succeed) or a sync.
  struct Expect {
    bool sync;
    std::string prepared_sql;
  };

  // Queues (pipeline mode) or runs the prepared statement `name` with parameters; returns
  // its result when `wait`.
  std::optional<Result> RunPrepared(const std::string& name, const std::vector<std::string>& values,
                                    const std::vector<bool>& nulls, const std::vector<int>& formats,
                                    bool wait);
  // Pipeline mode: sends a sync and reads every expected result; returns the one at position
  // `wanted` of the expectations (or a null result). Throws the first failure.
  Result Drain(std::optional<size_t> wanted, std::string_view what);
  // Throws the PgFailure that res describes (or the connection's error when res is null).
  // Takes ownership of res.
  [[noreturn]] void Fail(PGresult* res, std::string_view what);
  PgFailure Failure(PGresult* res, std::string_view what);
  // Returns res if it reports success, else throws through Fail().
  Result Check(PGresult* res, std::string_view what);

  PGconn* conn_ = nullptr;
  const bool pipeline_;
  bool poisoned_ = false;
  int queued_ = 0;
  uint64_t waits_ = 0;
  uint64_t next_statement_ = 0;
  std::deque<Expect> expected_;
  std::map<std::string, std::string, std::less<>> prepared_;  // sql -> statement name
};

}  // namespace rollcall::pg

#endif  // ROLLCALL_STORE_POSTGRES_PG_CONN_H_

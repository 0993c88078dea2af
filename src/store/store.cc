#include "store/store.h"

#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_store.h"

namespace rollcall {

StatusOr<std::unique_ptr<Store>> OpenStore(const std::string& url, const StoreOptions& options) {
  constexpr std::string_view kSqlite = "sqlite:";
  if (url.rfind(kSqlite, 0) == 0) {
    std::string path = url.substr(kSqlite.size());
    if (path.empty()) return Status::Invalid("sqlite: URL needs a path, as in sqlite:var/rollcall.db");
    return OpenSqliteStore(path, options);
  }
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    return OpenPostgresStore(url, options);
  }
  return Status::Invalid("--database must be sqlite:PATH or postgresql://...: " + url);
}

}  // namespace rollcall

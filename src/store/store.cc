#include "store/store.h"

#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_store.h"

namespace rollcall {

std::string RedactedUrl(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const size_t authority = scheme + 3;
  const size_t at = url.find('@', authority);
  const size_t end = url.find_first_of("/?", authority);
  if (at == std::string_view::npos || (end != std::string_view::npos && at > end)) {
    return std::string(url);
  }
  const size_t colon = url.find(':', authority);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

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

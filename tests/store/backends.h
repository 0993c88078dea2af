#ifndef ROLLCALL_TESTS_STORE_BACKENDS_H_
#define ROLLCALL_TESTS_STORE_BACKENDS_H_

// What every store suite shares: the backends it runs over (SQLite in a temp file always,
// PostgreSQL when ROLLCALL_TEST_PG_URL names a database) and a wait for a write's callback.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <string>
#include <vector>

#include "core/ids.h"
#include "core/service.h"

namespace rollcall {

// The test parameters: "sqlite", then the PostgreSQL URL if one is given.
inline std::vector<std::string> BackendUrls() {
  std::vector<std::string> urls = {"sqlite"};
  if (const char* pg = std::getenv("ROLLCALL_TEST_PG_URL"); pg != nullptr && *pg != '\0') {
    urls.emplace_back(pg);
  }
  return urls;
}

// "sqlite" or "postgres": the test name suffix of a parameter.
inline std::string BackendName(const ::testing::TestParamInfo<std::string>& info) {
  return info.param == "sqlite" ? "sqlite" : "postgres";
}

// The store URL of a parameter. For "sqlite" it creates a fresh directory named after
// `prefix` under the temp directory, sets *dir to it (the caller removes it) and returns a URL
// of a database file inside; any other parameter is returned as it is.
inline std::string ResolveBackendUrl(const std::string& param, const std::string& prefix,
                                     std::filesystem::path* dir) {
  if (param != "sqlite") return param;
  *dir = std::filesystem::temp_directory_path() /
         (prefix + "-" + std::to_string(::getpid()) + "-" + RandomAlnum(8));
  std::filesystem::create_directories(*dir);
  return "sqlite:" + (*dir / "store.db").string();
}

// Starts a write and waits for its callback.
template <typename T>
StatusOr<T> Wait(const std::function<void(Callback<T>)>& start) {
  std::promise<StatusOr<T>> p;
  auto f = p.get_future();
  start([&p](StatusOr<T> r) { p.set_value(std::move(r)); });
  return f.get();
}

}  // namespace rollcall

#endif  // ROLLCALL_TESTS_STORE_BACKENDS_H_

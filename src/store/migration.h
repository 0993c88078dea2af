#ifndef ROLLCALL_STORE_MIGRATION_H_
#define ROLLCALL_STORE_MIGRATION_H_

#include <vector>

namespace rollcall {

// One versioned schema file, src/store/schema/<backend>/NNN_name.sql, embedded at build time.
struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// In ascending version order.
const std::vector<Migration>& SqliteMigrations();
const std::vector<Migration>& PostgresMigrations();

}  // namespace rollcall

#endif  // ROLLCALL_STORE_MIGRATION_H_

#ifndef ROLLCALL_STORE_POSTGRES_PG_STORE_H_
#define ROLLCALL_STORE_POSTGRES_PG_STORE_H_

#include <memory>
#include <string>

#include "store/store.h"

namespace rollcall {

// Opens the PostgreSQL store at url (postgresql://user@host:port/db) and migrates it under an
// advisory lock, so several processes may start at once. One writer thread group-commits
// Write() calls on one connection; reads run on a pool of options.pool - 1 connections. Several processes may share one database:
// write transactions run at READ COMMITTED and lock the application, session and profile rows
// they read (see Tx), the schema's constraints hold the invariants, and a fn that meets a
// deadlock, lock timeout or unique-key race is rolled back alone and run again in a later
// transaction. A lost connection fails the requests it served with kUnavailable and is
// replaced on next use. Unreachable server at open: kUnavailable.
StatusOr<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url,
                                                   const StoreOptions& options);

}  // namespace rollcall

#endif  // ROLLCALL_STORE_POSTGRES_PG_STORE_H_

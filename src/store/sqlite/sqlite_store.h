#ifndef ROLLCALL_STORE_SQLITE_SQLITE_STORE_H_
#define ROLLCALL_STORE_SQLITE_SQLITE_STORE_H_

#include <memory>
#include <string>

#include "store/store.h"

namespace rollcall {

// Opens the SQLite store at path (WAL, synchronous=FULL) and migrates it. One writer thread
// group-commits Write() calls; Read() runs on a pool of reader connections.
StatusOr<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                                 const StoreOptions& options);

}  // namespace rollcall

#endif  // ROLLCALL_STORE_SQLITE_SQLITE_STORE_H_

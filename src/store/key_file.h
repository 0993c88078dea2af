#ifndef ROLLCALL_STORE_KEY_FILE_H_
#define ROLLCALL_STORE_KEY_FILE_H_

#include <string>

#include "core/status.h"

namespace rollcall {

// The key-encryption key of core/secret_box.h, kept in its own file outside the database.
//
// Returns the 32-byte key stored at `path` (64 hex digits and a newline). When there is no
// file yet, generates a random key and creates the file with mode 0600 atomically (two
// processes starting at once end up with the same key), creating the parent directory.
// A file readable or writable by group or others, or with other content, is refused
// (kInvalidArgument, saying why); I/O failure: kUnavailable. When `created` is not null, sets
// it to whether this call created the file (false when it existed, or another process created
// it first).
StatusOr<std::string> LoadOrCreateKeyFile(const std::string& path, bool* created = nullptr);

}  // namespace rollcall

#endif  // ROLLCALL_STORE_KEY_FILE_H_

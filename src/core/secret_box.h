#ifndef ROLLCALL_CORE_SECRET_BOX_H_
#define ROLLCALL_CORE_SECRET_BOX_H_

#include <string>
#include <string_view>

#include "core/status.h"

namespace rollcall {

// Authenticated encryption of secrets at rest (AES-256-GCM) under a key-encryption key that
// lives outside the database (store/key_file.h), so that a stolen database file yields no
// usable secret. Thread-safe; immutable after construction.
class SecretBox {
 public:
  static constexpr size_t kKeySize = 32;

  // REQUIRES: key.size() == kKeySize.
  explicit SecretBox(std::string key);

  // Encrypts `plaintext` bound to `context` (e.g. the access key id of the row it is stored
  // in: a sealed value moved to another row does not open). Returns
  // version (1 byte) | nonce (12) | ciphertext | tag (16); a fresh random nonce every call.
  std::string Seal(std::string_view plaintext, std::string_view context) const;

  // The plaintext of a Seal() output with the same key and context. Anything else (another
  // key or context, a changed byte, a truncated value): kInternal, nothing returned.
  StatusOr<std::string> Open(std::string_view sealed, std::string_view context) const;

 private:
  std::string key_;
};

}  // namespace rollcall

#endif  // ROLLCALL_CORE_SECRET_BOX_H_

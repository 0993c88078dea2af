#ifndef ROLLCALL_CORE_CRYPTO_H_
#define ROLLCALL_CORE_CRYPTO_H_

#include <optional>
#include <string>
#include <string_view>

namespace rollcall {

// Thin wrappers over OpenSSL. All functions are thread-safe.

// Raw 32-byte SHA-256 digest.
std::string Sha256(std::string_view data);
// Raw 32-byte HMAC-SHA256.
std::string HmacSha256(std::string_view key, std::string_view data);
// n cryptographically strong random bytes. Aborts if the CSPRNG fails (a bug of the host).
std::string RandomBytes(size_t n);
// The same, written to out. REQUIRES: out has room for n bytes.
void RandomFill(void* out, size_t n);
std::string HexEncode(std::string_view raw);
// The bytes of lower-case hex text (as HexEncode writes it); anything else: nullopt.
std::optional<std::string> HexDecode(std::string_view hex);
// Compares in time independent of where the inputs differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace rollcall

#endif  // ROLLCALL_CORE_CRYPTO_H_

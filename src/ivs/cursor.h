#ifndef ROLLCALL_IVS_CURSOR_H_
#define ROLLCALL_IVS_CURSOR_H_

#include <optional>
#include <string>
#include <string_view>

namespace rollcall::ivs {

// Opaque, tamper-proof pagination tokens ("nextToken"). A position is sealed with
// AES-256-GCM under a key derived from the tenant's secret, bound to a context (the
// operation and the listing's scope), so a token is unreadable, cannot be altered, and is
// refused by another tenant or another listing. Text: base64url of nonce|ciphertext|tag,
// which matches the model's [a-zA-Z0-9+/=_-]*. Thread-safe.

std::string SealCursor(std::string_view tenant_secret, std::string_view context,
                       std::string_view position);

// The sealed position, or nullopt when the token was not sealed for this tenant and context.
std::optional<std::string> OpenCursor(std::string_view tenant_secret, std::string_view context,
                                      std::string_view token);

}  // namespace rollcall::ivs

#endif  // ROLLCALL_IVS_CURSOR_H_

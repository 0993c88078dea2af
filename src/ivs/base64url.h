#ifndef ROLLCALL_IVS_BASE64URL_H_
#define ROLLCALL_IVS_BASE64URL_H_

#include <optional>
#include <string>
#include <string_view>

namespace rollcall::ivs {

// RFC 4648 section 5 (URL- and filename-safe alphabet) without padding. Thread-safe.
std::string Base64UrlEncode(std::string_view raw);
// Decodes unpadded base64url. Any other character, or an impossible length: nullopt.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace rollcall::ivs

#endif  // ROLLCALL_IVS_BASE64URL_H_

#ifndef ROLLCALL_CORE_TEXT_H_
#define ROLLCALL_CORE_TEXT_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace rollcall {

// Number of Unicode code points in s, or nullopt if s is not valid UTF-8.
std::optional<size_t> Utf8Length(std::string_view s);
// True if s contains a C0 control, DEL or a C1 control character.
bool HasControlCharacters(std::string_view s);
// ASCII-lower-cases s; other code points are kept. Used for case-insensitive nickname search,
// identically in every store.
std::string FoldCase(std::string_view s);

}  // namespace rollcall

#endif  // ROLLCALL_CORE_TEXT_H_

#ifndef ROLLCALL_CORE_SEARCH_H_
#define ROLLCALL_CORE_SEARCH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace rollcall {

// Decoded query parameters, in request order. Protocol-agnostic.
using Params = std::vector<std::pair<std::string, std::string>>;

// Returns the first value of `name`, or nullptr.
const std::string* FindParam(const Params& params, std::string_view name);

// A page request: page from 0, size 1..1000.
struct PageRequest {
  int64_t page = 0;
  int64_t size = 20;
  int64_t offset() const { return page * size; }
};

// Parses "page" and "size" (defaults 0 and 20). Bad values: kInvalidArgument.
Status ParsePageRequest(const Params& params, PageRequest* out);

enum class VisitSort { kCreatedAt, kParticipantId, kNickname };

// A search of one session's visits. Filters combine with AND; bounds are inclusive.
struct VisitQuery {
  PageRequest page;
  VisitSort sort = VisitSort::kCreatedAt;
  bool ascending = false;
  bool count_total = true;  // firstView
  std::optional<std::string> nickname_folded;  // FoldCase()d substring
  std::optional<Millis> created_from, created_to;
  std::optional<Millis> deleted_from, deleted_to;

  // True when a filter narrows the session's visits (so the maintained count does not apply).
  bool filtered() const {
    return nickname_folded || created_from || created_to || deleted_from || deleted_to;
  }
};

// Parses the In-Stream search parameters (see docs/api.md): page, size, name|sort[name],
// option|sort[option], firstView, nickname, createdStartAt/EndAt, deletedStartAt/EndAt.
// Unknown parameters are ignored. Bad values: kInvalidArgument naming the parameter.
Status ParseVisitQuery(const Params& params, VisitQuery* out);

// Number of pages of `size` rows holding `total` rows.
int64_t TotalPages(int64_t total, int64_t size);

}  // namespace rollcall

#endif  // ROLLCALL_CORE_SEARCH_H_

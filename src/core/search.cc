#include "core/search.h"

#include <charconv>
#include <limits>

#include "core/text.h"

namespace rollcall {
namespace {

constexpr int64_t kMaxPage = std::numeric_limits<int32_t>::max();

Status ParseInt(std::string_view name, const std::string& v, int64_t min, int64_t max,
                int64_t* out) {
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || ptr != v.data() + v.size() || n < min || n > max) {
    return Status::Invalid(std::string(name) + " must be an integer from " + std::to_string(min) +
                           " to " + std::to_string(max));
  }
  *out = n;
  return Status::Ok();
}

Status ParseTime(const Params& params, std::string_view name, std::optional<Millis>* out) {
  const std::string* v = FindParam(params, name);
  if (v == nullptr) return Status::Ok();
  // A '+' sent unencoded in a query string arrives decoded as a space (form encoding), so a
  // space where the offset's sign belongs ("...T19:00:00 09:00") is read as '+'.
  std::string text = *v;
  if (text.size() > 6 && text[text.size() - 6] == ' ') text[text.size() - 6] = '+';
  std::optional<Millis> t = ParseTimestamp(text);
  if (!t) {
    return Status::Invalid(std::string(name) +
                           " must be an RFC 3339 timestamp such as 2026-11-21T10:00:00Z");
  }
  *out = t;
  return Status::Ok();
}

const std::string* FindEither(const Params& params, std::string_view a, std::string_view b) {
  const std::string* v = FindParam(params, a);
  return v != nullptr ? v : FindParam(params, b);
}

}  // namespace

const std::string* FindParam(const Params& params, std::string_view name) {
  for (const auto& [k, v] : params) {
    if (k == name) return &v;
  }
  return nullptr;
}

Status ParsePageRequest(const Params& params, PageRequest* out) {
  if (const std::string* v = FindParam(params, "page")) {
    Status s = ParseInt("page", *v, 0, kMaxPage, &out->page);
    if (!s.ok()) return s;
  }
  if (const std::string* v = FindParam(params, "size")) {
    Status s = ParseInt("size", *v, 1, 1000, &out->size);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status ParseVisitQuery(const Params& params, VisitQuery* out) {
  Status s = ParsePageRequest(params, &out->page);
  if (!s.ok()) return s;
  if (const std::string* v = FindEither(params, "name", "sort[name]")) {
    if (*v == "created_at") {
      out->sort = VisitSort::kCreatedAt;
    } else if (*v == "participant_id") {
      out->sort = VisitSort::kParticipantId;
    } else if (*v == "nickname") {
      out->sort = VisitSort::kNickname;
    } else {
      return Status::Invalid("name must be one of participant_id, nickname, created_at");
    }
  }
  if (const std::string* v = FindEither(params, "option", "sort[option]")) {
    if (*v == "ASC") {
      out->ascending = true;
    } else if (*v == "DESC") {
      out->ascending = false;
    } else {
      return Status::Invalid("option must be ASC or DESC");
    }
  }
  if (const std::string* v = FindParam(params, "firstView")) {
    if (*v == "true") {
      out->count_total = true;
    } else if (*v == "false") {
      out->count_total = false;
    } else {
      return Status::Invalid("firstView must be true or false");
    }
  }
  if (const std::string* v = FindParam(params, "nickname")) {
    std::optional<size_t> len = Utf8Length(*v);
    if (!len || *len > 64) {
      return Status::Invalid("nickname must be UTF-8 text of at most 64 characters");
    }
    if (!v->empty()) out->nickname_folded = FoldCase(*v);
  }
  for (auto [name, field] : {std::pair{"createdStartAt", &out->created_from},
                             std::pair{"createdEndAt", &out->created_to},
                             std::pair{"deletedStartAt", &out->deleted_from},
                             std::pair{"deletedEndAt", &out->deleted_to}}) {
    s = ParseTime(params, name, field);
    if (!s.ok()) return s;
  }
  if (out->created_from && out->created_to && *out->created_from > *out->created_to) {
    return Status::Invalid("createdStartAt must not be after createdEndAt");
  }
  if (out->deleted_from && out->deleted_to && *out->deleted_from > *out->deleted_to) {
    return Status::Invalid("deletedStartAt must not be after deletedEndAt");
  }
  return Status::Ok();
}

int64_t TotalPages(int64_t total, int64_t size) { return (total + size - 1) / size; }

}  // namespace rollcall

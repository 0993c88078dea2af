#include "http/router.h"

#include <algorithm>

namespace rollcall::http {
namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  if (!path.empty() && path.front() == '/') start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

void Router::Add(std::string method, std::string_view pattern, Handler handler) {
  Route r;
  r.method = std::move(method);
  for (std::string_view s : Split(pattern)) r.segments.emplace_back(s);
  r.handler = std::move(handler);
  routes_.push_back(std::move(r));
}

Router::Result Router::Find(std::string_view method, std::string_view path, const Handler** handler,
                            PathParams* params, std::vector<std::string>* allowed) const {
  const std::vector<std::string_view> parts = Split(path);
  // The patterns matching the path compete by specificity: a literal segment beats a {param}
  // at the first segment where they differ. Only the most specific pattern's routes answer,
  // so a path a literal route owns ("/v1/applications/sessions") is never taken by a
  // {param} route of another method; the method then decides between found and kNoMethod.
  std::vector<std::pair<const Route*, uint64_t>> matches;  // route, literal-segment bits
  uint64_t best = 0;
  for (const Route& r : routes_) {
    if (r.segments.size() != parts.size() || parts.size() > 64) continue;
    uint64_t literal = 0;
    bool match = true;
    for (size_t i = 0; i < parts.size() && match; ++i) {
      const std::string& seg = r.segments[i];
      if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
        match = !parts[i].empty();
      } else {
        match = seg == parts[i];
        literal |= uint64_t{1} << (63 - i);
      }
    }
    if (!match) continue;
    matches.emplace_back(&r, literal);
    best = std::max(best, literal);
  }
  if (matches.empty()) return Result::kNoPath;
  for (const auto& [r, literal] : matches) {
    if (literal != best || r->method != method) continue;
    *handler = &r->handler;
    params->clear();
    for (size_t i = 0; i < parts.size(); ++i) {
      if ((literal & (uint64_t{1} << (63 - i))) == 0) params->emplace_back(parts[i]);
    }
    return Result::kFound;
  }
  if (allowed != nullptr) {
    for (const auto& [r, literal] : matches) {
      if (literal == best &&
          std::find(allowed->begin(), allowed->end(), r->method) == allowed->end()) {
        allowed->push_back(r->method);
      }
    }
  }
  return Result::kNoMethod;
}

}  // namespace rollcall::http

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
  bool path_matched = false;
  for (const Route& r : routes_) {
    if (r.segments.size() != parts.size()) continue;
    PathParams values;
    bool match = true;
    for (size_t i = 0; i < parts.size() && match; ++i) {
      const std::string& seg = r.segments[i];
      if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
        if (parts[i].empty()) match = false;
        values.emplace_back(parts[i]);
      } else if (seg != parts[i]) {
        match = false;
      }
    }
    if (!match) continue;
    path_matched = true;
    if (r.method != method) {
      if (allowed != nullptr &&
          std::find(allowed->begin(), allowed->end(), r.method) == allowed->end()) {
        allowed->push_back(r.method);
      }
      continue;
    }
    *handler = &r.handler;
    *params = std::move(values);
    return Result::kFound;
  }
  return path_matched ? Result::kNoMethod : Result::kNoPath;
}

}  // namespace rollcall::http

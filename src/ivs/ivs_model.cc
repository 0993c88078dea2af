#include "ivs/ivs_model.h"

#include <cstdlib>

#include "core/text.h"

namespace rollcall::ivs {

namespace json = boost::json;

namespace {

std::string Shown(const json::value& v) {
  std::string s = v.is_string() ? std::string(v.as_string()) : json::serialize(v);
  if (s.size() > 64) s = s.substr(0, 61) + "...";
  return s;
}

Status Violation(const json::value& v, const std::string& path, const std::string& constraint) {
  return Status::Invalid("1 validation error detected: Value '" + Shown(v) + "' at '" + path +
                         "' failed to satisfy constraint: Member must " + constraint);
}

std::string Join(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += items[i];
  }
  return out + "]";
}

std::string Child(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

}  // namespace

const ServiceModel& ServiceModel::Get() {
  static const ServiceModel* model = new ServiceModel();
  return *model;
}

ServiceModel::ServiceModel() {
  std::string text;
  for (const char* const* chunk = kIvsModelJson; *chunk != nullptr; ++chunk) text += *chunk;
  json::value doc = json::parse(text);  // generated: a failure is a build bug and aborts
  for (const auto& [name, op] : doc.at("operations").as_object()) {
    Operation o;
    o.name = std::string(name);
    o.method = std::string(op.at("method").as_string());
    o.uri = std::string(op.at("uri").as_string());
    if (const json::value* in = op.as_object().if_contains("input")) {
      o.input = std::string(in->as_string());
    }
    operations_.push_back(std::move(o));
  }
  for (const auto& [name, sv] : doc.at("shapes").as_object()) {
    const json::object& so = sv.as_object();
    Shape s;
    s.type = std::string(so.at("type").as_string());
    if (const json::value* v = so.if_contains("min")) {
      s.has_min = true;
      s.min = v->to_number<int64_t>();
    }
    if (const json::value* v = so.if_contains("max")) {
      s.has_max = true;
      s.max = v->to_number<int64_t>();
    }
    if (const json::value* v = so.if_contains("pattern")) {
      s.pattern_text = std::string(v->as_string());
      s.pattern = std::make_unique<std::regex>(s.pattern_text, std::regex::ECMAScript);
    }
    if (const json::value* v = so.if_contains("enum")) {
      for (const auto& e : v->as_array()) s.enums.emplace_back(e.as_string());
    }
    if (const json::value* v = so.if_contains("required")) {
      for (const auto& e : v->as_array()) s.required.emplace_back(e.as_string());
    }
    if (const json::value* v = so.if_contains("members")) {
      for (const auto& [mname, m] : v->as_object()) {
        s.members.push_back(Member{std::string(mname), std::string(m.at("shape").as_string())});
      }
    }
    if (const json::value* v = so.if_contains("member")) s.member = std::string(v->as_string());
    if (const json::value* v = so.if_contains("key")) s.key = std::string(v->as_string());
    if (const json::value* v = so.if_contains("value")) s.value = std::string(v->as_string());
    shapes_.emplace(std::string(name), std::move(s));
  }
}

const ServiceModel::Operation* ServiceModel::FindOperation(std::string_view name) const {
  for (const Operation& op : operations_) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

Status ServiceModel::Validate(std::string_view shape, const json::value& value,
                              const std::string& path) const {
  auto it = shapes_.find(shape);
  if (it == shapes_.end()) return Status::Internal("no shape " + std::string(shape) + " in model");
  return Check(it->second, value, path);
}

Status ServiceModel::ValidateInput(const Operation& op, const json::object& input) const {
  if (op.input.empty()) return Status::Ok();
  return Validate(op.input, input, "");
}

Status ServiceModel::Check(const Shape& s, const json::value& v, const std::string& path) const {
  const std::string where = path.empty() ? "input" : path;
  if (s.type == "structure") {
    if (!v.is_object()) return Violation(v, where, "be an object");
    const json::object& o = v.as_object();
    for (const std::string& r : s.required) {
      const json::value* m = o.if_contains(r);
      if (m == nullptr || m->is_null()) {
        return Status::Invalid("1 validation error detected: Value null at '" + Child(path, r) +
                               "' failed to satisfy constraint: Member must not be null");
      }
    }
    for (const Member& m : s.members) {
      const json::value* mv = o.if_contains(m.name);
      if (mv == nullptr || mv->is_null()) continue;
      Status st = Validate(m.shape, *mv, Child(path, m.name));
      if (!st.ok()) return st;
    }
    return Status::Ok();
  }
  if (s.type == "string") {
    if (!v.is_string()) return Violation(v, where, "be a string");
    const std::string str(v.as_string());
    std::optional<size_t> len = Utf8Length(str);
    if (!len) return Violation(v, where, "be valid UTF-8");
    if (s.has_min && static_cast<int64_t>(*len) < s.min) {
      return Violation(v, where, "have length greater than or equal to " + std::to_string(s.min));
    }
    if (s.has_max && static_cast<int64_t>(*len) > s.max) {
      return Violation(v, where, "have length less than or equal to " + std::to_string(s.max));
    }
    if (s.pattern && !std::regex_match(str, *s.pattern)) {
      return Violation(v, where, "satisfy regular expression pattern: " + s.pattern_text);
    }
    if (!s.enums.empty()) {
      bool found = false;
      for (const std::string& e : s.enums) found = found || e == str;
      if (!found) return Violation(v, where, "satisfy enum value set: " + Join(s.enums));
    }
    return Status::Ok();
  }
  if (s.type == "integer" || s.type == "long") {
    if (!v.is_int64() && !v.is_uint64()) return Violation(v, where, "be an integer");
    if (v.is_uint64() && v.as_uint64() > static_cast<uint64_t>(INT64_MAX)) {
      return Violation(v, where, "have value less than or equal to " + std::to_string(s.max));
    }
    const int64_t n = v.to_number<int64_t>();
    if (s.has_min && n < s.min) {
      return Violation(v, where, "have value greater than or equal to " + std::to_string(s.min));
    }
    if (s.has_max && n > s.max) {
      return Violation(v, where, "have value less than or equal to " + std::to_string(s.max));
    }
    return Status::Ok();
  }
  if (s.type == "boolean") {
    if (!v.is_bool()) return Violation(v, where, "be a boolean");
    return Status::Ok();
  }
  if (s.type == "list") {
    if (!v.is_array()) return Violation(v, where, "be a list");
    const json::array& a = v.as_array();
    if (s.has_min && static_cast<int64_t>(a.size()) < s.min) {
      return Violation(v, where, "have length greater than or equal to " + std::to_string(s.min));
    }
    if (s.has_max && static_cast<int64_t>(a.size()) > s.max) {
      return Violation(v, where, "have length less than or equal to " + std::to_string(s.max));
    }
    for (size_t i = 0; i < a.size(); ++i) {
      Status st = Validate(s.member, a[i], where + "." + std::to_string(i + 1) + ".member");
      if (!st.ok()) return st;
    }
    return Status::Ok();
  }
  if (s.type == "map") {
    if (!v.is_object()) return Violation(v, where, "be a map");
    const json::object& o = v.as_object();
    if (s.has_min && static_cast<int64_t>(o.size()) < s.min) {
      return Violation(v, where, "have length greater than or equal to " + std::to_string(s.min));
    }
    if (s.has_max && static_cast<int64_t>(o.size()) > s.max) {
      return Violation(v, where, "have length less than or equal to " + std::to_string(s.max));
    }
    for (const auto& [k, mv] : o) {
      Status st = Validate(s.key, json::value(k), where + ".key");
      if (st.ok()) st = Validate(s.value, mv, where + "." + std::string(k));
      if (!st.ok()) return st;
    }
    return Status::Ok();
  }
  // timestamp, blob and the rest: no request of this face carries them.
  return Status::Ok();
}

}  // namespace rollcall::ivs

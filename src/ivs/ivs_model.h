#ifndef ROLLCALL_IVS_IVS_MODEL_H_
#define ROLLCALL_IVS_IVS_MODEL_H_

#include <boost/json.hpp>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace rollcall::ivs {

// The generated model text (ivs_model_data.cc, from tools/gen_ivs_model.py): chunks of one
// JSON document, ending with nullptr.
extern const char* const kIvsModelJson[];

// The ivs-realtime service model: every operation's HTTP binding and the input shapes, with
// the constraints botocore does not check (maxima, patterns, enums). Immutable once built.
class ServiceModel {
 public:
  struct Operation {
    std::string name;
    std::string method;
    std::string uri;
    std::string input;  // input shape name, "" when none
  };

  // The model built from kIvsModelJson on first use. Thread-safe.
  static const ServiceModel& Get();

  // nullptr when the model has no such operation.
  const Operation* FindOperation(std::string_view name) const;
  const std::vector<Operation>& operations() const { return operations_; }
  bool HasShape(std::string_view name) const { return shapes_.count(std::string(name)) > 0; }

  // Checks `value` against shape `shape` at member path `path`: JSON types, required members,
  // string lengths in code points, list and map sizes, integer ranges, patterns (matching the
  // whole value) and enums. Members the shape does not have are ignored. The first failure is
  // kInvalidArgument in AWS's wording ("1 validation error detected: Value 'x' at 'path'
  // failed to satisfy constraint: Member must ...").
  Status Validate(std::string_view shape, const boost::json::value& value,
                  const std::string& path) const;
  // Validate() of an operation's input (body members, and path/query members placed under
  // their member names). An operation without input accepts anything.
  Status ValidateInput(const Operation& op, const boost::json::object& input) const;

 private:
  struct Member {
    std::string name;
    std::string shape;
  };
  struct Shape {
    std::string type;
    bool has_min = false, has_max = false;
    int64_t min = 0, max = 0;
    std::string pattern_text;
    std::unique_ptr<std::regex> pattern;
    std::vector<std::string> enums;
    std::vector<std::string> required;
    std::vector<Member> members;
    std::string member, key, value;
  };

  ServiceModel();
  Status Check(const Shape& shape, const boost::json::value& value, const std::string& path) const;

  std::vector<Operation> operations_;
  std::map<std::string, Shape, std::less<>> shapes_;
};

}  // namespace rollcall::ivs

#endif  // ROLLCALL_IVS_IVS_MODEL_H_

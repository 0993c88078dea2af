#ifndef ROLLCALL_HTTP_JSON_WRITER_H_
#define ROLLCALL_HTTP_JSON_WRITER_H_

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/time.h"

namespace rollcall::http {

// Appends compact JSON text to a string, without building a document first: the answers
// that carry many rows (searches, participant lists) are written this way. The output is
// byte for byte what boost::json::serialize writes for the same document.
//
// Commas are placed by the writer; the caller pairs Begin/End and puts a Key before every
// member value. Strings are escaped as boost::json does ('"', '\\' and control characters;
// other bytes, UTF-8 included, are copied). Not thread-safe; one writer per answer.
class JsonWriter {
 public:
  // REQUIRES: out outlives the writer.
  explicit JsonWriter(std::string* out) : out_(*out) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view name);

  JsonWriter& String(std::string_view s);
  JsonWriter& OptString(const std::optional<std::string>& s);  // null when absent
  JsonWriter& Int(int64_t n);
  JsonWriter& Bool(bool b);
  JsonWriter& Null();
  JsonWriter& Time(Millis t);                           // RFC 3339 string
  JsonWriter& OptTime(const std::optional<Millis>& t);  // null when absent
  JsonWriter& Value(const boost::json::value& v);       // any document, serialized
  // A value already rendered as JSON text (e.g. an object repeated in every row).
  // REQUIRES: json is one complete JSON value.
  JsonWriter& Raw(std::string_view json);

 private:
  void Separate();

  std::string& out_;
  bool need_comma_ = false;
};

// Escapes s as a JSON string, quotes included, appended to *out.
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace rollcall::http

#endif  // ROLLCALL_HTTP_JSON_WRITER_H_

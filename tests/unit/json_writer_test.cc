#include "http/json_writer.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <random>

namespace rollcall::http {
namespace {

namespace json = boost::json;

// Every byte value, in random strings: the writer escapes exactly as boost::json does.
TEST(JsonWriter, StringsMatchBoostJson) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255), len(0, 40);
  for (int i = 0; i < 5000; ++i) {
    std::string s;
    const int n = len(rng);
    for (int k = 0; k < n; ++k)
      s.push_back(static_cast<char>(i < 256 ? (k == 0 ? i : 'a') : byte(rng)));
    std::string out;
    AppendJsonString(s, &out);
    ASSERT_EQ(out, json::serialize(json::string_view(s.data(), s.size()))) << i;
  }
}

TEST(JsonWriter, DocumentMatchesBoostJson) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("data").BeginArray();
  for (int i = 0; i < 3; ++i) {
    w.BeginObject();
    w.Key("id").Int(-i * 1000000000000LL);
    w.Key("name").String("a\"b\\c\n\x01 \xc3\xa9");
    w.Key("at").Time(1795304540123);
    w.Key("gone").OptTime(std::nullopt);
    w.Key("img").OptString(std::nullopt);
    w.Key("ok").Bool(i == 1);
    w.Key("none").Null();
    w.Key("raw").Raw(R"({"x":[1,2]})");
    w.Key("tree").Value(json::object{{"k", json::array{1, "two", nullptr}}});
    w.Key("empty").BeginArray().EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("length").Int(3);
  w.EndObject();

  json::array data;
  for (int i = 0; i < 3; ++i) {
    data.push_back(json::object{
        {"id", -i * 1000000000000LL},
        {"name", "a\"b\\c\n\x01 \xc3\xa9"},
        {"at", "2026-11-21T23:42:20.123Z"},
        {"gone", nullptr},
        {"img", nullptr},
        {"ok", i == 1},
        {"none", nullptr},
        {"raw", json::object{{"x", json::array{1, 2}}}},
        {"tree", json::object{{"k", json::array{1, "two", nullptr}}}},
        {"empty", json::array{}},
    });
  }
  // boost::json keeps the insertion order of keys.
  EXPECT_EQ(out, json::serialize(json::object{{"data", data}, {"length", 3}}));
}

}  // namespace
}  // namespace rollcall::http

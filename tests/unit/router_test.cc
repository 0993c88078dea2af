#include "http/router.h"

#include <gtest/gtest.h>

namespace rollcall::http {
namespace {

TEST(Router, MatchesPatternsAndCapturesParams) {
  Router r;
  int hit = 0;
  r.Add("GET", "/v1/a/{id}/b", [&](Request&, const PathParams&, Reply) { hit = 1; });
  r.Add("POST", "/v1/a/{id}/b", [&](Request&, const PathParams&, Reply) { hit = 2; });
  r.Add("GET", "/v1/a/list/b", [&](Request&, const PathParams&, Reply) { hit = 3; });
  const Handler* h = nullptr;
  PathParams params;
  ASSERT_EQ(r.Find("POST", "/v1/a/x-1/b", &h, &params), Router::Result::kFound);
  Request req;
  (*h)(req, params, Reply());
  EXPECT_EQ(hit, 2);
  EXPECT_EQ(params, PathParams{"x-1"});
  ASSERT_EQ(r.Find("GET", "/v1/a/list/b", &h, &params), Router::Result::kFound);
  (*h)(req, params, Reply());
  EXPECT_EQ(hit, 1);  // first registered wins
}

TEST(Router, DistinguishesUnknownPathFromWrongMethod) {
  Router r;
  r.Add("GET", "/v1/x", [](Request&, const PathParams&, Reply) {});
  const Handler* h = nullptr;
  PathParams params;
  EXPECT_EQ(r.Find("DELETE", "/v1/x", &h, &params), Router::Result::kNoMethod);
  EXPECT_EQ(r.Find("GET", "/v1/y", &h, &params), Router::Result::kNoPath);
  EXPECT_EQ(r.Find("GET", "/v1/x/", &h, &params), Router::Result::kNoPath);
  EXPECT_EQ(r.Find("GET", "/v1", &h, &params), Router::Result::kNoPath);
}

TEST(Router, EmptySegmentDoesNotMatchAParam) {
  Router r;
  r.Add("GET", "/v1/s/{id}", [](Request&, const PathParams&, Reply) {});
  const Handler* h = nullptr;
  PathParams params;
  EXPECT_EQ(r.Find("GET", "/v1/s/", &h, &params), Router::Result::kNoPath);
}

}  // namespace
}  // namespace rollcall::http

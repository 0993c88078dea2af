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
  EXPECT_EQ(hit, 3);  // the literal segment beats {id}, whatever the order of registration
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

// "/v1/applications/sessions" exists for GET and POST: a PATCH there is 405, not a call of
// the "/v1/applications/{id}" PATCH route with id "sessions".
TEST(Router, ALiteralPathIsNotTakenByAParamRouteOfAnotherMethod) {
  Router r;
  int hit = 0;
  r.Add("PATCH", "/v1/apps/{id}", [&](Request&, const PathParams&, Reply) { hit = 1; });
  r.Add("GET", "/v1/apps/sessions", [&](Request&, const PathParams&, Reply) { hit = 2; });
  r.Add("POST", "/v1/apps/sessions", [&](Request&, const PathParams&, Reply) { hit = 3; });
  const Handler* h = nullptr;
  PathParams params;
  std::vector<std::string> allowed;
  EXPECT_EQ(r.Find("PATCH", "/v1/apps/sessions", &h, &params, &allowed),
            Router::Result::kNoMethod);
  EXPECT_EQ(allowed, (std::vector<std::string>{"GET", "POST"}));
  ASSERT_EQ(r.Find("PATCH", "/v1/apps/a-1", &h, &params), Router::Result::kFound);
  Request req;
  (*h)(req, params, Reply());
  EXPECT_EQ(hit, 1);
  EXPECT_EQ(params, PathParams{"a-1"});
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

#include "http/instream_errors.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace rollcall::http {
namespace {

TEST(InStreamError, MapsEveryDocumentedCode) {
  const std::vector<std::tuple<Code, unsigned, std::string>> table = {
      {Code::kInvalidArgument, 400, "BAD_REQUEST"},
      {Code::kUnauthenticated, 401, "UNAUTHORIZED"},
      {Code::kForbidden, 403, "FORBIDDEN"},
      {Code::kApplicationNotFound, 404, "APPLICATION_NOT_FOUND"},
      {Code::kSessionNotFound, 404, "APPLICATION_SESSION_NOT_FOUND"},
      {Code::kSessionEnded, 409, "APPLICATION_SESSION_ALREADY_ENDED"},
      {Code::kApplicationInactive, 409, "APPLICATION_NOT_ON"},
      {Code::kApplicationDeleted, 409, "APPLICATION_CAN_NOT_MODIFY"},
      {Code::kParticipantNotFound, 404, "PARTICIPANT_JOIN_NOT_FOUND"},
      {Code::kPayloadTooLarge, 413, "PAYLOAD_TOO_LARGE"},
      {Code::kUriTooLong, 414, "URI_TOO_LONG"},
      {Code::kHeadersTooLarge, 431, "REQUEST_HEADER_FIELDS_TOO_LARGE"},
      {Code::kRequestTimeout, 408, "REQUEST_TIMEOUT"},
      {Code::kRateLimited, 429, "TOO_MANY_REQUESTS"},
      {Code::kUnavailable, 503, "SERVICE_UNAVAILABLE"},
  };
  for (const auto& [code, status, name] : table) {
    Response r = InStreamError(Status(code, "why"));
    EXPECT_EQ(r.status, status) << name;
    boost::json::value body = boost::json::parse(r.body);
    EXPECT_EQ(body.at("code").as_string(), name);
    EXPECT_EQ(body.at("message").as_string(), "why");
  }
}

TEST(InStreamError, RetryAfterInWholeSecondsRoundedUp) {
  Response r = InStreamError(Status(Code::kRateLimited, "slow down", 1200));
  EXPECT_EQ(r.status, 429u);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Retry-After");
  EXPECT_EQ(r.headers[0].second, "2");
  EXPECT_TRUE(InStreamError(Status(Code::kRateLimited, "no advice")).headers.empty());
}

}  // namespace
}  // namespace rollcall::http

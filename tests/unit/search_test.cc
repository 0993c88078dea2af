#include "core/search.h"

#include <gtest/gtest.h>

namespace rollcall {
namespace {

Status Parse(Params p, VisitQuery* q) { return ParseVisitQuery(p, q); }

TEST(ParseVisitQuery, Defaults) {
  VisitQuery q;
  ASSERT_TRUE(Parse({}, &q).ok());
  EXPECT_EQ(q.page.page, 0);
  EXPECT_EQ(q.page.size, 20);
  EXPECT_EQ(q.sort, VisitSort::kCreatedAt);
  EXPECT_FALSE(q.ascending);
  EXPECT_TRUE(q.count_total);
  EXPECT_FALSE(q.filtered());
}

TEST(ParseVisitQuery, AllParameters) {
  VisitQuery q;
  ASSERT_TRUE(Parse({{"page", "3"},
                     {"size", "1000"},
                     {"name", "nickname"},
                     {"option", "ASC"},
                     {"firstView", "false"},
                     {"nickname", "KiM"},
                     {"createdStartAt", "2026-11-21T00:00:00Z"},
                     {"createdEndAt", "2026-11-21T09:00:00+09:00"},
                     {"deletedStartAt", "2026-11-21T00:00:00Z"},
                     {"deletedEndAt", "2026-11-22T00:00:00Z"},
                     {"unknown", "ignored"}},
                    &q)
                  .ok());
  EXPECT_EQ(q.page.offset(), 3000);
  EXPECT_EQ(q.sort, VisitSort::kNickname);
  EXPECT_TRUE(q.ascending);
  EXPECT_FALSE(q.count_total);
  EXPECT_EQ(q.nickname_folded, "kim");
  EXPECT_EQ(q.created_from, q.created_to);  // +09:00 honoured
  EXPECT_TRUE(q.filtered());
}

TEST(ParseVisitQuery, SortAliases) {
  VisitQuery q;
  ASSERT_TRUE(Parse({{"sort[name]", "participant_id"}, {"sort[option]", "ASC"}}, &q).ok());
  EXPECT_EQ(q.sort, VisitSort::kParticipantId);
  EXPECT_TRUE(q.ascending);
}

TEST(ParseVisitQuery, EmptyNicknameDoesNotFilter) {
  VisitQuery q;
  ASSERT_TRUE(Parse({{"nickname", ""}}, &q).ok());
  EXPECT_FALSE(q.filtered());
}

TEST(ParseVisitQuery, RejectsBadValues) {
  const std::vector<Params> bad = {
      {{"page", "-1"}},
      {{"page", "x"}},
      {{"page", "1.5"}},
      {{"page", ""}},
      {{"page", "99999999999"}},
      {{"size", "0"}},
      {{"size", "1001"}},
      {{"size", "+5"}},
      {{"name", "created"}},
      {{"name", "CREATED_AT"}},
      {{"option", "asc"}},
      {{"option", "UP"}},
      {{"firstView", "1"}},
      {{"firstView", "TRUE"}},
      {{"nickname", std::string(65, 'a')}},
      {{"nickname", "\xff"}},
      {{"createdStartAt", "2026-11-21"}},
      {{"deletedEndAt", "yesterday"}},
      {{"createdStartAt", "2026-11-22T00:00:00Z"}, {"createdEndAt", "2026-11-21T00:00:00Z"}},
      {{"deletedStartAt", "2026-11-22T00:00:00Z"}, {"deletedEndAt", "2026-11-21T00:00:00Z"}},
  };
  for (const Params& p : bad) {
    VisitQuery q;
    Status s = Parse(p, &q);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << p[0].first << "=" << p[0].second;
    EXPECT_FALSE(s.message().empty());
  }
}

TEST(ParseVisitQuery, EqualBoundsAreAllowed) {
  VisitQuery q;
  EXPECT_TRUE(Parse({{"createdStartAt", "2026-11-21T00:00:00Z"},
                     {"createdEndAt", "2026-11-21T00:00:00Z"}},
                    &q)
                  .ok());
}

TEST(TotalPages, RoundsUp) {
  EXPECT_EQ(TotalPages(0, 20), 0);
  EXPECT_EQ(TotalPages(1, 20), 1);
  EXPECT_EQ(TotalPages(20, 20), 1);
  EXPECT_EQ(TotalPages(21, 20), 2);
}

}  // namespace
}  // namespace rollcall

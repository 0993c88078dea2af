#include "core/ids.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "core/crypto.h"

namespace rollcall {
namespace {

TEST(Uuid, NewIsCanonicalV4AndUnique) {
  std::set<std::string> seen;
  const std::regex v4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  for (int i = 0; i < 1000; ++i) {
    std::string u = NewUuid();
    EXPECT_TRUE(std::regex_match(u, v4)) << u;
    EXPECT_TRUE(IsUuid(u));
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Uuid, Validation) {
  EXPECT_TRUE(IsUuid("3F2504E0-4F89-11D3-9A0C-0305E82C3301"));
  EXPECT_EQ(CanonicalUuid("3F2504E0-4F89-11D3-9A0C-0305E82C3301"),
            "3f2504e0-4f89-11d3-9a0c-0305e82c3301");
  for (const char* bad :
       {"", "3f2504e0", "3f2504e04f8911d39a0c0305e82c3301", "3f2504e0-4f89-11d3-9a0c-0305e82c330",
        "3f2504e0-4f89-11d3-9a0c-0305e82c33011", "3f2504e0_4f89-11d3-9a0c-0305e82c3301",
        "gf2504e0-4f89-11d3-9a0c-0305e82c3301", "{3f2504e0-4f89-11d3-9a0c-0305e82c3301}"}) {
    EXPECT_FALSE(IsUuid(bad)) << bad;
  }
}

TEST(Ids, Formats) {
  EXPECT_TRUE(std::regex_match(NewStageId(), std::regex("[a-zA-Z0-9]{12}")));
  EXPECT_TRUE(std::regex_match(NewStageSessionId(), std::regex("st-[a-zA-Z0-9]{13}")));
  EXPECT_TRUE(std::regex_match(NewAccountId(), std::regex("[1-9][0-9]{11}")));
  EXPECT_TRUE(std::regex_match(NewAccessKeyId(), std::regex("AKIA[A-Z2-7]{16}")));
  EXPECT_EQ(NewSecretAccessKey().size(), 40u);
  EXPECT_TRUE(std::regex_match(NewAdminToken(), std::regex("rca_[a-zA-Z0-9_-]{43}")));
  EXPECT_EQ(StageArn("us-east-1", "123456789012", "AbCdEf123456"),
            "arn:aws:ivs:us-east-1:123456789012:stage/AbCdEf123456");
}

TEST(IvsParticipantIdFor, KeepsFittingIdsAndHashesOthers) {
  EXPECT_EQ(IvsParticipantIdFor("user-1"), "user-1");
  EXPECT_EQ(IvsParticipantIdFor("3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
            "3f2504e0-4f89-11d3-9a0c-0305e82c3301");
  const std::string hashed = IvsParticipantIdFor("kim@example.com");
  EXPECT_TRUE(std::regex_match(hashed, std::regex("h-[0-9a-f]{40}")));
  EXPECT_EQ(hashed, IvsParticipantIdFor("kim@example.com"));
  EXPECT_NE(hashed, IvsParticipantIdFor("lee@example.com"));
  EXPECT_NE(IvsParticipantIdFor(std::string(65, 'a')), std::string(65, 'a'));
}

// Known answers (FIPS 180-2, RFC 4231 case 2), an empty key, and keys alternating on one
// thread (the context is re-keyed per call).
TEST(Crypto, Sha256AndHmacKnownAnswers) {
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(HexEncode(HmacSha256("", "")),
              "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  }
}

TEST(Crypto, RandomBytesDoNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i)
    EXPECT_TRUE(seen.insert(RandomBytes(i % 3 == 0 ? 300 : 16)).second);
}

}  // namespace
}  // namespace rollcall

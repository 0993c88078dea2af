#include "core/secret_box.h"

#include <gtest/gtest.h>

#include "core/crypto.h"

namespace rollcall {
namespace {

TEST(SecretBox, SealsAndOpens) {
  SecretBox box(RandomBytes(SecretBox::kKeySize));
  for (std::string plain : {std::string(), std::string("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                            std::string(5000, 'x'), std::string("\0\1\2", 3)}) {
    const std::string sealed = box.Seal(plain, "AKIA1");
    EXPECT_EQ(sealed.size(), plain.size() + 29);
    if (plain.size() >= 8) {
      EXPECT_EQ(sealed.find(plain), std::string::npos);
    }
    StatusOr<std::string> opened = box.Open(sealed, "AKIA1");
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    EXPECT_EQ(opened.value(), plain);
  }
}

TEST(SecretBox, FreshNonceEveryTime) {
  SecretBox box(RandomBytes(SecretBox::kKeySize));
  EXPECT_NE(box.Seal("same", "ctx"), box.Seal("same", "ctx"));
}

TEST(SecretBox, WrongKeyOrContextDoesNotOpen) {
  SecretBox box(RandomBytes(SecretBox::kKeySize));
  SecretBox other(RandomBytes(SecretBox::kKeySize));
  const std::string sealed = box.Seal("secret", "AKIA1");
  EXPECT_EQ(other.Open(sealed, "AKIA1").status().code(), Code::kInternal);
  EXPECT_EQ(box.Open(sealed, "AKIA2").status().code(), Code::kInternal);
}

TEST(SecretBox, AnyChangedOrMissingByteIsRefused) {
  SecretBox box(RandomBytes(SecretBox::kKeySize));
  const std::string sealed = box.Seal("secret", "ctx");
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string bad = sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_FALSE(box.Open(bad, "ctx").ok()) << "byte " << i;
    EXPECT_FALSE(box.Open(std::string_view(sealed).substr(0, i), "ctx").ok()) << "length " << i;
  }
  EXPECT_FALSE(box.Open(sealed + "x", "ctx").ok());
}

TEST(Hex, DecodesWhatHexEncodeWritesAndNothingElse) {
  const std::string raw = RandomBytes(33);
  EXPECT_EQ(HexDecode(HexEncode(raw)), raw);
  EXPECT_EQ(HexDecode(""), std::string());
  EXPECT_FALSE(HexDecode("abc"));  // odd length
  EXPECT_FALSE(HexDecode("AB"));   // upper case
  EXPECT_FALSE(HexDecode("0g"));
}

}  // namespace
}  // namespace rollcall

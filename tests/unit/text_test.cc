#include "core/text.h"

#include <gtest/gtest.h>

namespace rollcall {
namespace {

TEST(Utf8Length, CountsCodePoints) {
  EXPECT_EQ(Utf8Length(""), 0u);
  EXPECT_EQ(Utf8Length("abc"), 3u);
  EXPECT_EQ(Utf8Length("김민수"), 3u);
  EXPECT_EQ(Utf8Length("😀"), 1u);
}

TEST(Utf8Length, RejectsInvalid) {
  EXPECT_FALSE(Utf8Length("\xff"));
  EXPECT_FALSE(Utf8Length("\xc3"));           // truncated
  EXPECT_FALSE(Utf8Length("\xc0\xaf"));       // overlong
  EXPECT_FALSE(Utf8Length("\xed\xa0\x80"));   // surrogate
  EXPECT_FALSE(Utf8Length("\xf4\x90\x80\x80"));  // above U+10FFFF
}

TEST(HasControlCharacters, FindsC0DelAndC1) {
  EXPECT_FALSE(HasControlCharacters("user-1 김"));
  EXPECT_TRUE(HasControlCharacters(std::string("a\0b", 3)));
  EXPECT_TRUE(HasControlCharacters("a\nb"));
  EXPECT_TRUE(HasControlCharacters("a\x7f"));
  EXPECT_TRUE(HasControlCharacters("a\xc2\x85"));
  EXPECT_FALSE(HasControlCharacters("\xc2\xa0"));  // no-break space is not a control
}

TEST(FoldCase, LowersAsciiOnly) {
  EXPECT_EQ(FoldCase("KiM Ä"), "kim Ä");
}

}  // namespace
}  // namespace rollcall

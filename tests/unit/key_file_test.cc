#include "store/key_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "core/crypto.h"
#include "core/secret_box.h"

namespace rollcall {
namespace {

namespace fs = std::filesystem;

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rollcall-key-" + HexEncode(RandomBytes(6)));
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(KeyFileTest, CreatedOnceWithMode0600ThenReloaded) {
  const std::string path = (dir_ / "sub" / "rollcall.key").string();
  StatusOr<std::string> first = LoadOrCreateKeyFile(path);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first.value().size(), SecretBox::kKeySize);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  StatusOr<std::string> again = LoadOrCreateKeyFile(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value(), first.value());
  // Nothing but the key file is left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "sub"), fs::directory_iterator()), 1);
}

TEST_F(KeyFileTest, ConcurrentCreatorsAgreeOnOneKey) {
  const std::string path = (dir_ / "rollcall.key").string();
  std::vector<std::string> keys(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < keys.size(); ++i) {
    threads.emplace_back([&, i] {
      StatusOr<std::string> k = LoadOrCreateKeyFile(path);
      if (k.ok()) keys[i] = k.value();
    });
  }
  for (auto& t : threads) t.join();
  for (const std::string& k : keys) EXPECT_EQ(k, keys[0]);
  EXPECT_EQ(keys[0].size(), SecretBox::kKeySize);
}

TEST_F(KeyFileTest, RefusesLooseModeAndBadContent) {
  fs::create_directories(dir_);
  const std::string path = (dir_ / "rollcall.key").string();
  ASSERT_TRUE(LoadOrCreateKeyFile(path).ok());
  ::chmod(path.c_str(), 0644);
  StatusOr<std::string> loose = LoadOrCreateKeyFile(path);
  EXPECT_EQ(loose.status().code(), Code::kInvalidArgument);
  EXPECT_NE(loose.status().message().find("chmod 600"), std::string::npos);

  const std::string bad = (dir_ / "bad.key").string();
  std::ofstream(bad) << "not a key\n";
  ::chmod(bad.c_str(), 0600);
  EXPECT_EQ(LoadOrCreateKeyFile(bad).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace rollcall

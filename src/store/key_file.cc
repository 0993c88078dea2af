#include "store/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "core/crypto.h"
#include "core/secret_box.h"

namespace rollcall {
namespace {

constexpr size_t kHexSize = SecretBox::kKeySize * 2;

Status SyncDirectory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return Status::Unavailable("cannot open directory " + dir.string());
  ::fsync(fd);
  ::close(fd);
  return Status::Ok();
}

StatusOr<std::string> ReadKey(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW);
  if (fd < 0) return Status::Unavailable("cannot open key file " + path);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::Invalid("key file " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return Status::Invalid("key file " + path + " is accessible by group or others; chmod 600 it");
  }
  char buf[kHexSize + 2];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n < 0) return Status::Unavailable("cannot read key file " + path);
  std::string_view text(buf, static_cast<size_t>(n));
  if (text.size() == kHexSize + 1 && text.back() == '\n') text.remove_suffix(1);
  std::optional<std::string> key = HexDecode(text);
  if (!key || key->size() != SecretBox::kKeySize) {
    return Status::Invalid("key file " + path + " does not hold a key (64 lowercase hex digits)");
  }
  return *std::move(key);
}

}  // namespace

StatusOr<std::string> LoadOrCreateKeyFile(const std::string& path, bool* created) {
  namespace fs = std::filesystem;
  if (created != nullptr) *created = false;
  std::error_code ec;
  if (fs::exists(fs::symlink_status(path, ec))) return ReadKey(path);

  const fs::path dir = fs::path(path).parent_path();
  if (!dir.empty()) fs::create_directories(dir, ec);
  // Written in full under a private name, then linked into place: readers never see a
  // partial key, and of two processes creating it at once the first link wins.
  const std::string tmp = path + ".new-" + HexEncode(RandomBytes(4));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
  if (fd < 0) return Status::Unavailable("cannot create key file " + path);
  const std::string text = HexEncode(RandomBytes(SecretBox::kKeySize)) + "\n";
  const bool written = ::fchmod(fd, 0600) == 0 &&
                       ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  if (!written) {
    ::unlink(tmp.c_str());
    return Status::Unavailable("cannot write key file " + path);
  }
  const int linked = ::link(tmp.c_str(), path.c_str());
  const int link_errno = errno;
  ::unlink(tmp.c_str());
  if (linked != 0 && link_errno != EEXIST) {
    return Status::Unavailable("cannot create key file " + path);
  }
  if (created != nullptr) *created = linked == 0;
  Status synced = SyncDirectory(dir);
  if (!synced.ok()) return synced;
  return ReadKey(path);
}

}  // namespace rollcall

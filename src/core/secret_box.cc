#include "core/secret_box.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <memory>

#include "core/crypto.h"

namespace rollcall {
namespace {

constexpr char kVersion = 1;
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

SecretBox::SecretBox(std::string key) : key_(std::move(key)) {
  if (key_.size() != kKeySize) std::abort();
}

std::string SecretBox::Seal(std::string_view plaintext, std::string_view context) const {
  const std::string nonce = RandomBytes(kNonceSize);
  std::string out;
  out.reserve(1 + kNonceSize + plaintext.size() + kTagSize);
  out.push_back(kVersion);
  out += nonce;
  out.resize(1 + kNonceSize + plaintext.size());
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  auto* cipher = reinterpret_cast<unsigned char*>(out.data() + 1 + kNonceSize);
  // Each call only fails on allocation failure or misuse: both bugs.
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key_), Bytes(nonce)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(context),
                        static_cast<int>(context.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), cipher, &len, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), cipher + len, &len) != 1) {
    std::abort();
  }
  unsigned char tag[kTagSize];
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, tag) != 1) std::abort();
  out.append(reinterpret_cast<const char*>(tag), kTagSize);
  return out;
}

StatusOr<std::string> SecretBox::Open(std::string_view sealed, std::string_view context) const {
  const Status bad(Code::kInternal, "a sealed secret does not open with this key");
  if (sealed.size() < 1 + kNonceSize + kTagSize || sealed[0] != kVersion) return bad;
  const std::string_view nonce = sealed.substr(1, kNonceSize);
  const std::string_view cipher =
      sealed.substr(1 + kNonceSize, sealed.size() - 1 - kNonceSize - kTagSize);
  std::string tag(sealed.substr(sealed.size() - kTagSize));
  std::string plain(cipher.size(), '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  auto* out = reinterpret_cast<unsigned char*>(plain.data());
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key_), Bytes(nonce)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(context),
                        static_cast<int>(context.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), out, &len, Bytes(cipher), static_cast<int>(cipher.size())) !=
          1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), out + len, &len) != 1) {
    return bad;
  }
  return plain;
}

}  // namespace rollcall

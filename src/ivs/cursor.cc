#include "ivs/cursor.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <memory>

#include "core/crypto.h"
#include "ivs/base64url.h"

namespace rollcall::ivs {
namespace {

constexpr size_t kNonce = 12;
constexpr size_t kTag = 16;

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

std::string CursorKey(std::string_view tenant_secret) {
  return HmacSha256(tenant_secret, "rollcall ivs nextToken v1");
}

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string SealCursor(std::string_view tenant_secret, std::string_view context,
                       std::string_view position) {
  const std::string key = CursorKey(tenant_secret);
  const std::string nonce = RandomBytes(kNonce);
  std::string out = nonce;
  out.resize(kNonce + position.size() + kTag);
  auto* ct = reinterpret_cast<unsigned char*>(out.data() + kNonce);
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key), Bytes(nonce)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(context),
                        static_cast<int>(context.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), ct, &len, Bytes(position), static_cast<int>(position.size())) !=
          1 ||
      EVP_EncryptFinal_ex(ctx.get(), ct + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, ct + position.size()) != 1) {
    std::abort();  // OpenSSL failing on valid input is a bug of the host
  }
  return Base64UrlEncode(out);
}

std::optional<std::string> OpenCursor(std::string_view tenant_secret, std::string_view context,
                                      std::string_view token) {
  std::optional<std::string> raw = Base64UrlDecode(token);
  if (!raw || raw->size() < kNonce + kTag) return std::nullopt;
  const std::string key = CursorKey(tenant_secret);
  const size_t n = raw->size() - kNonce - kTag;
  std::string out(n, '\0');
  auto* pt = reinterpret_cast<unsigned char*>(out.data());
  std::string tag = raw->substr(kNonce + n);
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key), Bytes(*raw)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(context),
                        static_cast<int>(context.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), pt, &len, Bytes(*raw) + kNonce, static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), pt + len, &len) != 1) {
    return std::nullopt;
  }
  return out;
}

}  // namespace rollcall::ivs

#include "core/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <cstring>

namespace rollcall {

namespace {

// OpenSSL 3's one-shot SHA256() and HMAC() look the algorithm up by name on every call (a
// third of a SigV4 check); these keep the fetched algorithm and one context per thread.
const EVP_MD* Sha256Md() {
  static EVP_MD* md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (m == nullptr) std::abort();
    return m;
  }();
  return md;
}

struct ThreadContexts {
  EVP_MD_CTX* digest = nullptr;
  EVP_MAC_CTX* hmac = nullptr;  // digest set; re-keyed per call
  ThreadContexts() {
    digest = EVP_MD_CTX_new();
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (digest == nullptr || mac == nullptr) std::abort();
    hmac = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);  // the context holds its own reference
    char name[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", name, 0),
                                 OSSL_PARAM_construct_end()};
    if (hmac == nullptr || EVP_MAC_CTX_set_params(hmac, params) != 1) std::abort();
  }
  ~ThreadContexts() {
    EVP_MD_CTX_free(digest);
    EVP_MAC_CTX_free(hmac);
  }
};

ThreadContexts& Contexts() {
  thread_local ThreadContexts c;
  return c;
}

}  // namespace

std::string Sha256(std::string_view data) {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  EVP_MD_CTX* ctx = Contexts().digest;
  unsigned int len = 0;
  if (EVP_DigestInit_ex(ctx, Sha256Md(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()), &len) != 1) {
    std::abort();
  }
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  EVP_MAC_CTX* ctx = Contexts().hmac;
  size_t len = 0;
  // A null key would mean "the previous key" to EVP_MAC_init: an empty one is passed non-null.
  static const unsigned char kEmpty = 0;
  const unsigned char* k =
      key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  if (EVP_MAC_init(ctx, k, key.size(), nullptr) != 1 ||
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
      EVP_MAC_final(ctx, reinterpret_cast<unsigned char*>(out.data()), &len, out.size()) != 1) {
    std::abort();
  }
  out.resize(len);
  return out;
}

void RandomFill(void* out, size_t n) {
  // Small draws come from a per-thread block of OpenSSL's CSPRNG output: one RAND_bytes call
  // per 4 KiB instead of one per id (each call costs about a microsecond).
  constexpr size_t kBlock = 4096;
  thread_local unsigned char block[kBlock];
  thread_local size_t used = kBlock;
  auto fill = [](unsigned char* p, size_t len) {
    if (RAND_bytes(p, static_cast<int>(len)) != 1) std::abort();
  };
  auto* dst = static_cast<unsigned char*>(out);
  if (n > kBlock / 16) return fill(dst, n);
  if (kBlock - used < n) {
    fill(block, kBlock);
    used = 0;
  }
  std::memcpy(dst, block + used, n);
  OPENSSL_cleanse(block + used, n);  // each byte is handed out once
  used += n;
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  RandomFill(out.data(), n);
  return out;
}

std::string HexEncode(std::string_view raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::optional<std::string> HexDecode(std::string_view hex) {
  auto digit = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace rollcall

// libFuzzer target: the HTTP request path as a whole. Each input is raw bytes sent over a
// loopback connection to the real server stack (http::Server with its limits and timeouts,
// Beast's parser, the router, the In-Stream and IVS handlers, SigV4, participant tokens,
// Service, the SQLite store), as a client would: one or more pipelined requests, then end of
// input. Beyond the sanitizers, a 500 answer to any input is a finding: every bad input must
// get a 4xx.
//
// The seed corpus (fuzz/corpus/http_request_fuzzer/) uses the fixed credentials below, which
// the target puts back before every input (an input may rotate the key, end the session or
// delete the application). The clock stands still at kNow, so the corpus's SigV4 signatures
// (X-Amz-Date 20261118T080000Z) and participant tokens stay valid; the access key's secret is
// stored sealed, as serve stores it. tests/fuzz/sign_corpus.py writes the signed inputs.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "core/crypto.h"
#include "core/rate_limiter.h"
#include "core/secret_box.h"
#include "core/service.h"
#include "http/api.h"
#include "http/server.h"
#include "store/store.h"

namespace rollcall {
namespace {

constexpr char kApiKey[] = "0f0f0f0f-0000-4000-8000-00000000a11e";
constexpr char kAdminToken[] = "rca_fuzz-admin-token";
constexpr char kAppUuid[] = "a0000000-0000-4000-8000-000000000001";
constexpr char kSessionUuid[] = "5e000000-0000-4000-8000-000000000001";
constexpr char kAccessKeyId[] = "AKIAFUZZFUZZFUZZFUZZ";
constexpr char kSecretAccessKey[] = "fuzzsecretfuzzsecretfuzzsecretfuzzsecret";
constexpr char kTenantKeyId[] = "f0f0f0f0f0f0f0f0";
constexpr char kTenantKeySecret[] = "fuzz-tenant-key-secret-32-bytes!";
constexpr char kKeyEncryptionKey[] = "fuzz-key-encryption-key-32-bytes";
constexpr Millis kNow = 1794988800000;  // 2026-11-18T08:00:00Z

struct World {
  std::unique_ptr<Store> store;
  ManualClock clock{kNow};
  SecretBox box{kKeyEncryptionKey};
  std::unique_ptr<Service> service;
  std::unique_ptr<RateLimiter> limiter;
  std::unique_ptr<http::Api> api;
  std::unique_ptr<http::Server> server;
  std::thread thread;
  RowId tenant = 0, app = 0, session = 0;
};

// Reachable from a global for the whole run: the server thread never stops.
World* world = nullptr;
// The store's directory, removed at exit (the open files go with the process).
std::filesystem::path* store_dir = nullptr;

void RemoveStoreDir() {
  std::error_code ec;
  std::filesystem::remove_all(*store_dir, ec);
}

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "http_request_fuzzer: %s\n", why.c_str());
  std::abort();
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.message());
}

Status CreateFixture(Tx& tx, World& w) {
  Tenant t;
  t.name = "fuzz";
  t.account_id = "123456789012";
  tx.InsertTenant(&t, Sha256(kAdminToken));
  Application a;
  a.tenant_id = t.id;
  a.uuid = kAppUuid;
  a.stage_id = "fuzzstage001";
  a.name = "fuzz";
  tx.InsertApplication(&a, Sha256(kApiKey));
  Session s;
  s.tenant_id = t.id;
  s.application_id = a.id;
  s.uuid = kSessionUuid;
  s.stage_session_id = "st-fuzzsession01";
  tx.InsertSession(&s);
  a.active_session_id = s.id;
  tx.UpdateApplication(a);
  tx.InsertTenantKey(TenantKey{t.id, kTenantKeyId, kTenantKeySecret, kNow});
  w.tenant = t.id;
  w.app = a.id;
  w.session = s.id;
  return Status::Ok();
}

// Whether the fixture is as the corpus expects: key valid, application active, our session
// its active one.
bool FixtureIntact(World& w) {
  bool intact = false;
  Check(w.store->Read([&](Tx& tx) {
    std::optional<Application> a = tx.FindApplicationByKeyHash(Sha256(kApiKey));
    std::optional<Session> s = tx.GetSession(w.tenant, w.session);
    intact = a && a->id == w.app && a->status == AppStatus::kActive &&
             a->active_session_id == w.session && s && s->active();
    return Status::Ok();
  }),
        "read fixture");
  return intact;
}

Status RestoreFixture(Tx& tx, World& w) {
  std::optional<Application> a = tx.GetApplication(w.tenant, w.app);
  std::optional<Session> ours = tx.GetSession(w.tenant, w.session);
  if (!a || !ours) return Status::Internal("fixture rows vanished");
  if (a->active_session_id && *a->active_session_id != w.session) {
    std::optional<Session> other = tx.GetSession(w.tenant, *a->active_session_id);
    if (other) rules::EndSessionIn(tx, &*a, &*other, w.clock.Now(), "FUZZ_RESET");
  }
  ours->deleted_at.reset();
  tx.UpdateSession(*ours);
  a->status = AppStatus::kActive;
  a->active_session_id = w.session;
  tx.UpdateApplication(*a);
  tx.SetApiKeyHash(w.tenant, w.app, Sha256(kApiKey));
  return Status::Ok();
}

void Start() {
  namespace fs = std::filesystem;
  const fs::path base =
      fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
  const fs::path dir = base / ("rollcall-fuzz-" + HexEncode(RandomBytes(6)));
  fs::create_directories(dir);
  store_dir = new fs::path(dir);
  std::atexit(RemoveStoreDir);
  auto* w = new World();
  StatusOr<std::unique_ptr<Store>> store = OpenStore("sqlite:" + (dir / "fuzz.db").string(), {});
  if (!store.ok()) Die(store.status().message());
  w->store = std::move(store.value());
  Check(w->store->WriteAndWait([w](Tx& tx) { return CreateFixture(tx, *w); }), "fixture");
  w->service = std::make_unique<Service>(w->store.get(), &w->clock, "us-east-1");
  w->service->set_secret_box(&w->box);
  // The access key goes in as a row written before secrets were sealed, and is sealed the
  // way serve seals such rows at start.
  Check(w->store->WriteAndWait([w](Tx& tx) {
    tx.InsertAccessKey(AccessKey{kAccessKeyId, w->tenant, kSecretAccessKey, kNow});
    return Status::Ok();
  }),
        "access key");
  StatusOr<int64_t> sealed = w->service->SealStoredSecrets("the fuzzer's key");
  if (!sealed.ok() || sealed.value() != 1) Die("the access key was not sealed");
  // Generous: the limiter's path runs, but inputs are not refused for their number.
  w->limiter = std::make_unique<RateLimiter>(RateLimit{1e6, 1e6}, &w->clock);
  w->service->set_rate_limiter(w->limiter.get());
  w->api = std::make_unique<http::Api>(w->service.get());
  http::ServerOptions o;
  o.port = 0;
  o.threads = 1;
  o.log_requests = false;
  o.header_timeout = std::chrono::milliseconds(2000);
  o.body_timeout = std::chrono::milliseconds(2000);
  http::Api* api = w->api.get();
  w->server = std::make_unique<http::Server>(
      o,
      [api](http::Request&& req, http::Reply reply) {
        api->Handle(std::move(req), std::move(reply));
      },
      [api](std::string_view path, const Status& s) { return api->TransportError(path, s); });
  Check(w->server->Listen(), "listen");
  w->thread = std::thread([w] { w->server->Run(); });
  world = w;
}

// Sends the input, half-closes, reads every byte of the answer until the server closes.
std::string Exchange(const uint8_t* data, size_t size) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) Die("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(world->server->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) Die("connect");
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  size_t sent = 0;
  while (sent < size) {
    const ssize_t n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server answered and closed early
    sent += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string answer;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno != ECONNRESET) Die("the server did not close the connection in time");
    if (n <= 0) break;
    answer.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return answer;
}

}  // namespace
}  // namespace rollcall

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rollcall;
  if (world == nullptr) Start();
  if (!FixtureIntact(*world)) {
    Check(world->store->WriteAndWait([](Tx& tx) { return RestoreFixture(tx, *world); }),
          "restore fixture");
  }
  const std::string answer = Exchange(data, size);
  if (answer.find("HTTP/1.1 500 ") != std::string::npos) {
    std::fprintf(stderr, "http_request_fuzzer: a 500 answer:\n%s\n", answer.c_str());
    std::abort();
  }
  return 0;
}

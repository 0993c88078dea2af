// rollcall: wiring only. See app/options.h for the command line.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "app/options.h"
#include "app/periodic.h"
#include "core/ids.h"
#include "core/rate_limiter.h"
#include "core/reaper.h"
#include "core/secret_box.h"
#include "core/service.h"
#include "http/api.h"
#include "http/server.h"
#include "store/key_file.h"
#include "store/store.h"

namespace rollcall {
namespace {

namespace json = boost::json;

constexpr char kVersion[] = "rollcall 0.1.0";

int Fail(const Status& s) {
  std::cerr << "rollcall: " << s.message() << "\n";
  return s.code() == Code::kInvalidArgument ? 2 : 1;
}

StatusOr<std::unique_ptr<Store>> Open(const Options& o) {
  constexpr std::string_view kSqlite = "sqlite:";
  if (o.database.rfind(kSqlite, 0) == 0) {
    std::filesystem::path parent = std::filesystem::path(o.database.substr(kSqlite.size())).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  }
  StoreOptions so;
  so.pool = o.pool;
  return OpenStore(o.database, so);
}

// Loads (or at first start creates) the key file, seals secrets with it from now on, and seals
// the access keys still stored in plaintext. A key file that does not open the database's key
// check value or stored secrets: kInvalidArgument, and the caller stops; the key file is
// removed if this call created it (nothing was sealed with it: the transaction rolled back).
StatusOr<std::unique_ptr<SecretBox>> UseKeyFile(Service& service, const Options& o) {
  bool created = false;
  StatusOr<std::string> key = LoadOrCreateKeyFile(o.key_file, &created);
  if (!key.ok()) return key.status();
  auto box = std::make_unique<SecretBox>(std::move(key.value()));
  service.set_secret_box(box.get());
  StatusOr<int64_t> sealed = service.SealStoredSecrets(o.key_file);
  if (!sealed.ok()) {
    service.set_secret_box(nullptr);
    if (created && sealed.status().code() == Code::kInvalidArgument) {
      std::error_code ec;
      std::filesystem::remove(o.key_file, ec);
    }
    return sealed.status();
  }
  if (sealed.value() > 0) {
    std::cerr << "rollcall: sealed " << sealed.value()
              << " secret access key(s) stored in plaintext with " << o.key_file << std::endl;
  }
  return box;
}

json::object CredentialsJson(const TenantCredentials& c) {
  return json::object{{"tenantId", std::to_string(c.tenant.id)},
                      {"name", c.tenant.name},
                      {"accountId", c.tenant.account_id},
                      {"adminToken", c.admin_token},
                      {"accessKeyId", c.access_key.access_key_id},
                      {"secretAccessKey", c.access_key.secret_access_key}};
}

Status WritePrivateFile(const std::string& path, const std::string& content) {
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return Status::Unavailable("cannot write " + path);
  ::fchmod(fd, 0600);
  const bool ok = ::write(fd, content.data(), content.size()) ==
                  static_cast<ssize_t>(content.size());
  ::close(fd);
  return ok ? Status::Ok() : Status::Unavailable("cannot write " + path);
}

void Bootstrap(Service& service, const Options& o, const std::string& host, uint16_t port) {
  StatusOr<std::optional<std::pair<TenantCredentials, NewApplication>>> r =
      service.Bootstrap("default", AppType::kLive);
  if (!r.ok()) {
    std::cerr << "rollcall: bootstrap failed: " << r.status().message() << "\n";
    return;
  }
  if (!r.value()) return;
  const auto& [creds, app] = *r.value();
  json::object o2 = CredentialsJson(creds);
  o2["applicationId"] = app.app.uuid;
  o2["apiKey"] = app.api_key;
  o2["stageArn"] = StageArn(service.region(), creds.tenant.account_id, app.app.stage_id);
  const std::string base = "http://" + host + ":" + std::to_string(port);
  o2["endpoint"] = base;
  o2["curl"] = "curl -s -X POST -H 'ApiKey: " + app.api_key + "' " + base +
               "/v1/applications/sessions";
  const std::string text = json::serialize(o2);
  Status s = WritePrivateFile(o.bootstrap_file, text + "\n");
  std::cout << "rollcall: created tenant 'default' with one LIVE application. These secrets are "
               "shown once"
            << (s.ok() ? " (also in " + o.bootstrap_file + ", mode 0600)" : std::string())
            << ":\n"
            << "  admin token:       " << creds.admin_token << "\n"
            << "  ApiKey:            " << app.api_key << "\n"
            << "  access key id:     " << creds.access_key.access_key_id << "\n"
            << "  secret access key: " << creds.access_key.secret_access_key << "\n"
            << "  stage ARN:         " << o2["stageArn"].as_string().c_str() << "\n"
            << "Try:\n  " << o2["curl"].as_string().c_str() << "\n"
            << std::flush;
}

// Each connection takes a descriptor: lift the soft limit to the hard one.
void RaiseDescriptorLimit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
}

std::chrono::milliseconds Seconds(double s) {
  return std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
}

int Serve(const Options& o) {
  const size_t colon = o.listen.rfind(':');
  if (colon == std::string::npos) return Fail(Status::Invalid("--listen must be HOST:PORT"));
  http::ServerOptions so;
  so.host = o.listen.substr(0, colon);
  try {
    const int port = std::stoi(o.listen.substr(colon + 1));
    if (port < 0 || port > 65535) throw std::out_of_range("port");
    so.port = static_cast<uint16_t>(port);
  } catch (const std::exception&) {
    return Fail(Status::Invalid("--listen must be HOST:PORT"));
  }
  so.threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  so.log_requests = o.log_requests;
  so.max_connections = static_cast<size_t>(o.max_connections);
  so.header_timeout = Seconds(o.header_timeout);
  so.body_timeout = Seconds(o.body_timeout);
  so.idle_timeout = Seconds(o.idle_timeout);
  RaiseDescriptorLimit();

  // Signals are taken by one thread with sigwait; block them before any other thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  StatusOr<std::unique_ptr<Store>> store = Open(o);
  if (!store.ok()) return Fail(store.status());
  SystemClock clock;
  Service service(store.value().get(), &clock, o.region);
  StatusOr<std::unique_ptr<SecretBox>> box = UseKeyFile(service, o);
  if (!box.ok()) return Fail(box.status());
  RateLimiter limiter(RateLimit{o.rate_limit, o.rate_burst}, &clock);
  if (limiter.enabled()) service.set_rate_limiter(&limiter);
  http::Api api(&service);
  http::Server server(
      so, [&api](http::Request&& req, http::Reply reply) { api.Handle(std::move(req), std::move(reply)); },
      [&api](std::string_view path, const Status& s) { return api.TransportError(path, s); });
  Status listening = server.Listen();
  if (!listening.ok()) return Fail(listening);
  Bootstrap(service, o, so.host, server.port());
  std::cout << "rollcall: serving on " << so.host << ":" << server.port() << " over "
            << RedactedUrl(o.database) << " with " << so.threads << " threads" << std::endl;

  Reaper reaper(store.value().get(), &clock);
  PeriodicTask reaping(std::chrono::milliseconds(o.reaper_interval_ms), [&reaper] {
    StatusOr<Reaper::Pass> pass = reaper.RunOnce();
    if (!pass.ok()) std::cerr << "rollcall: reaper: " << pass.status().message() << "\n";
  });

  std::thread waiter([&server, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    server.Stop();
  });
  server.Run();
  reaping.Stop();
  store.value()->Close();
  std::cout << "rollcall: stopped" << std::endl;
  // The signal thread has returned once Run() did: Stop() is only called from it.
  waiter.join();
  return 0;
}

int Main(int argc, char** argv) {
  StatusOr<Options> parsed = ParseOptions(argc, argv);
  if (!parsed.ok()) return Fail(parsed.status());
  const Options& o = parsed.value();
  if (o.command == "help") {
    std::cout << o.help;
    return 0;
  }
  if (o.command == "version") {
    std::cout << kVersion << "\n";
    return 0;
  }
  if (o.command == "serve") return Serve(o);

  StatusOr<std::unique_ptr<Store>> store = Open(o);
  if (!store.ok()) return Fail(store.status());
  SystemClock clock;
  Service service(store.value().get(), &clock, o.region);
  std::unique_ptr<SecretBox> box;
  if (o.command == "migrate" || o.command == "tenant-create") {
    StatusOr<std::unique_ptr<SecretBox>> opened = UseKeyFile(service, o);
    if (!opened.ok()) {
      store.value()->Close();
      return Fail(opened.status());
    }
    box = std::move(opened.value());
  }
  int rc = 0;
  if (o.command == "migrate") {
    std::cout << "rollcall: schema is up to date in " << RedactedUrl(o.database) << "\n";
  } else if (o.command == "backup") {
    Status s = store.value()->Backup(o.backup_to);
    if (!s.ok()) {
      rc = Fail(s);
    } else {
      std::cout << "rollcall: backed up " << RedactedUrl(o.database) << " to " << o.backup_to << "\n";
    }
  } else if (o.command == "tenant-create") {
    StatusOr<TenantCredentials> c = service.CreateTenant(o.tenant_name);
    if (!c.ok()) {
      rc = Fail(c.status());
    } else {
      std::cout << json::serialize(CredentialsJson(c.value())) << "\n";
    }
  } else if (o.command == "tenant-list") {
    StatusOr<std::vector<Tenant>> ts = service.ListTenants();
    if (!ts.ok()) {
      rc = Fail(ts.status());
    } else {
      json::array a;
      for (const Tenant& t : ts.value()) {
        a.push_back(json::object{{"tenantId", std::to_string(t.id)},
                                 {"name", t.name},
                                 {"accountId", t.account_id},
                                 {"createdAt", FormatTimestamp(t.created_at)}});
      }
      std::cout << json::serialize(a) << "\n";
    }
  }
  store.value()->Close();
  return rc;
}

}  // namespace
}  // namespace rollcall

int main(int argc, char** argv) { return rollcall::Main(argc, argv); }

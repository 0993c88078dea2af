#include "app/options.h"

#include <boost/program_options.hpp>
#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace rollcall {

namespace po = boost::program_options;

namespace {

constexpr char kUsage[] =
    "rollcall: participant presence and attendance service\n"
    "\n"
    "Usage:\n"
    "  rollcall serve   [--listen 127.0.0.1:8080] [--database URL] [--region us-east-1]\n"
    "                   [--threads N] [--pool N] [--bootstrap-file var/bootstrap.json] [--quiet]\n"
    "                   [--key-file FILE]\n"
    "                   [--rate-limit R] [--rate-burst B] [--max-connections N]\n"
    "                   [--header-timeout S] [--body-timeout S] [--idle-timeout S]\n"
    "                   [--reaper-interval-ms 500]\n"
    "  rollcall tenant create --name NAME [--database URL] [--key-file FILE]\n"
    "                                                        # prints JSON credentials, once\n"
    "  rollcall tenant list   [--database URL]\n"
    "  rollcall migrate [--database URL] [--key-file FILE]    # schema up to date, then exit\n"
    "  rollcall backup --to FILE [--database URL]             # online copy of a SQLite store\n"
    "  rollcall --help | --version\n"
    "\n"
    "Database URLs: sqlite:PATH (default sqlite:var/rollcall.db) or\n"
    "postgresql://user@host:port/db (several processes may share one database).\n"
    "Environment: ROLLCALL_LISTEN, ROLLCALL_DATABASE, ROLLCALL_REGION (flags win).\n"
    "\n"
    "serve answers the In-Stream API under /v1 and /api/v1, the IVS Real-Time API (aws\n"
    "ivs-realtime --endpoint-url, SigV4 with the tenant's access key pair; docs/ivs.md) with\n"
    "its client presence endpoints /v1/stage/*, GET /healthz, /readyz and\n"
    "/metrics. On an empty store it creates tenant 'default' with one LIVE application and\n"
    "prints its credentials once (also written to the bootstrap file, mode 0600).\n"
    "\n"
    "Options:\n";

}  // namespace

StatusOr<Options> ParseOptions(int argc, char** argv) {
  Options o;
  if (const char* v = std::getenv("ROLLCALL_LISTEN")) o.listen = v;
  if (const char* v = std::getenv("ROLLCALL_DATABASE")) o.database = v;
  if (const char* v = std::getenv("ROLLCALL_REGION")) o.region = v;
  if (const char* v = std::getenv("ROLLCALL_KEY_FILE")) o.key_file = v;

  po::options_description flags;
  flags.add_options()("help,h", "print this help")("version", "print the version")(
      "listen", po::value(&o.listen), "address:port to serve on")(
      "database", po::value(&o.database), "sqlite:PATH or postgresql://user@host:port/db")(
      "region", po::value(&o.region), "AWS region written in ARNs")(
      "threads", po::value(&o.threads), "I/O threads (default: one per core)")(
      "pool", po::value(&o.pool), "PostgreSQL connections per process (default 8)")(
      "name", po::value(&o.tenant_name), "tenant name, for tenant create")(
      "key-file", po::value(&o.key_file),
      "key that encrypts the secret access keys in the database; created (mode 0600) when "
      "missing; every process sharing a database needs the same file (default: beside the "
      "SQLite file, PATH.key, or var/rollcall.key)")(
      "bootstrap-file", po::value(&o.bootstrap_file),
      "where serve writes the first credentials on an empty store")(
      "quiet", "no per-request log lines")(
      "rate-limit", po::value(&o.rate_limit),
      "requests per second each credential (ApiKey, admin token, access key) may make; "
      "over it: 429 with Retry-After (default 0: unlimited)")(
      "rate-burst", po::value(&o.rate_burst),
      "requests a credential may make at once before --rate-limit applies (default: one "
      "second's worth)")(
      "max-connections", po::value(&o.max_connections),
      "open connections at once; more are answered 503 (default 10000)")(
      "header-timeout", po::value(&o.header_timeout),
      "seconds a client has to send a request's header once it started (default 10): 408")(
      "body-timeout", po::value(&o.body_timeout),
      "seconds a client has to send a request's body after its header (default 30): 408")(
      "idle-timeout", po::value(&o.idle_timeout),
      "seconds a kept-alive connection may wait for its next request (default 60)")(
      "to", po::value(&o.backup_to), "backup: the file to write the copy to")(
      "reaper-interval-ms", po::value(&o.reaper_interval_ms),
      "how often serve closes timed-out visits and ends idle sessions (default 500; "
      "docs/presence.md)");
  po::options_description hidden;
  std::vector<std::string> words;
  hidden.add_options()("words", po::value(&words));
  po::options_description all;
  all.add(flags).add(hidden);
  po::positional_options_description pos;
  pos.add("words", -1);

  std::ostringstream help;
  help << kUsage << flags;
  o.help = help.str();

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Status::Invalid(std::string(e.what()) + "\n\n" + o.help);
  }
  if (vm.count("quiet")) o.log_requests = false;
  if (vm.count("help")) {
    o.command = "help";
    return o;
  }
  if (vm.count("version")) {
    o.command = "version";
    return o;
  }
  const std::string joined = words.empty() ? "" : words.size() == 1 ? words[0]
                                                                    : words[0] + " " + words[1];
  if (words.empty()) return Status::Invalid("a command is required\n\n" + o.help);
  if (words[0] == "serve" && words.size() == 1) {
    o.command = "serve";
  } else if (words[0] == "migrate" && words.size() == 1) {
    o.command = "migrate";
  } else if (words[0] == "backup" && words.size() == 1) {
    if (o.backup_to.empty()) return Status::Invalid("backup needs --to FILE");
    o.command = "backup";
  } else if (joined == "tenant create" && words.size() == 2) {
    if (o.tenant_name.empty()) return Status::Invalid("tenant create needs --name NAME");
    o.command = "tenant-create";
  } else if (joined == "tenant list" && words.size() == 2) {
    o.command = "tenant-list";
  } else {
    return Status::Invalid("unknown command: " + joined + "\n\n" + o.help);
  }
  if (o.threads < 0 || o.threads > 256) return Status::Invalid("--threads must be 0..256");
  if (o.max_connections < 1) return Status::Invalid("--max-connections must be at least 1");
  using Timeout = std::pair<const char*, double>;
  for (const auto& [name, v] : {Timeout{"--header-timeout", o.header_timeout},
                                Timeout{"--body-timeout", o.body_timeout},
                                Timeout{"--idle-timeout", o.idle_timeout}}) {
    if (!(v > 0 && v <= 86400)) {
      return Status::Invalid(std::string(name) + " must be more than 0 and at most 86400");
    }
  }
  if (!(o.rate_limit >= 0) || !(o.rate_burst >= 0)) {
    return Status::Invalid("--rate-limit and --rate-burst must not be negative");
  }
  if (o.pool < 2 || o.pool > 1000) return Status::Invalid("--pool must be 2..1000");
  if (o.reaper_interval_ms < 10 || o.reaper_interval_ms > 60000) {
    return Status::Invalid("--reaper-interval-ms must be 10..60000");
  }
  if (o.key_file.empty()) {
    constexpr std::string_view kSqlite = "sqlite:";
    if (o.database.rfind(kSqlite, 0) == 0 && o.database.size() > kSqlite.size()) {
      o.key_file =
          std::filesystem::path(o.database.substr(kSqlite.size())).replace_extension(".key");
    } else {
      o.key_file = "var/rollcall.key";
    }
  }
  return o;
}

}  // namespace rollcall

#include "app/options.h"

#include <boost/program_options.hpp>
#include <cstdlib>
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
    "  rollcall tenant create --name NAME [--database URL]   # prints JSON credentials, once\n"
    "  rollcall tenant list   [--database URL]\n"
    "  rollcall migrate [--database URL]                      # schema up to date, then exit\n"
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

  po::options_description flags;
  flags.add_options()("help,h", "print this help")("version", "print the version")(
      "listen", po::value(&o.listen), "address:port to serve on")(
      "database", po::value(&o.database), "sqlite:PATH or postgresql://user@host:port/db")(
      "region", po::value(&o.region), "AWS region written in ARNs")(
      "threads", po::value(&o.threads), "I/O threads (default: one per core)")(
      "pool", po::value(&o.pool), "PostgreSQL connections per process (default 8)")(
      "name", po::value(&o.tenant_name), "tenant name, for tenant create")(
      "bootstrap-file", po::value(&o.bootstrap_file),
      "where serve writes the first credentials on an empty store")(
      "quiet", "no per-request log lines");
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
  } else if (joined == "tenant create" && words.size() == 2) {
    if (o.tenant_name.empty()) return Status::Invalid("tenant create needs --name NAME");
    o.command = "tenant-create";
  } else if (joined == "tenant list" && words.size() == 2) {
    o.command = "tenant-list";
  } else {
    return Status::Invalid("unknown command: " + joined + "\n\n" + o.help);
  }
  if (o.threads < 0 || o.threads > 256) return Status::Invalid("--threads must be 0..256");
  if (o.pool < 2 || o.pool > 1000) return Status::Invalid("--pool must be 2..1000");
  return o;
}

}  // namespace rollcall

#ifndef ROLLCALL_APP_OPTIONS_H_
#define ROLLCALL_APP_OPTIONS_H_

#include <string>
#include <vector>

#include "core/status.h"

namespace rollcall {

// The command line of the `rollcall` binary. Flags win over ROLLCALL_* environment variables.
struct Options {
  std::string command;     // serve | tenant-create | tenant-list | migrate | backup | help | version
  std::string listen = "127.0.0.1:8080";
  std::string database = "sqlite:var/rollcall.db";
  std::string region = "us-east-1";
  int threads = 0;         // 0: one per core
  int pool = 8;            // PostgreSQL connections per process
  std::string tenant_name;
  std::string bootstrap_file = "var/bootstrap.json";
  // The key-encryption key of secret access keys (store/key_file.h). Default: beside a SQLite
  // file with the extension .key (sqlite:var/rollcall.db -> var/rollcall.key), otherwise
  // var/rollcall.key. Every process sharing a database must use the same key.
  std::string key_file;
  bool log_requests = true;
  int reaper_interval_ms = 500;  // how often serve closes timed-out visits and idle sessions
  // serve: transport limits (see http::ServerOptions) and the per-credential rate limit.
  int max_connections = 10000;
  double header_timeout = 10;  // seconds
  double body_timeout = 30;    // seconds
  double idle_timeout = 60;    // seconds
  double rate_limit = 0;       // requests per second per credential; 0: unlimited
  double rate_burst = 0;       // 0: one second's worth of rate_limit
  std::string backup_to;       // backup: the file to write
  std::string help;        // the text for `--help`
};

// Parses argv. Bad usage: kInvalidArgument with a message for the user.
StatusOr<Options> ParseOptions(int argc, char** argv);

}  // namespace rollcall

#endif  // ROLLCALL_APP_OPTIONS_H_

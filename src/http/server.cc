#include "http/server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/ids.h"

namespace rollcall::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

struct Shared {
  ServerOptions options;
  Server::Handler handler;
  ErrorRenderer errors;
  std::atomic<int64_t> in_flight{0};
  std::atomic<bool> stopping{false};
};

// Percent-encodes the '[' and ']' of the query. RFC 3986 does not allow them there raw, but
// clients send them so (curl -g, PHP-style encoders): sort[name]=nickname.
std::string EscapeQueryBrackets(std::string_view target) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return std::string(target);
  std::string out(target.substr(0, q + 1));
  for (char c : target.substr(q + 1)) {
    if (c == '[') {
      out += "%5B";
    } else if (c == ']') {
      out += "%5D";
    } else {
      out += c;
    }
  }
  return out;
}

void LogRequest(const std::string& method, const std::string& path, unsigned status,
                std::chrono::steady_clock::time_point start, const std::string& request_id) {
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  char line[512];
  const int n = std::snprintf(line, sizeof line, "%s %.200s %u %.2fms %s\n", method.c_str(),
                              path.c_str(), status, ms, request_id.c_str());
  if (n > 0) std::fwrite(line, 1, std::min<size_t>(static_cast<size_t>(n), sizeof line - 1), stderr);
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, Shared* shared)
      : stream_(std::move(socket)), shared_(*shared) {}

  void Start() { ReadHeader(); }

 private:
  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_.options.header_limit));
    parser_->body_limit(shared_.options.body_limit);
    stream_.expires_after(shared_.options.idle_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) {
      // The parser refuses a too-large Content-Length here, after reading the request line:
      // the path still picks the face that renders the error.
      const std::string target(parser_->get().target());
      return FailRead(ec, target.substr(0, target.find('?')));
    }
    start_ = std::chrono::steady_clock::now();
    auto& req = parser_->get();
    const std::string path(req.target().substr(0, req.target().find('?')));
    if (auto len = parser_->content_length(); len && *len > shared_.options.body_limit) {
      return SendError(path, Status(Code::kPayloadTooLarge, "request body is larger than " +
                                                                std::to_string(shared_.options.body_limit) +
                                                                " bytes"),
                       false);
    }
    if (beast::iequals(req[bhttp::field::expect], "100-continue")) {
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                      req.version());
      bhttp::async_write(stream_, *cont,
                         [self = shared_from_this(), cont](beast::error_code ec, size_t) {
                           if (ec) return self->Close();
                           self->ReadBody();
                         });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    stream_.expires_after(shared_.options.idle_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        self->OnBody(ec);
                      });
  }

  void FailRead(beast::error_code ec, const std::string& path) {
    if (ec == bhttp::error::body_limit) {
      return SendError(path, Status(Code::kPayloadTooLarge, "request body is too large"), false);
    }
    if (ec == bhttp::error::header_limit) {
      Response r = shared_.errors(path, Status::Invalid("request header fields too large"));
      r.status = 431;
      return Send(std::move(r), false, NewUuid(), path);
    }
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
        ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == bhttp::error::partial_message) {
      return Close();
    }
    SendError(path, Status::Invalid("malformed HTTP request: " + ec.message()), false);
  }

  void OnBody(beast::error_code ec) {
    auto& msg = parser_->get();
    const std::string target(msg.target());
    const std::string path = target.substr(0, target.find('?'));
    if (ec) return FailRead(ec, path);

    Request req;
    req.method = std::string(msg.method_string());
    req.target = target;
    req.request_id = NewUuid();
    const std::string escaped = EscapeQueryBrackets(target);
    auto parsed = boost::urls::parse_origin_form(escaped);
    if (!parsed) {
      return SendError(path, Status::Invalid("malformed request target"), msg.keep_alive());
    }
    req.raw_path = std::string(parsed->encoded_path());
    req.path = std::string(parsed->path());
    req.raw_query = std::string(parsed->encoded_query());
    for (auto p : parsed->params()) req.query.emplace_back(p.key, p.has_value ? p.value : "");
    for (const auto& f : msg) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    req.body = std::move(msg.body());
    keep_alive_ = msg.keep_alive() && !shared_.stopping.load();
    method_ = req.method;
    path_ = req.path;
    request_id_ = req.request_id;

    shared_.in_flight.fetch_add(1);
    auto executor = stream_.get_executor();
    Reply reply = [self = shared_from_this(), executor](Response r) {
      asio::post(executor, [self, r = std::move(r)]() mutable {
        self->shared_.in_flight.fetch_sub(1);
        self->Send(std::move(r), self->keep_alive_, self->request_id_, self->path_);
      });
    };
    shared_.handler(std::move(req), std::move(reply));
  }

  void SendError(const std::string& path, const Status& s, bool keep_alive) {
    if (method_.empty() && parser_) method_ = std::string(parser_->get().method_string());
    Send(shared_.errors(path, s), keep_alive, NewUuid(), path);
  }

  void Send(Response r, bool keep_alive, const std::string& request_id, const std::string& path) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
        static_cast<bhttp::status>(r.status), 11);
    res->set(bhttp::field::server, "rollcall");
    if (!r.content_type.empty()) res->set(bhttp::field::content_type, r.content_type);
    res->set("X-Request-Id", request_id);
    for (auto& [k, v] : r.headers) res->set(k, v);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    if (shared_.options.log_requests) {
      LogRequest(method_.empty() ? "-" : method_, path, r.status, start_, request_id);
    }
    stream_.expires_after(shared_.options.idle_timeout);
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
                         if (ec || !keep_alive) return self->Close();
                         self->method_.clear();
                         self->ReadHeader();
                       });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  Shared& shared_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bool keep_alive_ = false;
  std::string method_, path_, request_id_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

struct Worker {
  asio::io_context io{1};
  std::optional<tcp::acceptor> acceptor;
};

}  // namespace

struct Server::Impl {
  Shared shared;
  std::vector<std::unique_ptr<Worker>> workers;
  uint16_t port = 0;
  std::mutex mu;
  std::condition_variable cv;

  void Accept(Worker* w) {
    w->acceptor->async_accept(asio::make_strand(w->io), [this, w](beast::error_code ec,
                                                                 tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted || !w->acceptor->is_open()) return;
      } else {
        socket.set_option(tcp::no_delay(true));
        std::make_shared<Connection>(std::move(socket), &shared)->Start();
      }
      Accept(w);
    });
  }
};

Server::Server(ServerOptions options, Handler handler, ErrorRenderer errors)
    : impl_(std::make_unique<Impl>()) {
  impl_->shared.options = std::move(options);
  impl_->shared.handler = std::move(handler);
  impl_->shared.errors = std::move(errors);
}

Server::~Server() = default;

Status Server::Listen() {
  const ServerOptions& o = impl_->shared.options;
  beast::error_code ec;
  auto address = asio::ip::make_address(o.host, ec);
  if (ec) return Status::Invalid("--listen: bad address " + o.host);
  uint16_t port = o.port;
  for (int i = 0; i < std::max(1, o.threads); ++i) {
    auto w = std::make_unique<Worker>();
    w->acceptor.emplace(w->io);
    tcp::endpoint ep(address, port);
    w->acceptor->open(ep.protocol(), ec);
    if (!ec) w->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) {
      int one = 1;
      ::setsockopt(w->acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    }
    if (!ec) w->acceptor->bind(ep, ec);
    if (!ec) w->acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::Unavailable("cannot listen on " + o.host + ":" + std::to_string(port) +
                                 ": " + ec.message());
    }
    port = w->acceptor->local_endpoint().port();
    impl_->workers.push_back(std::move(w));
  }
  impl_->port = port;
  return Status::Ok();
}

uint16_t Server::port() const { return impl_->port; }

void Server::Run() {
  std::vector<std::thread> threads;
  for (auto& w : impl_->workers) {
    impl_->Accept(w.get());
    threads.emplace_back([io = &w->io] {
      auto guard = asio::make_work_guard(*io);
      io->run();
    });
  }
  {
    std::unique_lock<std::mutex> lock(impl_->mu);
    impl_->cv.wait(lock, [this] { return impl_->shared.stopping.load(); });
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (impl_->shared.in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Let the last replies reach their sockets.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (auto& w : impl_->workers) w->io.stop();
  for (auto& t : threads) t.join();
}

void Server::Stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->shared.stopping.exchange(true)) return;
  }
  for (auto& w : impl_->workers) {
    asio::post(w->io, [w = w.get()] {
      beast::error_code ec;
      w->acceptor->close(ec);
    });
  }
  impl_->cv.notify_all();
}

}  // namespace rollcall::http

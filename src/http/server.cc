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
#include <unordered_map>
#include <vector>

#include "core/ids.h"

namespace rollcall::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

// A rejected or failed connection drains what the client still sends for this long (and at
// most kLingerBytes) before closing, so the client reads the error instead of a reset.
constexpr milliseconds kLingerTime{1000};
constexpr size_t kLingerBytes = 256 * 1024;

class Connection;

struct Shared {
  ServerOptions options;
  Server::Handler handler;
  ErrorRenderer errors;
  std::atomic<int64_t> connections{0};  // Connection objects alive
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

// One acceptor and io_context, run by one thread. Its connections live on its io_context.
struct Worker {
  asio::io_context io{1};
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> retry;  // accept retry after running out of descriptors
  // Open connections; touched only on this worker's thread.
  std::unordered_map<Connection*, std::weak_ptr<Connection>> live;
};

void LogRequest(std::string_view method, std::string_view path, unsigned status,
                std::chrono::steady_clock::time_point start, std::string_view request_id) {
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  char line[512];
  const int n = std::snprintf(line, sizeof line, "%.*s %.*s %u %.2fms %.*s\n",
                              static_cast<int>(std::min<size_t>(method.size(), 32)), method.data(),
                              static_cast<int>(std::min<size_t>(path.size(), 200)), path.data(),
                              status, ms, static_cast<int>(request_id.size()), request_id.data());
  if (n > 0)
    std::fwrite(line, 1, std::min<size_t>(static_cast<size_t>(n), sizeof line - 1), stderr);
}

// One client connection: reads requests one after the other (keep-alive, pipelining),
// hands each to the handler, writes the replies. Every wait has a deadline; see ServerOptions.
// Runs on its worker's thread; the reply may come from any thread.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, Worker* worker, Shared* shared)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        worker_(*worker),
        shared_(*shared) {
    shared_.connections.fetch_add(1);
  }
  ~Connection() { shared_.connections.fetch_sub(1); }

  void Start() {
    worker_.live.emplace(this, weak_from_this());
    WaitForRequest();
  }

  // Over max_connections: answers 503 and closes.
  void Reject() {
    worker_.live.emplace(this, weak_from_this());
    Status s(Code::kUnavailable, "the server has too many open connections; retry later", 1000);
    Send(shared_.errors("", s), false, "-", "-");
  }

  // The server is stopping: an idle connection closes now, a busy one after its response.
  void OnStop() {
    if (phase_ == Phase::kIdle) Close();
  }

 private:
  enum class Phase { kIdle, kHeader, kBody, kHandling, kWriting, kLinger, kClosed };

  // Cancels the socket's pending operation after d; they then fail with operation_aborted and
  // timed_out_ tells why.
  void Arm(milliseconds d) {
    ++timer_generation_;
    timed_out_ = false;
    timer_.expires_after(d);
    timer_.async_wait([self = shared_from_this(), gen = timer_generation_](beast::error_code ec) {
      if (ec || gen != self->timer_generation_ || self->phase_ == Phase::kClosed) return;
      self->timed_out_ = true;
      beast::error_code ignored;
      self->socket_.cancel(ignored);
    });
  }

  void Disarm() {
    ++timer_generation_;
    timer_.cancel();
  }

  void WaitForRequest() {
    phase_ = Phase::kIdle;
    method_.clear();
    if (shared_.stopping.load()) return Close();
    if (buffer_.size() > 0) return ReadHeader();  // pipelined
    Arm(shared_.options.idle_timeout);
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](beast::error_code ec) {
      if (self->phase_ != Phase::kIdle) return;
      if (ec) return self->Close();
      self->ReadHeader();
    });
  }

  void ReadHeader() {
    phase_ = Phase::kHeader;
    start_ = std::chrono::steady_clock::now();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_.options.header_limit));
    parser_->body_limit(shared_.options.body_limit);
    Arm(shared_.options.header_timeout);
    bhttp::async_read_header(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) {
      // The parser refuses a too-large Content-Length here, after reading the request line:
      // the path still picks the face that renders the error.
      const std::string target(parser_->get().target());
      return FailRead(ec, target.substr(0, target.find('?')));
    }
    auto& req = parser_->get();
    method_ = std::string(req.method_string());
    const std::string path(req.target().substr(0, req.target().find('?')));
    const ServerOptions& o = shared_.options;
    if (req.target().size() > o.url_limit) {
      return SendError(path, Status(Code::kUriTooLong, "the request target is longer than " +
                                                           std::to_string(o.url_limit) + " bytes"));
    }
    if (static_cast<size_t>(std::distance(req.begin(), req.end())) > o.max_headers) {
      return SendError(path,
                       Status(Code::kHeadersTooLarge,
                              "more than " + std::to_string(o.max_headers) + " header fields"));
    }
    if (auto len = parser_->content_length(); len && *len > o.body_limit) {
      return SendError(path,
                       Status(Code::kPayloadTooLarge, "the request body is larger than " +
                                                          std::to_string(o.body_limit) + " bytes"));
    }
    phase_ = Phase::kBody;
    Arm(o.body_timeout);
    if (beast::iequals(req[bhttp::field::expect], "100-continue") && !parser_->is_done()) {
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                       req.version());
      bhttp::async_write(socket_, *cont,
                         [self = shared_from_this(), cont](beast::error_code ec, size_t) {
                           if (ec) return self->Close();
                           self->ReadBody();
                         });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
  }

  void FailRead(beast::error_code ec, const std::string& path) {
    const ServerOptions& o = shared_.options;
    if (timed_out_) {
      if (phase_ == Phase::kHeader || phase_ == Phase::kBody) {
        return SendError(
            path, Status(Code::kRequestTimeout, phase_ == Phase::kHeader
                                                    ? "the request header was not received in time"
                                                    : "the request body was not received in time"));
      }
      return Close();
    }
    if (ec == bhttp::error::body_limit) {
      return SendError(path,
                       Status(Code::kPayloadTooLarge, "the request body is larger than " +
                                                          std::to_string(o.body_limit) + " bytes"));
    }
    if (ec == bhttp::error::header_limit) {
      // The parser fills in the target once the request line is complete: none means the
      // request line alone overflowed the header limit.
      const auto target = parser_->get().target();
      if (target.empty() || target.size() > o.url_limit) {
        return SendError(path,
                         Status(Code::kUriTooLong, "the request target is longer than " +
                                                       std::to_string(o.url_limit) + " bytes"));
      }
      return SendError(
          path, Status(Code::kHeadersTooLarge, "the request header is larger than " +
                                                   std::to_string(o.header_limit) + " bytes"));
    }
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == bhttp::error::partial_message) {
      return Close();
    }
    SendError(path, Status::Invalid("malformed HTTP request: " + ec.message()));
  }

  void OnBody(beast::error_code ec) {
    auto& msg = parser_->get();
    const std::string target(msg.target());
    const std::string path = target.substr(0, target.find('?'));
    if (ec) return FailRead(ec, path);
    Disarm();

    Request req;
    req.method = std::string(msg.method_string());
    req.target = target;
    req.request_id = NewUuid();
    const std::string escaped = EscapeQueryBrackets(target);
    auto parsed = boost::urls::parse_origin_form(escaped);
    if (!parsed) return SendError(path, Status::Invalid("malformed request target"));
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
    keep_alive_ = msg.keep_alive();
    path_ = req.path;
    request_id_ = req.request_id;

    phase_ = Phase::kHandling;
    auto executor = socket_.get_executor();
    Reply reply([self = shared_from_this(), executor](std::function<Response()> make) {
      asio::dispatch(executor, [self, make = std::move(make)]() {
        self->Send(make(), self->keep_alive_, self->request_id_, self->path_);
      });
    });
    shared_.handler(std::move(req), std::move(reply));
  }

  // Answers an error the transport found and closes: the rest of the request is unread.
  void SendError(const std::string& path, const Status& s) {
    Send(shared_.errors(path, s), false, NewUuid(), path);
  }

  void Send(Response r, bool keep_alive, const std::string& request_id, const std::string& path) {
    if (phase_ == Phase::kClosed) return;
    keep_alive = keep_alive && !shared_.stopping.load();
    const bool clean = phase_ == Phase::kHandling;  // the whole request was read
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
    phase_ = Phase::kWriting;
    Arm(clean ? shared_.options.write_timeout : kLingerTime);
    bhttp::async_write(
        socket_, *res,
        [self = shared_from_this(), res, keep_alive, clean](beast::error_code ec, size_t) {
          if (ec) return self->Close();
          if (!clean) return self->Linger();
          if (!keep_alive) return self->Close();
          self->WaitForRequest();
        });
  }

  // Half-closes, then discards what the client still sends until it closes, kLingerBytes or
  // kLingerTime, so that it sees the response rather than a connection reset. Not while the
  // server stops: then it closes at once.
  void Linger() {
    if (shared_.stopping.load()) return Close();
    phase_ = Phase::kLinger;
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    Arm(kLingerTime);
    buffer_.clear();
    Discard();
  }

  void Discard() {
    if (lingered_ >= kLingerBytes) return Close();
    socket_.async_read_some(buffer_.prepare(16 * 1024),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->Close();
                              self->lingered_ += n;
                              self->buffer_.clear();
                              self->Discard();
                            });
  }

  void Close() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    Disarm();
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    worker_.live.erase(this);
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  Worker& worker_;
  Shared& shared_;
  Phase phase_ = Phase::kIdle;
  uint64_t timer_generation_ = 0;
  bool timed_out_ = false;
  size_t lingered_ = 0;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bool keep_alive_ = false;
  std::string method_, path_, request_id_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace

struct Server::Impl {
  Shared shared;
  std::vector<std::unique_ptr<Worker>> workers;
  uint16_t port = 0;
  std::mutex mu;
  std::condition_variable cv;

  void Accept(Worker* w) {
    w->acceptor->async_accept([this, w](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted || !w->acceptor->is_open()) return;
        // Out of descriptors or memory: retry shortly instead of spinning.
        w->retry->expires_after(milliseconds(50));
        w->retry->async_wait([this, w](beast::error_code ec) {
          if (!ec && w->acceptor->is_open()) Accept(w);
        });
        return;
      }
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      const bool over =
          shared.connections.load() >= static_cast<int64_t>(shared.options.max_connections);
      auto c = std::make_shared<Connection>(std::move(socket), w, &shared);
      if (over) {
        c->Reject();
      } else {
        c->Start();
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
  if (port != 0) {
    // The acceptors share the port through SO_REUSEPORT, which would also let a second
    // process join silently; a plain bind first fails while anyone listens there.
    tcp::acceptor probe(asio::system_executor{});
    tcp::endpoint ep(address, port);
    probe.open(ep.protocol(), ec);
    if (!ec) probe.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) probe.bind(ep, ec);
    if (ec) {
      return Status::Unavailable("cannot listen on " + o.host + ":" + std::to_string(port) + ": " +
                                 ec.message());
    }
    probe.close(ec);
  }
  for (int i = 0; i < std::max(1, o.threads); ++i) {
    auto w = std::make_unique<Worker>();
    w->acceptor.emplace(w->io);
    w->retry.emplace(w->io);
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
      return Status::Unavailable("cannot listen on " + o.host + ":" + std::to_string(port) + ": " +
                                 ec.message());
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
  // Every connection closes once its request in flight is answered (idle ones closed at once).
  const auto deadline = std::chrono::steady_clock::now() + impl_->shared.options.drain_timeout;
  while (impl_->shared.connections.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
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
      w->retry->cancel();
      std::vector<std::shared_ptr<Connection>> open;
      for (auto& [ptr, weak] : w->live) {
        if (auto c = weak.lock()) open.push_back(std::move(c));
      }
      for (auto& c : open) c->OnStop();
    });
  }
  impl_->cv.notify_all();
}

}  // namespace rollcall::http

#include "server/listener.hpp"

#include <pwd.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace ustub {

namespace {

std::string bind_error(const std::error_code& ec) {
  std::string text = ec.message();
  if (ec == asio::error::address_in_use) text = "Address already in use";
  return "Can't bind address: " + text + ".";
}

// Moves the socket into `io`: the same descriptor, served by another loop.
template <class Socket>
class AcceptedSocket final : public Accepted {
 public:
  using Opener = std::unique_ptr<Transport> (*)(Socket);
  AcceptedSocket(Socket socket, Opener opener) : socket_(std::move(socket)), opener_(opener) {}
  std::unique_ptr<Transport> open(asio::io_context& io) override {
    std::error_code ec;
    auto protocol = socket_.local_endpoint(ec).protocol();
    if (ec) throw std::system_error(ec);
    auto fd = socket_.release();
    return opener_(Socket(io, protocol, fd));
  }

 private:
  Socket socket_;
  Opener opener_;
};

class TcpListener final : public Listener {
 public:
  TcpListener(asio::io_context& io, const asio::ip::tcp::endpoint& endpoint) : acceptor_(io) {
    std::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(1, ec);
    if (ec) throw ListenError(bind_error(ec));
  }
  void async_accept(AcceptHandler handler) override {
    acceptor_.async_accept([handler = std::move(handler)](std::error_code ec, asio::ip::tcp::socket s) {
      if (ec) return handler(nullptr, ec.message());
      std::error_code ignored;
      auto remote = s.remote_endpoint(ignored);
      std::string peer = "host " + remote.address().to_string() + ", port " + std::to_string(remote.port());
      handler(std::make_unique<AcceptedSocket<asio::ip::tcp::socket>>(std::move(s), make_tcp_transport), peer);
    });
  }
  void close() override {
    std::error_code ignored;
    acceptor_.close(ignored);
  }
  std::string listening_message() const override {
    std::error_code ignored;
    return "Listening on port " + std::to_string(acceptor_.local_endpoint(ignored).port());
  }
  std::string exposure_warning() const override {
    std::error_code ignored;
    auto local = acceptor_.local_endpoint(ignored);
    if (ignored || local.address().is_loopback()) return "";
    const passwd* pw = ::getpwuid(::geteuid());
    std::string who = pw ? pw->pw_name : "uid " + std::to_string(::geteuid());
    return "ustub: warning: listening on " + local.address().to_string() + ": anyone who can reach port " +
           std::to_string(local.port()) + " can run code as " + who + " (a bare :PORT listens on 127.0.0.1 only)";
  }

 private:
  asio::ip::tcp::acceptor acceptor_;
};

class UnixListener final : public Listener {
 public:
  UnixListener(asio::io_context& io, std::string path) : acceptor_(io), path_(std::move(path)) {
    if (std::string problem = socket_directory_problem(path_); !problem.empty()) throw ListenError(problem);
    std::error_code ec;
    remove_stale_socket();
    acceptor_.open(asio::local::stream_protocol(), ec);
    if (!ec) {
      // Only the owner may connect: the socket is born 0600, not chmod-ed later.
      mode_t old = ::umask(0177);
      acceptor_.bind(asio::local::stream_protocol::endpoint(path_), ec);
      ::umask(old);
    }
    if (!ec) acceptor_.listen(1, ec);
    if (ec) throw ListenError(bind_error(ec));
    bound_ = true;
  }
  ~UnixListener() override { close(); }
  void async_accept(AcceptHandler handler) override {
    acceptor_.async_accept(
        [this, handler = std::move(handler)](std::error_code ec, asio::local::stream_protocol::socket s) {
          if (ec) return handler(nullptr, ec.message());
          handler(std::make_unique<AcceptedSocket<asio::local::stream_protocol::socket>>(std::move(s),
                                                                                          make_unix_transport),
                  path_);
        });
  }
  void close() override {
    std::error_code ignored;
    acceptor_.close(ignored);
    if (bound_) ::unlink(path_.c_str());
    bound_ = false;
  }
  std::string listening_message() const override { return "Listening on Unix socket " + path_; }

 private:
  void remove_stale_socket() {
    struct stat st {};
    if (::lstat(path_.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return;
    // A socket file nobody answers on is left over from a crash: reuse the name.
    asio::io_context probe_io;
    asio::local::stream_protocol::socket probe(probe_io);
    std::error_code ec;
    probe.connect(asio::local::stream_protocol::endpoint(path_), ec);
    if (ec == asio::error::connection_refused) ::unlink(path_.c_str());
  }

  asio::local::stream_protocol::acceptor acceptor_;
  std::string path_;
  bool bound_ = false;
};

}  // namespace

std::string unsafe_socket_directory(mode_t mode, uid_t owner, uid_t me) {
  if (owner != me && owner != 0) return "belongs to uid " + std::to_string(owner);
  if (mode & S_IWOTH) return "other users can write";
  if (mode & S_IWGRP) return "its group can write";
  return "";
}

std::string socket_directory_problem(const std::string& socket_path) {
  std::size_t slash = socket_path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : socket_path.substr(0, slash);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return "ustub: unix:" + socket_path + ": " + dir + ": " + std::strerror(errno);
  std::string problem = unsafe_socket_directory(st.st_mode, st.st_uid, ::geteuid());
  if (problem.empty()) return "";
  return "ustub: unix:" + socket_path + ": refusing a socket in " + dir + ", which " + problem +
         "; use a directory only you can write, such as $XDG_RUNTIME_DIR";
}

std::unique_ptr<Listener> listen_tcp(asio::io_context& io, const TcpEndpoint& where) {
  std::error_code ec;
  auto address = asio::ip::make_address(where.host, ec);
  if (ec) {
    asio::ip::tcp::resolver resolver(io);
    auto port = std::to_string(where.port);
    auto results = where.family == 4   ? resolver.resolve(asio::ip::tcp::v4(), where.host, port, ec)
                   : where.family == 6 ? resolver.resolve(asio::ip::tcp::v6(), where.host, port, ec)
                                       : resolver.resolve(where.host, port, ec);
    // gdbserver's wording, which gdb's testsuite waits for.
    if (ec || results.empty())
      throw ListenError("ustub: " + where.spec + ": cannot resolve name: " +
                        (ec ? ec.message() : std::string("no address")));
    return std::make_unique<TcpListener>(io, results.begin()->endpoint());
  }
  return std::make_unique<TcpListener>(io, asio::ip::tcp::endpoint(address, where.port));
}

std::unique_ptr<Listener> listen_unix(asio::io_context& io, const std::string& path) {
  return std::make_unique<UnixListener>(io, path);
}

}  // namespace ustub

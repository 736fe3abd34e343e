#include "server/transport.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "server/queued_writer.hpp"

namespace ustub {

namespace {

// Asio's own non-blocking mode: its synchronous reads say would_block, and
// its asynchronous ones still wait as before.
template <class Stream>
std::size_t read_without_waiting(Stream& stream, asio::mutable_buffer buffer, std::error_code& ec) {
  if (!stream.non_blocking()) stream.non_blocking(true, ec);
  if (ec) return 0;
  return stream.read_some(buffer, ec);
}

template <class Stream>
class StreamTransport final : public Transport {
 public:
  explicit StreamTransport(Stream stream) : stream_(std::move(stream)) {}
  void async_read_some(asio::mutable_buffer buffer, ReadHandler handler) override {
    stream_.async_read_some(buffer, std::move(handler));
  }
  std::size_t read_ready(asio::mutable_buffer buffer, std::error_code& ec) override {
    return read_without_waiting(stream_, buffer, ec);
  }
  void send(std::string_view bytes) override { writer_.send(bytes); }
  void on_write_failure(std::function<void(std::string)> handler) override { writer_.on_failure(std::move(handler)); }
  std::size_t unsent() const override { return writer_.unsent(); }
  void close(std::chrono::milliseconds patience) override {
    writer_.flush(patience);
    if (!writer_.failed()) hang_up_gently();
    std::error_code ignored;
    stream_.close(ignored);
  }

 private:
  // Closing a socket with unread input makes the kernel send a reset, which
  // can throw away our last replies (an exit status) before gdb reads them.
  // So: no more writes (gdb sees the end after our last byte), and what gdb
  // already sent is read away first. Never waits: gdb need not hang up first.
  void hang_up_gently() {
    if constexpr (requires { stream_.shutdown(asio::socket_base::shutdown_send); }) {
      std::error_code ec;
      stream_.shutdown(asio::socket_base::shutdown_send, ec);
      if (ec) return;
      char sink[4096];
      while (::recv(stream_.native_handle(), sink, sizeof sink, MSG_DONTWAIT) > 0) {
      }
    }
  }

  Stream stream_;
  QueuedWriter<Stream> writer_{stream_, kUnsentLimit};
};

class StdioTransport final : public Transport {
 public:
  explicit StdioTransport(asio::io_context& io)
      : in_(io, ::dup(STDIN_FILENO)), out_(io, ::dup(STDOUT_FILENO)) {}
  void async_read_some(asio::mutable_buffer buffer, ReadHandler handler) override {
    in_.async_read_some(buffer, std::move(handler));
  }
  std::size_t read_ready(asio::mutable_buffer buffer, std::error_code& ec) override {
    return read_without_waiting(in_, buffer, ec);
  }
  void send(std::string_view bytes) override { writer_.send(bytes); }
  void on_write_failure(std::function<void(std::string)> handler) override { writer_.on_failure(std::move(handler)); }
  std::size_t unsent() const override { return writer_.unsent(); }
  void close(std::chrono::milliseconds patience) override {
    writer_.flush(patience);
    std::error_code ignored;
    in_.close(ignored);
    out_.close(ignored);
  }

 private:
  asio::posix::stream_descriptor in_, out_;
  QueuedWriter<asio::posix::stream_descriptor> writer_{out_, kUnsentLimit};
};

}  // namespace

std::unique_ptr<Transport> make_tcp_transport(asio::ip::tcp::socket socket) {
  // Every packet is a round trip: never let Nagle hold one back.
  std::error_code ignored;  // a connection already reset fails its first read instead
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  return std::make_unique<StreamTransport<asio::ip::tcp::socket>>(std::move(socket));
}

std::unique_ptr<Transport> make_unix_transport(asio::local::stream_protocol::socket socket) {
  return std::make_unique<StreamTransport<asio::local::stream_protocol::socket>>(std::move(socket));
}

std::unique_ptr<Transport> make_stdio_transport(asio::io_context& io) {
  return std::make_unique<StdioTransport>(io);
}

std::unique_ptr<Transport> make_serial_transport(asio::io_context& io, const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), path);
  termios tio{};
  if (::tcgetattr(fd, &tio) == 0) {
    ::cfmakeraw(&tio);
    tio.c_cc[VMIN] = 1;
    tio.c_cc[VTIME] = 0;
    ::tcsetattr(fd, TCSANOW, &tio);
  }
  return std::make_unique<StreamTransport<asio::posix::stream_descriptor>>(
      asio::posix::stream_descriptor(io, fd));
}

}  // namespace ustub

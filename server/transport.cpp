#include "server/transport.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

namespace ustub {

namespace {

template <class Stream>
class StreamTransport final : public Transport {
 public:
  explicit StreamTransport(Stream stream) : stream_(std::move(stream)) {}
  void async_read_some(asio::mutable_buffer buffer, ReadHandler handler) override {
    stream_.async_read_some(buffer, std::move(handler));
  }
  std::error_code write_all(std::string_view bytes) override {
    std::error_code ec;
    asio::write(stream_, asio::buffer(bytes.data(), bytes.size()), ec);
    return ec;
  }
  void close() override {
    std::error_code ignored;
    stream_.close(ignored);
  }

 private:
  Stream stream_;
};

class StdioTransport final : public Transport {
 public:
  explicit StdioTransport(asio::io_context& io)
      : in_(io, ::dup(STDIN_FILENO)), out_(io, ::dup(STDOUT_FILENO)) {}
  void async_read_some(asio::mutable_buffer buffer, ReadHandler handler) override {
    in_.async_read_some(buffer, std::move(handler));
  }
  std::error_code write_all(std::string_view bytes) override {
    std::error_code ec;
    asio::write(out_, asio::buffer(bytes.data(), bytes.size()), ec);
    return ec;
  }
  void close() override {
    std::error_code ignored;
    in_.close(ignored);
    out_.close(ignored);
  }

 private:
  asio::posix::stream_descriptor in_, out_;
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

#pragma once
// A byte stream to gdb: a TCP or Unix-socket connection, stdin/stdout, or a
// serial line. Reads are asynchronous. Writes never block ustub: what the
// peer does not take at once is queued in order and sent as it drains, so a
// gdb that stops reading cannot freeze the server (or its signal handling).
// The queue is bounded; past the bound the overflow handler is told once.
#include <asio.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace ustub {

class Transport {
 public:
  using ReadHandler = std::function<void(const std::error_code&, std::size_t)>;
  // Far more than gdb ever leaves unread (it waits for each reply); only a
  // peer that stopped reading gets here.
  static constexpr std::size_t kUnsentLimit = 1 << 20;

  virtual ~Transport() = default;
  virtual void async_read_some(asio::mutable_buffer buffer, ReadHandler handler) = 0;
  // What has already arrived, without waiting: 0 with asio::error::would_block
  // when nothing has.
  virtual std::size_t read_ready(asio::mutable_buffer buffer, std::error_code& ec) = 0;
  // Queues bytes after everything sent before. Ignored once overflowed.
  virtual void send(std::string_view bytes) = 0;
  // Called (from the io loop, never from inside send) when the unsent bytes
  // pass kUnsentLimit or the peer refuses them.
  virtual void on_write_failure(std::function<void(std::string why)> handler) = 0;
  virtual std::size_t unsent() const = 0;
  // Sends what is queued, waiting at most `patience`, then closes.
  virtual void close(std::chrono::milliseconds patience = std::chrono::milliseconds(2000)) = 0;
};

std::unique_ptr<Transport> make_tcp_transport(asio::ip::tcp::socket socket);
std::unique_ptr<Transport> make_unix_transport(asio::local::stream_protocol::socket socket);
// gdb's pipe: read stdin, write stdout.
std::unique_ptr<Transport> make_stdio_transport(asio::io_context& io);
// A tty or serial device, put in raw mode. Throws std::system_error on failure.
std::unique_ptr<Transport> make_serial_transport(asio::io_context& io, const std::string& path);

}  // namespace ustub

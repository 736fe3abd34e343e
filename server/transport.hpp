#pragma once
// A byte stream to gdb: a TCP or Unix-socket connection, stdin/stdout, or a
// serial line. Reads are asynchronous; writes complete before returning, so a
// reply is never reordered with the next one.
#include <asio.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace ustub {

class Transport {
 public:
  using ReadHandler = std::function<void(const std::error_code&, std::size_t)>;
  virtual ~Transport() = default;
  virtual void async_read_some(asio::mutable_buffer buffer, ReadHandler handler) = 0;
  virtual std::error_code write_all(std::string_view bytes) = 0;
  virtual void close() = 0;
};

std::unique_ptr<Transport> make_tcp_transport(asio::ip::tcp::socket socket);
std::unique_ptr<Transport> make_unix_transport(asio::local::stream_protocol::socket socket);
// gdb's pipe: read stdin, write stdout.
std::unique_ptr<Transport> make_stdio_transport(asio::io_context& io);
// A tty or serial device, put in raw mode. Throws std::system_error on failure.
std::unique_ptr<Transport> make_serial_transport(asio::io_context& io, const std::string& path);

}  // namespace ustub

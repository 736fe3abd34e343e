#pragma once
// Where gdb connects: a TCP port or a Unix socket.
#include <sys/types.h>

#include <asio.hpp>
#include <functional>
#include <memory>
#include <string>

#include "server/cli.hpp"
#include "server/transport.hpp"

namespace ustub {

// A connection just taken, not yet bound to the io_context that serves it:
// each client of a --multi ustub has a thread and an io_context of its own.
class Accepted {
 public:
  virtual ~Accepted() = default;
  virtual std::unique_ptr<Transport> open(asio::io_context& io) = 0;
};

class Listener {
 public:
  // A null connection: the listener was closed.
  using AcceptHandler = std::function<void(std::unique_ptr<Accepted>, std::string peer)>;
  virtual ~Listener() = default;
  virtual void async_accept(AcceptHandler handler) = 0;
  virtual void close() = 0;
  // What gdbserver prints once it listens, e.g. "Listening on port 2345".
  virtual std::string listening_message() const = 0;
  // Non-empty when others can reach this listener: said once, at start.
  virtual std::string exposure_warning() const { return ""; }
};

// Throws ListenError with gdbserver's wording ("Can't bind address: …").
struct ListenError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::unique_ptr<Listener> listen_tcp(asio::io_context& io, const TcpEndpoint& where);
// Why a Unix socket may not live in a directory with this mode and owner
// ("" when it may): others who can write there could replace or pre-empt it.
std::string unsafe_socket_directory(mode_t mode, uid_t owner, uid_t me);
// The one line refusing socket_path because of its directory, or "".
std::string socket_directory_problem(const std::string& socket_path);
// Refuses (ListenError, one line) a socket path in such a directory.
std::unique_ptr<Listener> listen_unix(asio::io_context& io, const std::string& path);

}  // namespace ustub

#pragma once
// The write half of a transport: non-blocking writes with an ordered, bounded
// queue for what the peer has not taken yet.
#include <poll.h>

#include <asio.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace ustub {

template <class Stream>
class QueuedWriter {
 public:
  using FailureHandler = std::function<void(std::string)>;

  QueuedWriter(Stream& stream, std::size_t limit) : stream_(stream), limit_(limit) {
    std::error_code ignored;
    stream_.non_blocking(true, ignored);
  }
  ~QueuedWriter() { *alive_ = false; }

  void on_failure(FailureHandler handler) { on_failure_ = std::move(handler); }
  std::size_t unsent() const { return queue_.size() - sent_; }
  bool failed() const { return failed_; }

  void send(std::string_view bytes) {
    if (failed_) return;
    if (unsent() == 0) {
      queue_.clear();
      sent_ = 0;
      bytes.remove_prefix(write_now(bytes));
      if (failed_) return;
    }
    queue_.append(bytes);
    if (unsent() > limit_)
      return fail("the peer is not reading (over " + std::to_string(limit_ >> 10) + " KiB unsent)");
    if (unsent() > 0) wait_writable();
  }

  // Synchronous, bounded: used on the way out so the last replies are not lost.
  void flush(std::chrono::milliseconds patience) {
    auto deadline = std::chrono::steady_clock::now() + patience;
    while (!failed_ && unsent() > 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return;
      pollfd p{stream_.native_handle(), POLLOUT, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return;
      drain();
    }
  }

 private:
  // How many bytes the peer took at once; sets failed_ on a hard error.
  std::size_t write_now(std::string_view bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      std::error_code ec;
      std::size_t n = stream_.write_some(asio::buffer(bytes.data() + done, bytes.size() - done), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) break;
      if (ec == asio::error::interrupted) continue;
      if (ec) {
        fail("write failed: " + ec.message());
        break;
      }
      done += n;
    }
    return done;
  }

  void drain() {
    sent_ += write_now(std::string_view(queue_).substr(sent_));
    if (unsent() == 0) {
      queue_.clear();
      sent_ = 0;
    }
  }

  void wait_writable() {
    if (waiting_) return;
    waiting_ = true;
    stream_.async_wait(Stream::wait_write, [this, alive = alive_](const std::error_code& ec) {
      if (!*alive) return;
      waiting_ = false;
      if (ec || failed_) return;
      drain();
      if (!failed_ && unsent() > 0) wait_writable();
    });
  }

  void fail(std::string why) {
    failed_ = true;
    queue_.clear();
    sent_ = 0;
    if (on_failure_) asio::post(stream_.get_executor(), [handler = on_failure_, why, alive = alive_] {
        if (*alive) handler(why);
      });
  }

  Stream& stream_;
  std::size_t limit_;
  std::string queue_;
  std::size_t sent_ = 0;  // bytes at the front of queue_ already written
  bool waiting_ = false;
  bool failed_ = false;
  FailureHandler on_failure_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ustub

"""A tiny gdb remote-protocol client for packet-level checks."""
import socket
import time


def checksum(data: bytes) -> bytes:
    return b"%02x" % (sum(data) & 0xFF)


def frame(payload: bytes) -> bytes:
    return b"$" + payload + b"#" + checksum(payload)


def expand(raw: bytes) -> bytes:
    """Run-length expansion, then '}' unescaping — gdb's order."""
    runs = bytearray()
    i = 0
    while i < len(raw):
        if raw[i] == ord("*"):
            runs += bytes([runs[-1]]) * (raw[i + 1] - 29)
            i += 2
            continue
        runs.append(raw[i])
        i += 1
    out = bytearray()
    i = 0
    while i < len(runs):
        if runs[i] == ord("}"):
            out.append(runs[i + 1] ^ 0x20)
            i += 2
        else:
            out.append(runs[i])
            i += 1
    return bytes(out)


class RspClient:
    def __init__(self, address, timeout=10.0):
        family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(address)
        self.pending = b""
        self.notifications = []  # read while a reply was awaited: they may come first
        self.ack_mode = True

    def close(self):
        self.sock.close()

    def send_raw(self, data: bytes):
        self.sock.sendall(data)

    def read_byte(self) -> int:
        if not self.pending:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("ustub closed the connection")
            self.pending = chunk
        b, self.pending = self.pending[0], self.pending[1:]
        return b

    def read_ack(self) -> bytes:
        return bytes([self.read_byte()])

    def read_frame(self, start: int) -> bytes:
        """The next frame that begins with `start` ("$" or "%"), checked and expanded.
        Notifications met on the way to a reply are kept for read_notification."""
        while (b := self.read_byte()) != start:
            if b == ord("%"):
                self.notifications.append(self.read_frame_body())
        return self.read_frame_body()

    def read_frame_body(self) -> bytes:
        raw = bytearray()
        while (b := self.read_byte()) != ord("#"):
            raw.append(b)
        received = bytes([self.read_byte(), self.read_byte()])
        if received != checksum(bytes(raw)):
            raise AssertionError(f"bad checksum from ustub on {bytes(raw)!r}")
        return expand(bytes(raw))

    def read_packet(self) -> bytes:
        payload = self.read_frame(ord("$"))
        if self.ack_mode:
            self.send_raw(b"+")
        return payload

    def read_notification(self) -> bytes:
        """The next asynchronous notification ("%Stop:…#cs"); never acknowledged."""
        if self.notifications:
            return self.notifications.pop(0)
        return self.read_frame(ord("%"))

    def send(self, payload) -> None:
        if isinstance(payload, str):
            payload = payload.encode()
        self.send_raw(frame(payload))
        if self.ack_mode:
            ack = self.read_ack()
            if ack != b"+":
                raise AssertionError(f"expected '+' for {payload!r}, got {ack!r}")

    def request(self, payload) -> bytes:
        self.send(payload)
        return self.read_packet()

    def handshake(self, no_ack=True):
        reply = self.request("qSupported:multiprocess+;swbreak+;vContSupported+")
        if no_ack:
            assert self.request("QStartNoAckMode") == b"OK"
            self.ack_mode = False
        return reply


def wait_for_port_closed(port, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            return True
        time.sleep(0.05)
    return False

#!/usr/bin/env python3
"""Misbehaving TLS clients for tlsechod's integration tests.

Each mode is bounded in time and prints one line saying what it saw:

  slow-hello PORT SECONDS   sends a TLS record header one byte every 0.5 s
                            and reports when the server closed the socket
  no-read PORT SECONDS      completes a TLS handshake, then writes without
                            ever reading until the server gives up on it
  slow-read PORT SECONDS    completes a TLS handshake, floods the server
                            and reads 4 KiB every 0.4 s (a trickle) until
                            the server gives up on it
"""
import os
import socket
import ssl
import sys
import time


def tls_connect(port, limit, rcvbuf):
    """A TLS session to 127.0.0.1:port (the server is not verified: these
    clients test the server's limits, not its identity) with a small
    receive buffer, so that the server's writes back fill up soon."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", port), timeout=limit)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    return ctx.wrap_socket(raw)


def slow_hello(port, limit):
    s = socket.create_connection(("127.0.0.1", port), timeout=limit)
    start = time.monotonic()
    payload = b"\x16\x03\x01\x02\x00" + b"\x01" * 64
    for b in payload:
        if time.monotonic() - start > limit:
            print("still-open after %.1fs" % (time.monotonic() - start))
            return 1
        try:
            s.send(bytes([b]))
            s.settimeout(0.5)
            if s.recv(1) == b"":
                break
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            break
    print("closed after %.1fs" % (time.monotonic() - start))
    return 0


def no_read(port, limit):
    s = tls_connect(port, limit, 4096)
    chunk = b"x" * 16384
    start = time.monotonic()
    sent = 0
    s.settimeout(1.0)
    while time.monotonic() - start < limit:
        try:
            sent += s.send(chunk)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
            print("cut off after %.1fs, %d bytes sent"
                  % (time.monotonic() - start, sent))
            return 0
    print("still-open after %.1fs, %d bytes sent"
          % (time.monotonic() - start, sent))
    return 1


def slow_read(port, limit):
    s = tls_connect(port, limit, 8192)
    s.settimeout(0.01)
    chunk = b"y" * 16384
    start = last_read = time.monotonic()
    sent = got = 0
    while time.monotonic() - start < limit:
        # Keep the server's send buffer full: it has far more to echo
        # than this client takes.
        if sent < (32 << 20):
            try:
                sent += s.send(chunk)
            except socket.timeout:
                pass
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError,
                    OSError):
                break
        else:
            time.sleep(0.01)
        # Every 0.4 s take 4 KiB straight from the descriptor (the bytes
        # are never decrypted; they need not be): often enough that the
        # server's blocked send always makes some progress.
        if time.monotonic() - last_read >= 0.4:
            last_read = time.monotonic()
            try:
                data = os.read(s.fileno(), 4096)
            except BlockingIOError:
                data = None
            except OSError:
                break
            if data == b"":
                break
            got += len(data or b"")
    else:
        print("still-open after %.1fs, %d bytes read"
              % (time.monotonic() - start, got))
        return 1
    print("cut off after %.1fs, %d bytes read"
          % (time.monotonic() - start, got))
    return 0


def main():
    mode, port, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    if mode == "slow-hello":
        return slow_hello(port, limit)
    if mode == "no-read":
        return no_read(port, limit)
    if mode == "slow-read":
        return slow_read(port, limit)
    print("unknown mode %s" % mode, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())

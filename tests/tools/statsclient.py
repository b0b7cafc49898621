#!/usr/bin/env python3
"""Stats-socket clients for tlsechod's robustness tests and benchmark.

Each mode is bounded in time and prints what it saw, one fact a line:

  many SOCK N         connects N subscribers at once; each must get hello,
                      then after "watch" its snapshot up to "end"; prints
                      "ready N subscribers=K" and waits (10 s) until every
                      one has seen an "open" event; prints "open N"
  oversized SOCK      sends 1 MiB without a newline, expects an error about
                      the cut, then "\\nsnapshot\\n" and its "end"; prints
                      the error and commands_oversized
  resync SOCK         watches without reading until the daemon counts a
                      resynchronisation (polled with snapshots on other
                      connections, 20 s at most), then reads: the "resync: "
                      error, the fresh snapshot up to "end", and one more
                      event after it; prints them
  full SOCK N         holds N subscribers (the daemon's limit), then one
                      more must get an error line and be closed; once
                      they are gone a new one gets hello again; prints
                      the error and how many more were counted dropped
  latency SOCK PORT N for N connections to 127.0.0.1:PORT (TCP connect
                      only, then closed), the time from connect() returning
                      to the watcher reading the session's "open" line;
                      prints each in ms, then min/median/p90/max
"""
import json
import socket
import statistics
import sys
import time


class Sub:
    def __init__(self, path, timeout=10.0):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("the daemon closed the connection")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\n", 1)
        return json.loads(raw)

    def until(self, typ):
        seen = []
        while True:
            o = self.line()
            seen.append(o)
            if o.get("type") == typ:
                return seen

    def send(self, data):
        self.s.sendall(data)


def many(path, n):
    subs = [Sub(path) for _ in range(n)]
    for s in subs:
        h = s.line()
        assert h["type"] == "hello", h
    for s in subs:
        s.send(b"watch\n")
    subscribers = 0
    for s in subs:
        for o in s.until("end"):
            if o["type"] == "counters":
                subscribers = max(subscribers, o["subscribers"])
    print("ready %d subscribers=%d" % (n, subscribers), flush=True)
    for s in subs:
        s.until("open")
    print("open %d" % n, flush=True)
    return 0


def oversized(path):
    s = Sub(path)
    assert s.line()["type"] == "hello"
    s.send(b"A" * (1 << 20))
    err = s.until("error")[-1]
    print("error: %s" % err["message"], flush=True)
    s.send(b"\nsnapshot\n")
    got = s.until("end")
    c = [o for o in got if o["type"] == "counters"][-1]
    print("commands_oversized=%d" % c["commands_oversized"], flush=True)
    return 0


def counter(path, name):
    s = Sub(path)
    s.line()
    s.send(b"snapshot\n")
    c = [o for o in s.until("end") if o["type"] == "counters"][-1]
    s.s.close()
    return c[name]


def resynced(path):
    return counter(path, "subscribers_resynced")


def full(path, n):
    base = counter(path, "subscribers_dropped")
    subs = [Sub(path) for _ in range(n)]
    for s in subs:
        assert s.line()["type"] == "hello"
    extra = Sub(path)
    o = extra.line()
    if o["type"] != "error":
        print("subscriber %d was not refused: %s" % (n + 1, o))
        return 1
    print("refused: %s" % o["message"], flush=True)
    try:
        extra.line()
        print("the refused subscriber was not closed")
        return 1
    except EOFError:
        pass
    for s in subs:
        s.s.close()
    # The publisher frees closed subscribers at the end of a poll round.
    deadline = time.monotonic() + 10
    while True:
        try:
            dropped = counter(path, "subscribers_dropped") - base
            break
        except (AssertionError, KeyError, EOFError):
            if time.monotonic() > deadline:
                print("no room again within 10 s")
                return 1
            time.sleep(0.05)
    print("then served again; dropped +%d" % dropped, flush=True)
    return 0


def resync(path):
    base = resynced(path)
    w = Sub(path)
    assert w.line()["type"] == "hello"
    w.send(b"watch\n")
    deadline = time.monotonic() + 20
    while resynced(path) == base:
        if time.monotonic() > deadline:
            print("no resync within 20 s")
            return 1
        time.sleep(0.02)
    for o in w.until("error"):
        pass
    if not o["message"].startswith("resync: "):
        print("unexpected error: %s" % o["message"])
        return 1
    print("error: %s" % o["message"], flush=True)
    got = w.until("end")
    print("snapshot: %d lines" % len(got), flush=True)
    print("then: %s" % w.line()["type"], flush=True)
    return 0


def latency(path, port, n):
    w = Sub(path)
    assert w.line()["type"] == "hello"
    w.send(b"watch\n")
    w.until("end")
    ms = []
    for _ in range(n):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.connect(("127.0.0.1", port))
        t0 = time.monotonic()
        while True:
            o = w.line()
            if o.get("type") == "open":
                break
        ms.append((time.monotonic() - t0) * 1000.0)
        c.close()
        time.sleep(0.01)
    ms.sort()
    print("accept-to-open ms over %d connections: min %.2f median %.2f "
          "p90 %.2f max %.2f" % (n, ms[0], statistics.median(ms),
                                 ms[int(len(ms) * 0.9) - 1], ms[-1]))
    return 0


def main():
    mode = sys.argv[1]
    if mode == "many":
        return many(sys.argv[2], int(sys.argv[3]))
    if mode == "oversized":
        return oversized(sys.argv[2])
    if mode == "resync":
        return resync(sys.argv[2])
    if mode == "full":
        return full(sys.argv[2], int(sys.argv[3]))
    if mode == "latency":
        return latency(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())

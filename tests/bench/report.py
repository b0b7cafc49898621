#!/usr/bin/env python3
"""Turns the benchmark's raw runs (key=value lines) into the table.

Each figure is the median over the rounds; "vs best peer" divides
tlsechod's median by the better of stunnel's and socat's, and the target
column says whether the issue's target holds in this run.
"""
import statistics
import sys

SERVERS = ["tlsechod", "stunnel", "socat"]
PEERS = ["stunnel", "socat"]


def parse(path):
    runs, floors = [], {}
    with open(path) as f:
        for line in f:
            kv = dict(w.split("=", 1) for w in line.split() if "=" in w)
            if "floor" in kv:
                floors[kv["floor"]] = float(kv["kbytes_s"] or 0)
            elif "server" in kv:
                runs.append(kv)
    return runs, floors


def values(runs, srv, mode, fn):
    out = []
    for r in runs:
        if r["server"] != srv or r["mode"] != mode:
            continue
        try:
            v = fn(r)
        except (KeyError, ValueError, ZeroDivisionError):
            continue
        if v is not None:
            out.append(v)
    return out


def med(xs):
    return statistics.median(xs) if xs else None


# (label, mode, value from a run, lower is better?)
FIGURES = [
    ("handshake: server CPU us/handshake", "handshake",
     lambda r: int(r["cpu_us"]) / int(r["ops"]), True),
    ("handshake: handshakes/s (client-bound)", "handshake",
     lambda r: float(r["rate"]), False),
    ("bulk x4: server CPU ms/MB echoed", "bulk",
     lambda r: int(r["cpu_us"]) / 1000 / float(r["mb"]), True),
    ("bulk x4: MB/s echoed (client-bound)", "bulk",
     lambda r: float(r["mb_s"]), False),
    ("pingpong 64 B: server CPU us/round trip", "pingpong",
     lambda r: int(r["cpu_us"]) / int(r["ops"]), True),
    ("pingpong 64 B: p50 latency us", "pingpong",
     lambda r: float(r["p50_us"]), True),
    ("pingpong 64 B: p99 latency us", "pingpong",
     lambda r: float(r["p99_us"]), True),
    ("pingpong 64 B: round trips/s", "pingpong",
     lambda r: float(r["rate"]), False),
    ("idle: PSS KiB/session", "idle",
     lambda r: (int(r["pss1_kib"]) - int(r["pss0_kib"])) /
     int(r["sessions"]), True),
]


def fmt(v):
    if v is None:
        return "-"
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def main():
    runs, floors = parse(sys.argv[1])
    meds = {}
    w0 = 42
    print(f"{'figure (median of rounds)':<{w0}}" +
          "".join(f"{s:>11}" for s in SERVERS) +
          f"{'vs best peer':>14}  target")
    for label, mode, fn, lower in FIGURES:
        row = {s: med(values(runs, s, mode, fn)) for s in SERVERS}
        meds[label] = row
        peers = [row[p] for p in PEERS if row[p] is not None]
        best = (min(peers) if lower else max(peers)) if peers else None
        ratio = (row["tlsechod"] / best
                 if best and row["tlsechod"] is not None else None)
        target = ""
        if ratio is not None:
            if mode == "handshake" and lower:
                target = "<= 0.50x: " + ("met" if ratio <= 0.5 else "MISSED")
            elif mode == "bulk" and lower:
                target = "<= 0.70x: " + ("met" if ratio <= 0.7 else "MISSED")
            elif mode == "pingpong" and lower and "p50" not in label:
                target = "<= 1.00x: " + ("met" if ratio <= 1.0 else "MISSED")
        if mode == "idle" and row["tlsechod"] is not None:
            target = "< 48 KiB: " + ("met" if row["tlsechod"] < 48
                                     else "MISSED")
        print(f"{label:<{w0}}" + "".join(f"{fmt(row[s]):>11}"
                                          for s in SERVERS) +
              f"{(fmt(ratio) + 'x') if ratio is not None else '-':>14}"
              f"  {target}")

    bulk = meds["bulk x4: server CPU ms/MB echoed"]["tlsechod"]
    print()
    for c, k in sorted(floors.items()):
        if k <= 0:
            continue
        # decrypt and re-encrypt every byte: twice the one-way cost
        floor = 2 * 1e6 / (k * 1000) * 1000
        line = (f"floor {c} (openssl speed, 16 KiB, decrypt+encrypt): "
                f"{floor:.2f} ms/MB")
        if bulk is not None:
            line += (f"; tlsechod bulk is {bulk / floor:.2f}x it "
                     f"(target <= 1.5x: "
                     f"{'met' if bulk / floor <= 1.5 else 'MISSED'})")
        print(line)
    for mode in ("handshake", "bulk", "pingpong"):
        seen = sorted({(r["server"], r.get("version", "?"),
                        r.get("cipher", "?"))
                       for r in runs if r["mode"] == mode})
        if mode == "handshake":
            print("negotiated: " + "; ".join(
                f"{s} {v} {c}" for s, v, c in seen))
    idle = [r for r in runs if r["mode"] == "idle"]
    if idle:
        print("idle sessions held: " + ", ".join(sorted(
            {f"{r['server']} {r['sessions']}" for r in idle})))
    errs = [r for r in runs if r.get("errors", "0") != "0"]
    print(f"runs with client errors: {len(errs)} of {len(runs)}")
    print("MB = 10^6 bytes; CPU = utime+stime of the server's process "
          "tree (children included)")


if __name__ == "__main__":
    main()

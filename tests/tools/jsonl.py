#!/usr/bin/env python3
"""Questions about a file of stats-protocol JSON Lines, for the tests.

  jsonl.py FILE EXPR

Evaluates the Python expression EXPR and prints the result (strings as they
are, anything else as JSON). Lines that are not JSON objects (a line still
being written, say) are skipped. EXPR can use:

  L          every object, in order
  T(t)       the objects of type t
  ids(t)     the ids of the objects of type t, in order
  S(id)      session id as a watcher knows it: its open, then every update
             and its close applied in order ({} when never seen)
  last(t)    the last object of type t, or {}
"""
import json
import sys


def load(path):
    out = []
    with open(path, "rb") as f:
        for raw in f:
            try:
                o = json.loads(raw.decode("utf-8", "replace"))
            except ValueError:
                continue
            if isinstance(o, dict):
                out.append(o)
    return out


def main():
    L = load(sys.argv[1])

    def T(t):
        return [o for o in L if o.get("type") == t]

    def ids(t):
        return [o.get("id") for o in T(t)]

    def S(i):
        s = {}
        for o in L:
            if o.get("id") == i and o.get("type") in (
                    "session", "open", "update", "close"):
                s.update(o)
        return s

    def last(t):
        found = T(t)
        return found[-1] if found else {}

    # One namespace: comprehensions in EXPR see these names too.
    r = eval(sys.argv[2], {"json": json, "L": L, "T": T, "ids": ids,
                           "S": S, "last": last})
    print(r if isinstance(r, str) else json.dumps(r))


if __name__ == "__main__":
    main()

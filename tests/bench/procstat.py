#!/usr/bin/env python3
"""Reads a server's process tree from /proc for the benchmark harness.

  procstat.py cpu PID    CPU microseconds used by PID's tree so far
  procstat.py pss PID    PSS in KiB summed over PID's tree
  procstat.py kids PID   how many descendants PID has now

The tree is PID and every live descendant. CPU is utime+stime+cutime+
cstime of each: /proc/PID/stat of a process already sums all of its
threads, exited ones included (so task/*/stat is not added on top: that
would count threads twice), and cutime/cstime hold the children that
exited and were reaped (a forking server's finished sessions). Read it
when the tree has settled (no transient children), and the before/after
difference is the server's whole cost for the run.
"""
import os
import sys

TICK_US = 1_000_000 / os.sysconf("SC_CLK_TCK")


def stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    # comm may hold spaces and parentheses: split after the last ')'.
    return s[s.rindex(")") + 2:].split()


def tree(root):
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            ppid = int(stat_fields(d)[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_us(root):
    total = 0
    for p in tree(root):
        try:
            f = stat_fields(p)
        except OSError:
            continue  # exited meanwhile: its parent's cutime has it
        # after the comm: state=0 ppid=1 ... utime=11 stime=12
        # cutime=13 cstime=14
        total += sum(int(x) for x in f[11:15])
    return int(total * TICK_US)


def pss_kib(root):
    total = 0
    for p in tree(root):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("cpu", "pss", "kids"):
        sys.exit("usage: procstat.py cpu|pss|kids PID")
    pid = int(sys.argv[2])
    if sys.argv[1] == "cpu":
        print(cpu_us(pid))
    elif sys.argv[1] == "pss":
        print(pss_kib(pid))
    else:
        print(len(tree(pid)) - 1)


if __name__ == "__main__":
    main()

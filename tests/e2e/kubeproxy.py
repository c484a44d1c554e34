#!/usr/bin/python3
"""kubeproxy.py -- a DNS client that behaves like kube-proxy and the
endpoints controller in front of DNS replicas, for tests/e2e/rolling.sh.

    kubeproxy.py RATE TIMEOUT STATUSFILE ADDR...

Every 100 ms it asks GET /ready on ADDR:8181 of each replica; at RATE
queries a second it sends one UDP query (a mix of cluster names and a
forwarded one) to the next replica whose last /ready was 200, and waits
TIMEOUT seconds for its answer.  On SIGTERM it stops sending, waits for the
answers still due, prints one line

    queries sent N, answered N, lost N, wrong N, unrouted N

and one "answered by ADDR N" line per replica, and exits 0.  "wrong" are
answers whose rcode or answer count is not the expected one; "unrouted" are
queries that could not be sent because no replica was ready.  STATUSFILE
gets "answered N" about every second, so the test knows the load runs.
"""

import random
import select
import signal
import socket
import struct
import sys
import threading
import time

# (name, type, rcode): NOERROR names must have an answer.
MIX = [
    ("web.prod.svc.cluster.local", 1, 0),
    ("db.prod.svc.cluster.local", 1, 0),
    ("db-0.db.prod.svc.cluster.local", 1, 0),
    ("_pg._tcp.db.prod.svc.cluster.local", 33, 0),
    ("10.1.96.10.in-addr.arpa", 12, 0),
    ("web.staging.svc.cluster.local", 1, 0),
    ("nosuch.prod.svc.cluster.local", 1, 3),
    ("www.node.test", 1, 0),
]


def query(qid, name, qtype):
    """The wire form of a query, RD set, one question of class IN."""
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack("!HH", qtype, 1)


def ready(addr):
    """True when GET /ready on addr:8181 answers 200."""
    try:
        with socket.create_connection((addr, 8181), timeout=0.5) as s:
            s.sendall(b"GET /ready HTTP/1.0\r\nHost: " + addr.encode() +
                      b"\r\n\r\n")
            line = s.makefile("rb").readline()
        return line.split()[1:2] == [b"200"]
    except (OSError, IndexError):
        return False


def poller(addrs, state, stop):
    """Refresh state["ready"] every 100 ms, as the endpoints controller."""
    while not stop.is_set():
        state["ready"] = [a for a in addrs if ready(a)]
        stop.wait(0.1)


def main():
    rate = float(sys.argv[1])
    timeout = float(sys.argv[2])
    statusfile = sys.argv[3]
    addrs = sys.argv[4:]
    stop_send = threading.Event()
    stop_poll = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop_send.set())
    state = {"ready": [a for a in addrs if ready(a)]}
    th = threading.Thread(target=poller, args=(addrs, state, stop_poll))
    th.start()

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.setblocking(False)
    pending = {}  # (id, addr) -> (deadline, rcode wanted)
    sent = answered = lost = wrong = unrouted = 0
    by = dict((a, 0) for a in addrs)
    nxt = time.monotonic()
    rr = 0
    last_status = 0.0

    def receive(wait):
        nonlocal answered, wrong
        r, _, _ = select.select([sock], [], [], max(wait, 0))
        while r:
            try:
                data, (src, _) = sock.recvfrom(65535)
            except BlockingIOError:
                break
            if len(data) < 12:
                continue
            qid, flags, _, an = struct.unpack("!HHHH", data[:8])
            p = pending.pop((qid, src), None)
            if p is None:
                continue
            answered += 1
            by[src] += 1
            rcode = flags & 0xF
            if rcode != p[1] or (rcode == 0 and an == 0) or flags & 0x0200:
                wrong += 1

    while not stop_send.is_set():
        now = time.monotonic()
        if now >= nxt:
            nxt += 1.0 / rate
            targets = state["ready"]
            if not targets:
                unrouted += 1
            else:
                rr += 1
                addr = targets[rr % len(targets)]
                name, qtype, rcode = random.choice(MIX)
                while True:
                    qid = random.randrange(65536)
                    if (qid, addr) not in pending:
                        break
                try:
                    sock.sendto(query(qid, name, qtype), (addr, 53))
                except OSError:
                    pass  # counted lost when its time is up
                pending[(qid, addr)] = (now + timeout, rcode)
                sent += 1
        receive(nxt - time.monotonic())
        now = time.monotonic()
        for k in [k for k, v in pending.items() if v[0] <= now]:
            del pending[k]
            lost += 1
        if now - last_status >= 1:
            last_status = now
            with open(statusfile, "w") as f:
                f.write("answered %d\n" % answered)

    end = time.monotonic() + timeout
    while pending and time.monotonic() < end:
        receive(0.05)
    lost += len(pending)
    stop_poll.set()
    th.join()
    print("queries sent %d, answered %d, lost %d, wrong %d, unrouted %d" %
          (sent, answered, lost, wrong, unrouted))
    for a in addrs:
        print("answered by %s %d" % (a, by[a]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

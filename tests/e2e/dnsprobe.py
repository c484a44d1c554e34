#!/usr/bin/env python3
"""dnsprobe.py -- send one hand-made DNS query, print the reply's fields.

Used by tests/e2e/compliance.sh for the cases dig and kdig cannot express
(unknown EDNS flags, several questions, bytes after the message, pointers
in the question, ...).  Standard library only.

    dnsprobe.py [OPTIONS] PORT
    dnsprobe.py --batch PORT < LINES


The query is built from the options (defaults: ID 0x1234, opcode QUERY, no
flags, one question web.prod.svc.cluster.local A IN, no EDNS), or given
whole with --raw.  The reply is printed on one line as KEY=VALUE fields:

    rcode=NOERROR opcode=0 flags=qr,aa qd=1 an=1 ns=0 ar=1 edns=0
    eflags=0000 udp=1232 opts=- qname=web.prod.svc.cluster.local.
    qtype=1 qclass=1 antypes=A size=71 id=1234

rcode is the full (extended) rcode when the reply has an OPT; edns is the
OPT's version ("-" without OPT), eflags its 16 flag bits in hex, opts the
option codes it carries.  "noreply" when nothing came back in time, and
"unparsed" (with size) when the reply cannot be read.

With --batch, each line read is the OPTIONS of one query (split at
blanks) and gets its reply's line, flushed at once: one process serves a
whole test script.  A line that is no valid OPTIONS gets "badargs".
"""

import argparse
import socket
import struct
import sys

RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN",
          4: "NOTIMP", 5: "REFUSED", 9: "NOTAUTH", 16: "BADVERS",
          23: "BADCOOKIE"}
TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 13: "HINFO",
         16: "TXT", 28: "AAAA", 33: "SRV", 41: "OPT", 251: "IXFR",
         252: "AXFR", 255: "ANY"}
FLAGS = [(0x8000, "qr"), (0x0400, "aa"), (0x0200, "tc"), (0x0100, "rd"),
         (0x0080, "ra"), (0x0040, "z"), (0x0020, "ad"), (0x0010, "cd")]


def wire_name(name):
    """A presentation name as uncompressed wire bytes (no escapes)."""
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            b = label.encode()
            out += bytes([len(b)]) + b
    return out + b"\0"


def qtype_num(s):
    for k, v in TYPES.items():
        if v == s.upper():
            return k
    return int(s)


def build(a):
    if a.raw is not None:
        return bytes.fromhex(a.raw)
    flags = (a.opcode & 15) << 11
    for bit, on in ((0x8000, a.qr), (0x0400, a.aa), (0x0200, a.tc),
                    (0x0100, a.rd), (0x0080, a.ra), (0x0040, a.z),
                    (0x0020, a.ad), (0x0010, a.cd)):
        if on:
            flags |= bit
    qs = a.q or [["web.prod.svc.cluster.local", "A", "1"]]
    body = b""
    for name, qt, qc in qs:
        wn = bytes.fromhex(name[4:]) if name.startswith("hex:") else \
            wire_name(name)
        body += wn + struct.pack("!HH", qtype_num(qt), int(qc))
    ar = 0
    if a.edns is not None:
        rdata = b""
        for o in a.opt or []:
            code, _, data = o.partition(":")
            d = bytes.fromhex(data)
            rdata += struct.pack("!HH", int(code), len(d)) + d
        ttl = (a.edns & 255) << 16 | (int(a.eflags, 16) & 0xffff)
        body += b"\0" + struct.pack("!HHIH", 41, a.bufsize, ttl,
                                    len(rdata)) + rdata
        ar = 1
    qd = len(qs) if a.qdcount is None else a.qdcount
    hdr = struct.pack("!HHHHHH", a.id, flags, qd, 0, 0, ar)
    return hdr + body + bytes.fromhex(a.trailing)


def name_at(m, off):
    """(name, offset after it) with compression followed, or raises."""
    labels, end, hops = [], None, 0
    while True:
        n = m[off]
        if n & 0xc0 == 0xc0:
            if end is None:
                end = off + 2
            off = (n & 0x3f) << 8 | m[off + 1]
            hops += 1
            if hops > 64:
                raise ValueError("pointer loop")
            continue
        if n == 0:
            off += 1
            break
        labels.append(m[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    return ".".join(labels) + ".", end if end is not None else off


def describe(m):
    if len(m) < 12:
        return "unparsed size=%d" % len(m)
    mid, fl, qd, an, ns, ar = struct.unpack("!HHHHHH", m[:12])
    off = 12
    qname, qtype, qclass = "-", "-", "-"
    try:
        for i in range(qd):
            n, off = name_at(m, off)
            t, c = struct.unpack("!HH", m[off:off + 4])
            off += 4
            if i == 0:
                qname, qtype, qclass = n, t, c
        antypes, edns, eflags, udp, opts = [], "-", "-", "-", "-"
        ext = 0
        for sec, cnt in ((0, an), (1, ns), (2, ar)):
            for _ in range(cnt):
                _, off = name_at(m, off)
                t, c, ttl, rdlen = struct.unpack("!HHIH", m[off:off + 10])
                off += 10
                rd = m[off:off + rdlen]
                if len(rd) != rdlen:
                    raise ValueError("short rdata")
                off += rdlen
                if sec == 0:
                    tn = TYPES.get(t, str(t))
                    if tn not in antypes:
                        antypes.append(tn)
                if sec == 2 and t == 41:
                    ext = ttl >> 24
                    edns = str(ttl >> 16 & 255)
                    eflags = "%04x" % (ttl & 0xffff)
                    udp = str(c)
                    codes, o = [], 0
                    while o + 4 <= len(rd):
                        oc, ol = struct.unpack("!HH", rd[o:o + 4])
                        codes.append("%d/%d" % (oc, ol))
                        o += 4 + ol
                    opts = ",".join(codes) or "-"
    except (IndexError, ValueError, struct.error):
        return "unparsed size=%d id=%04x" % (len(m), mid)
    rc = ext << 4 | (fl & 15)
    flags = ",".join(n for b, n in FLAGS if fl & b) or "-"
    return ("rcode=%s opcode=%d flags=%s qd=%d an=%d ns=%d ar=%d edns=%s "
            "eflags=%s udp=%s opts=%s qname=%s qtype=%s qclass=%s "
            "antypes=%s size=%d id=%04x trailing=%d" % (
                RCODES.get(rc, str(rc)), fl >> 11 & 15, flags, qd, an, ns,
                ar, edns, eflags, udp, opts, qname, qtype, qclass,
                ",".join(antypes) or "-", len(m), mid, len(m) - off))


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            return None
        b += c
    return b


def exchange(a, msg):
    fam = socket.AF_INET6 if ":" in a.addr else socket.AF_INET
    if a.tcp:
        with socket.create_connection((a.addr, a.port), a.timeout) as s:
            s.settimeout(a.timeout)
            s.sendall(struct.pack("!H", len(msg)) + msg)
            ln = recv_exact(s, 2)
            if ln is None:
                return None
            return recv_exact(s, struct.unpack("!H", ln)[0])
    with socket.socket(fam, socket.SOCK_DGRAM) as s:
        s.settimeout(a.timeout)
        s.sendto(msg, (a.addr, a.port))
        return s.recv(65535)


def parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("port", type=int)
    p.add_argument("--batch", action="store_true")
    p.add_argument("--addr", default="127.0.0.1")
    p.add_argument("--tcp", action="store_true")
    p.add_argument("--timeout", type=float, default=2.0)
    p.add_argument("--raw", help="the whole query, as hex")
    p.add_argument("--id", type=lambda s: int(s, 16), default=0x1234)
    p.add_argument("--opcode", type=int, default=0)
    for f in ("qr", "aa", "tc", "rd", "ra", "z", "ad", "cd"):
        p.add_argument("--" + f, action="store_true")
    p.add_argument("--q", nargs=3, action="append",
                   metavar=("NAME", "TYPE", "CLASS"),
                   help="a question (repeat for several); NAME may be "
                   "hex:WIRE")
    p.add_argument("--qdcount", type=int, help="QDCOUNT as written")
    p.add_argument("--edns", type=int, metavar="VERSION",
                   help="add an OPT of this version")
    p.add_argument("--eflags", default="0000",
                   help="OPT flags, 4 hex digits (8000: DO)")
    p.add_argument("--bufsize", type=int, default=1232)
    p.add_argument("--opt", action="append", metavar="CODE:HEX",
                   help="an EDNS option (repeat for several)")
    p.add_argument("--trailing", default="", help="bytes after it, hex")
    return p


def probe(a):
    try:
        r = exchange(a, build(a))
    except (socket.timeout, ConnectionError, OSError):
        r = None
    return "noreply" if not r else describe(r)


def main():
    p = parser()
    a = p.parse_args()
    if not a.batch:
        print(probe(a))
        return 0
    for line in sys.stdin:
        try:
            q = p.parse_args(line.split() + [str(a.port)])
            out = probe(q)
        except (SystemExit, ValueError):
            out = "badargs"
        print(out, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Drives rtpengine's ng control protocol for media-bench.sh (--peer rtpengine).

rtpengine plays the peer recorder: for every recorded call of the benchmark it gets one
call over the ng protocol (bencode over UDP), "offer" then "answer" with "record call: yes",
then "block media", so that it only receives and records (pcap) and forwards nothing. The
near stream of the benchmark goes to the port rtpengine gave the caller (in the answer), the
far stream to the callee's (in the offer); bench_load --no-sip reads them from the ports
file, one call a line: "NEAR_PORT FAR_PORT".

    rtpengine-ng.py setup    NG_ADDR:PORT CALLS SRC_BASE PORTS_FILE
    rtpengine-ng.py ping     NG_ADDR:PORT
    rtpengine-ng.py teardown NG_ADDR:PORT CALLS
        (query + delete every call; prints "RESULT packets=N bytes=B calls=C errors=E")

Only loopback addresses are accepted. Each request waits at most 2 s for its answer and is
tried 3 times, so a run is bounded.
"""
import random
import re
import socket
import sys


def benc(x):
    if isinstance(x, int):
        return b"i%de" % x
    if isinstance(x, str):
        x = x.encode()
    if isinstance(x, bytes):
        return b"%d:%s" % (len(x), x)
    if isinstance(x, list):
        return b"l" + b"".join(benc(i) for i in x) + b"e"
    if isinstance(x, dict):
        return b"d" + b"".join(benc(k) + benc(v) for k, v in sorted(x.items())) + b"e"
    raise TypeError(type(x))


def bdec(b, i=0):
    c = b[i:i + 1]
    if c == b"i":
        j = b.index(b"e", i)
        return int(b[i + 1:j]), j + 1
    if c == b"l":
        i += 1
        out = []
        while b[i:i + 1] != b"e":
            v, i = bdec(b, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        i += 1
        out = {}
        while b[i:i + 1] != b"e":
            k, i = bdec(b, i)
            v, i = bdec(b, i)
            out[k.decode()] = v
        return out, i + 1
    j = b.index(b":", i)
    n = int(b[i:j])
    return b[j + 1:j + 1 + n], j + 1 + n


class Ng:
    def __init__(self, addr):
        host, port = addr.rsplit(":", 1)
        if not host.startswith("127."):
            sys.exit("rtpengine-ng.py: only loopback addresses")
        self.dst = (host, int(port))
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.settimeout(2)

    def __call__(self, d):
        for _ in range(3):
            cookie = "%x" % random.getrandbits(48)
            self.s.sendto(cookie.encode() + b" " + benc(d), self.dst)
            try:
                while True:
                    r = self.s.recv(1 << 20)
                    ck, _, body = r.partition(b" ")
                    if ck.decode() == cookie:
                        return bdec(body)[0]
            except socket.timeout:
                continue
        raise RuntimeError("no answer from rtpengine to %s" % d.get("command"))


def ping_ok(ng):
    try:
        return ng({"command": "ping"}).get("result") == b"pong"
    except RuntimeError:
        return False


def sdp(port):
    return ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n" % port)


def port_of(reply):
    m = re.search(rb"m=audio (\d+)", reply.get("sdp", b""))
    if reply.get("result") != b"ok" or not m:
        raise RuntimeError("rtpengine refused: %r" % reply)
    return int(m.group(1))


def setup(ng, calls, src_base, ports_file):
    with open(ports_file, "w") as f:
        for i in range(calls):
            cid = "bench-%d" % i
            # The phone's address in both SDPs is the benchmark's source socket of that call.
            offer = ng({"command": "offer", "call-id": cid, "from-tag": "near-%d" % i,
                        "sdp": sdp(src_base + i), "record call": "yes"})
            answer = ng({"command": "answer", "call-id": cid, "from-tag": "near-%d" % i,
                         "to-tag": "far-%d" % i, "sdp": sdp(src_base + i),
                         "record call": "yes"})
            blocked = ng({"command": "block media", "call-id": cid})
            if blocked.get("result") != b"ok":
                raise RuntimeError("block media refused: %r" % blocked)
            f.write("%d %d\n" % (port_of(answer), port_of(offer)))


def teardown(ng, calls):
    packets = nbytes = errors = done = 0
    for i in range(calls):
        cid = "bench-%d" % i
        try:
            q = ng({"command": "query", "call-id": cid})
            rtp = q.get("totals", {}).get("RTP", {})
            packets += rtp.get("packets", 0)
            nbytes += rtp.get("bytes", 0)
            errors += rtp.get("errors", 0)
            ng({"command": "delete", "call-id": cid})
            done += 1
        except RuntimeError as e:
            print("rtpengine-ng.py: %s: %s" % (cid, e), file=sys.stderr)
    print("RESULT packets=%d bytes=%d calls=%d errors=%d" % (packets, nbytes, done, errors))


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "setup":
        setup(Ng(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif len(sys.argv) == 3 and sys.argv[1] == "ping":
        sys.exit(0 if ping_ok(Ng(sys.argv[2])) else 1)
    elif len(sys.argv) == 4 and sys.argv[1] == "teardown":
        teardown(Ng(sys.argv[2]), int(sys.argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A BGP peer that stops reading: the stuck session of RFC 9687 §1.

It connects to the collector with the smallest receive buffer the kernel allows, completes the
handshake (OPEN, KEEPALIVE), then keeps sending KEEPALIVEs every Hold Time / 3 and never reads
again. The collector's KEEPALIVEs fill our receive window, then its send queue: its early warning
and then its Send Hold Timer must fire. Prints one line per step on stdout; exits when the
collector closes the connection (or after --max-seconds).

usage: stuck_peer.py LOCAL_ADDR COLLECTOR_ADDR PORT ASN ROUTER_ID HOLD_TIME [MAX_SECONDS]
"""
import socket
import struct
import sys
import time

MARKER = b"\xff" * 16
OPEN, UPDATE, NOTIFICATION, KEEPALIVE = 1, 2, 3, 4


def message(kind, body=b""):
    return MARKER + struct.pack("!HB", 19 + len(body), kind) + body


def open_message(asn, router_id, hold):
    # Capabilities (RFC 5492): MP-BGP IPv4/IPv6 unicast (RFC 4760), 4-octet AS (RFC 6793).
    caps = b"".join([
        struct.pack("!BBHBB", 1, 4, 1, 0, 1),
        struct.pack("!BBHBB", 1, 4, 2, 0, 1),
        struct.pack("!BBI", 65, 4, asn),
    ])
    params = struct.pack("!BB", 2, len(caps)) + caps
    my_as = asn if asn < 65536 else 23456  # AS_TRANS (RFC 6793 §4.2.1)
    return message(OPEN, struct.pack("!BHH4sB", 4, my_as, hold, socket.inet_aton(router_id), len(params)) + params)


def read_message(sock):
    header = read_exactly(sock, 19)
    length, kind = struct.unpack("!HB", header[16:19])
    return kind, read_exactly(sock, length - 19)


def read_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("collector closed the connection during the handshake")
        data += chunk
    return data


def main():
    local, collector, port, asn, router_id, hold = sys.argv[1:7]
    max_seconds = float(sys.argv[7]) if len(sys.argv) > 7 else 600
    port, asn, hold = int(port), int(asn), int(hold)
    family = socket.AF_INET6 if ":" in collector else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # Before connect, so that the window we advertise in the SYN is already small.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
    sock.bind((local, 0))
    sock.connect((collector, port))
    sock.sendall(open_message(asn, router_id, hold))
    kind, body = read_message(sock)
    if kind != OPEN:
        print(f"expected OPEN, got type {kind}: {body.hex()}", flush=True)
        return 1
    sock.sendall(message(KEEPALIVE))
    kind, body = read_message(sock)
    if kind != KEEPALIVE:
        print(f"expected KEEPALIVE, got type {kind}: {body.hex()}", flush=True)
        return 1
    print(f"established rcvbuf={sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)}", flush=True)
    interval = max(1.0, hold / 3)
    start = time.monotonic()
    try:
        while time.monotonic() - start < max_seconds:
            sock.sendall(message(KEEPALIVE))
            time.sleep(interval)
    except (ConnectionResetError, BrokenPipeError) as e:
        # Nothing is read, so the collector's close shows only as a reset on our next write.
        print(f"closed by the collector: {e}", flush=True)
        return 0
    print("still open at the time limit", flush=True)
    return 2


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""ICMP echo round trips from the namespace this runs in.

    python3 ping.py <count> <address> [<address> ...]

Prints one JSON object: address -> list of round trips in ms. The target's kernel answers the
echo, so no process of the target is in the figure; this one runs at a real-time priority, so
its own wake-up on a loaded machine is not either. (The kernel's receive timestamp cannot be
used: it is taken when the packet reaches the interface, before the delay line holds it.)
Needs a raw socket (root). Targets are pinged in turn, one echo outstanding at a time; a lost
echo counts as nothing.
"""
import json
import os
import select
import socket
import struct
import sys
import time


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def main() -> None:
    count = int(sys.argv[1])
    targets = sys.argv[2:]
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(5))
    except OSError:
        pass
    ident = os.getpid() & 0xFFFF
    rtts = {t: [] for t in targets}
    seq = 0
    for _ in range(count):
        for target in targets:
            seq = (seq + 1) & 0xFFFF
            header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
            payload = b"swarmcast-links"
            packet = struct.pack("!BBHHH", 8, 0, checksum(header + payload), ident, seq) + payload
            sent = time.monotonic_ns()
            sock.sendto(packet, (target, 0))
            deadline = time.monotonic() + 1.0
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([sock], [], [], left)[0]:
                    break
                data, source = sock.recvfrom(2048)
                ihl = (data[0] & 0x0F) * 4
                kind, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl : ihl + 8])
                if kind != 0 or rid != ident or rseq != seq or source[0] != target:
                    continue
                rtts[target].append((time.monotonic_ns() - sent) / 1e6)
                break
            time.sleep(0.01)
    print(json.dumps(rtts))


if __name__ == "__main__":
    main()

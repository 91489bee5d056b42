#!/usr/bin/env python3
"""A wire with delay, for the NAT lab (docs/nat-lab.md): netem's delay in user space.

  wire.py MS SITE_DEV:BRIDGE_DEV...

Run in the internet namespace. For each pair, every Ethernet frame that arrives on SITE_DEV (the
site's end of its uplink, taken out of the bridge) leaves on BRIDGE_DEV (one end of a veth pair
whose other end is on the bridge) MS milliseconds later, and the other way round. Order is kept:
the delay is the same for every frame, so each direction is a FIFO.

It exists because the development machine's kernel has no sch_netem, which no package adds.
Frames are read and written with AF_PACKET sockets, which see a device's frames before its
ingress hook, so lab.sh drops everything at ingress of both devices: the internet namespace's
own stack never answers ARP or IP on them, and the frames exist only for this wire.

Offloads need no switching off: with PACKET_VNET_HDR every frame comes with a virtio_net_hdr
(GSO type and size, where a not yet computed checksum starts and goes), and the same header given
back on send makes the kernel segment and checksum on the far side as it would have anyway. A
TCP segment of 64 KiB stays one frame, and a UDP datagram with CHECKSUM_PARTIAL keeps its
checksum to be filled in.

Prints "wire ready" once every socket is bound; runs until killed (lab.sh down).
"""
import collections
import errno
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
PACKET_VNET_HDR = 15         # frames start with struct virtio_net_hdr: flags, gso_type, hdr_len,
                             # gso_size, csum_start, csum_offset (u8 u8 u16 u16 u16 u16)
PACKET_IGNORE_OUTGOING = 23
SO_RCVBUFFORCE = 33          # SO_RCVBUF beyond rmem_max; we run as root
PACKET_OUTGOING = 4          # sll_pkttype of a frame this host sent: never forward it back
BUFFER = 256 << 10           # a GSO frame is up to 64 KiB (more with BIG TCP); generous
BATCH = 64                   # frames read from one socket before the queues get a look
BACKLOG = 32 << 20           # bytes held per direction before a frame is dropped, as a router's
                             # full queue would


def packet_socket(dev):
    # Protocol 0 until bound: a socket made for ETH_P_ALL would take frames of every device in
    # the namespace until bind() narrows it to one.
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    # Frames leaving the device (the kernel's, another socket's) are not arrivals: forwarded,
    # they would go back where they came from.
    s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
    s.bind((dev, ETH_P_ALL))
    # struct packet_mreq: ifindex, type, address length, address. Frames for other MAC
    # addresses (the bridge's, the router's) must reach us too.
    ifindex = socket.if_nametoindex(dev)
    s.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP,
                 struct.pack("iHH8s", ifindex, PACKET_MR_PROMISC, 0, b""))
    s.setblocking(False)
    return s


class Direction:
    """Frames read from one device, waiting for their time to leave on another."""

    def __init__(self, name, out):
        self.name = name
        self.out = out
        self.queue = collections.deque()   # (due, frame), due ascending
        self.held = 0
        self.dropped = 0

    def hold(self, due, frame):
        if self.held + len(frame) > BACKLOG:
            self.drop("backlog full")
            return
        self.queue.append((due, frame))
        self.held += len(frame)

    def release(self, now):
        while self.queue and self.queue[0][0] <= now:
            _, frame = self.queue.popleft()
            self.held -= len(frame)
            try:
                self.out.send(frame)
            except BlockingIOError:
                # The device's queue is full for a moment: that frame is lost, as on a wire.
                self.drop("device busy")

    def drop(self, why):
        """Counts a lost frame; the log hears of the 1st, 10th, 100th... of a direction."""
        self.dropped += 1
        if str(self.dropped).strip("0") == "1":
            print(f"wire: {self.name}: {self.dropped} frames dropped, the last: {why}",
                  file=sys.stderr, flush=True)

    def next_due(self):
        return self.queue[0][0] if self.queue else None


def run(delay, pairs):
    directions = {}
    for site_dev, bridge_dev in pairs:
        site, bridge = packet_socket(site_dev), packet_socket(bridge_dev)
        directions[site] = Direction(f"{site_dev}->{bridge_dev}", bridge)
        directions[bridge] = Direction(f"{bridge_dev}->{site_dev}", site)
    print("wire ready", f"{delay * 1000:g} ms", " ".join(f"{a}:{b}" for a, b in pairs), flush=True)
    buf = bytearray(BUFFER)
    view = memoryview(buf)
    readers = list(directions)
    while True:
        dues = [d for d in (x.next_due() for x in directions.values()) if d is not None]
        timeout = max(0.0, min(dues) - time.monotonic()) if dues else None
        readable, _, _ = select.select(readers, [], [], timeout)
        for sock in readable:
            direction = directions[sock]
            for _ in range(BATCH):
                try:
                    n, address = sock.recvfrom_into(buf, 0, socket.MSG_TRUNC)
                except BlockingIOError:
                    break
                except OSError as e:
                    if e.errno != errno.EINVAL:
                        raise
                    direction.drop("a GSO type virtio_net_hdr cannot describe")
                    continue
                if address[2] == PACKET_OUTGOING:
                    continue
                if n > BUFFER:
                    direction.drop(f"{n} bytes, more than the buffer's {BUFFER}")
                    continue
                direction.hold(time.monotonic() + delay, bytes(view[:n]))
        now = time.monotonic()
        for direction in directions.values():
            direction.release(now)


def main(args):
    if len(args) < 2 or not args[0].isdigit():
        sys.exit(__doc__)
    pairs = []
    for pair in args[1:]:
        site_dev, sep, bridge_dev = pair.partition(":")
        if not sep or not site_dev or not bridge_dev:
            sys.exit(f"wire.py: expected SITE_DEV:BRIDGE_DEV, got '{pair}'")
        pairs.append((site_dev, bridge_dev))
    try:
        run(int(args[0]) / 1000, pairs)
    except OSError as e:
        sys.exit(f"wire.py: {e}")


if __name__ == "__main__":
    main(sys.argv[1:])

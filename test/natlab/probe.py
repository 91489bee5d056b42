#!/usr/bin/env python3
"""Packets that show what a NAT does, for the NAT lab (docs/nat-lab.md).

  probe.py serve ADDR:PORT...          in inet: answer on every listed UDP and TCP address
  probe.py map [--port P] SERVER...    from one UDP socket, ask each server what it sees
  probe.py poke [--port P] SERVER      ask SERVER to answer from every server socket at once
  probe.py tcp SERVER                  the same question over TCP
  probe.py rtt [--udp] COUNT SERVER    COUNT UDP echoes 5 ms apart, then one TCP connect: times
  probe.py listen PORT MS              wait up to MS milliseconds for one datagram on UDP PORT
  probe.py send FROM TO                send one datagram from FROM (ip:port, port 0 = any) to TO
  probe.py punch PORT PEER SECONDS     send to PEER from UDP PORT every 100 ms; print who answers
  probe.py natpmp ROUTER PORT SECONDS  NAT-PMP (RFC 6886): map UDP PORT, print the external port
  probe.py pcp ROUTER PORT SECONDS     PCP (RFC 6887) MAP of UDP PORT, print the external address
  probe.py upnp PORT SECONDS           UPnP IGD (SSDP, then SOAP AddPortMapping) of UDP PORT
  probe.py stun IP1 IP2 PORT1 PORT2    in inet: a STUN server that honours CHANGE-REQUEST

The servers' protocol is one line of text, in one datagram (or on one TCP connection):
  "map"  -> "seen IP:PORT" from the socket asked: the address the NAT mapped the client to.
  "poke" -> that reply, then "poke" from every other server socket to the same client address,
            so the client learns which of them its NAT lets in (RFC 4787 filtering).
  "echo N" -> the same datagram back.
Output lines: "mapped SERVER IP:PORT", "timeout SERVER", "received SOURCE", "nothing",
"external [IP:]PORT", "udp-rtt SERVER MIN_MS ANSWERED/SENT", "tcp-connect SERVER MS".
"""
import http.client
import re
import selectors
import socket
import struct
import sys
import time
import urllib.parse

TRIES, TRY_TIMEOUT = 3, 0.3


def addr(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def fmt(a):
    return f"{a[0]}:{a[1]}"


def cmd_serve(addrs):
    sel = selectors.DefaultSelector()
    udp = []
    for a in map(addr, addrs):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(a)
        udp.append(u)
        sel.register(u, selectors.EVENT_READ, "udp")
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind(a)
        t.listen(16)
        sel.register(t, selectors.EVENT_READ, "tcp")
    print("serving", " ".join(addrs), flush=True)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if key.data == "tcp":
                c, peer = s.accept()
                with c:
                    c.sendall(f"seen {fmt(peer)}\n".encode())
                continue
            data, peer = s.recvfrom(2048)
            if data.startswith(b"echo "):
                s.sendto(data, peer)
                continue
            word = data.strip()
            if word not in (b"map", b"poke"):
                continue
            s.sendto(f"seen {fmt(peer)}".encode(), peer)
            if word == b"poke":
                for other in udp:
                    if other is not s:
                        other.sendto(b"poke", peer)


MAGIC = b"\x21\x12\xa4\x42"  # STUN's magic cookie


def cmd_stun(args):
    """STUN Binding (RFC 5389) with CHANGE-REQUEST (RFC 5780 / 3489) on IP1,IP2 x PORT1,PORT2.

    miniupnpd on a router whose WAN address is reserved (all of 198.51.100.0/24 is) only maps
    ports after STUN proved the WAN is not filtered: four requests, answered from the asked
    address, another port, another address, and both.
    """
    ips, ports = args[0:2], [int(p) for p in args[2:4]]
    socks = {}
    sel = selectors.DefaultSelector()
    for i, ip in enumerate(ips):
        for j, port in enumerate(ports):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((ip, port))
            socks[i, j] = s
            sel.register(s, selectors.EVENT_READ, (i, j))
    print("stun", " ".join(f"{ip}:{p}" for ip in ips for p in ports), flush=True)
    while True:
        for key, _ in sel.select():
            data, peer = key.fileobj.recvfrom(2048)
            if len(data) < 20 or data[0:2] != b"\x00\x01" or data[4:8] != MAGIC:
                continue
            change = 0
            attrs = data[20:20 + struct.unpack("!H", data[2:4])[0]]
            while len(attrs) >= 4:
                kind, length = struct.unpack("!HH", attrs[:4])
                if kind == 0x0003 and length == 4:
                    change = attrs[7]
                attrs = attrs[4 + ((length + 3) & ~3):]
            i, j = key.data
            answer_from = socks[i ^ bool(change & 4), j ^ bool(change & 2)]
            answer_from.sendto(stun_response(data[8:20], peer), peer)


def stun_response(txid, peer):
    ip, port = socket.inet_aton(peer[0]), peer[1]
    mapped = struct.pack("!HHBBH4s", 0x0001, 8, 0, 1, port, ip)
    xport = port ^ 0x2112
    xip = bytes(a ^ b for a, b in zip(ip, MAGIC))
    xmapped = struct.pack("!HHBBH4s", 0x0020, 8, 0, 1, xport, xip)
    body = mapped + xmapped
    return struct.pack("!HH", 0x0101, len(body)) + MAGIC + txid + body


def client_socket(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    return s


def datagrams(s, seconds):
    """(data, source) of each datagram that arrives on s within the next seconds."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        s.settimeout(left)
        try:
            yield s.recvfrom(2048)
        except socket.timeout:
            return


def ask(s, server, word):
    """Send word to server until it answers "seen ..."; return the text after "seen"."""
    for _ in range(TRIES):
        s.sendto(word, server)
        for data, src in datagrams(s, TRY_TIMEOUT):
            if src == server and data.startswith(b"seen "):
                return data[5:].decode()
    return None


def port_option(args):
    if args[:1] == ["--port"]:
        return int(args[1]), args[2:]
    return 0, args


def cmd_map(args):
    port, servers = port_option(args)
    s = client_socket(port)
    print("local", s.getsockname()[1], flush=True)
    for text in servers:
        seen = ask(s, addr(text), b"map")
        print(f"mapped {text} {seen}" if seen else f"timeout {text}", flush=True)


def cmd_poke(args):
    port, rest = port_option(args)
    server = addr(rest[0])
    s = client_socket(port)
    print("local", s.getsockname()[1], flush=True)
    seen = ask(s, server, b"poke")
    if seen is None:
        print("timeout", rest[0], flush=True)
        return
    print(f"mapped {rest[0]} {seen}", flush=True)
    print("received", rest[0], flush=True)
    for _, src in datagrams(s, 0.5):
        print("received", fmt(src), flush=True)


def cmd_tcp(args):
    with socket.create_connection(addr(args[0]), timeout=3) as c:
        line = c.makefile().readline().split()
        print(f"mapped {args[0]} {line[1]}", flush=True)


def cmd_rtt(args):
    """Round trips to SERVER: the shortest of COUNT UDP echoes and how many came back (loss shows
    in the count), then, unless --udp, the time a TCP connect takes (SYN to SYN-ACK: one round
    trip). Echoes get 2 s after the last one left. One echo first, not counted: it also waits
    for ARP on every hop, which crosses the same (delayed) uplinks."""
    udp_only = args[:1] == ["--udp"]
    args = args[1:] if udp_only else args
    count, server, gap = int(args[0]), addr(args[1]), 0.005
    s = client_socket(0)
    for _ in range(TRIES):
        s.sendto(b"echo -1", server)
        if any(src == server for _, src in datagrams(s, 1)):
            break
    sent_at = {}            # echo number -> when it left, until it comes back
    rtts = []
    start = time.monotonic()
    deadline = start + count * gap + 2
    while len(rtts) < count and (now := time.monotonic()) < deadline:
        sent = len(sent_at) + len(rtts)
        if sent < count and now >= start + sent * gap:
            sent_at[sent] = now
            s.sendto(b"echo %d" % sent, server)
            continue
        s.settimeout(min(gap, deadline - now))
        try:
            data, src = s.recvfrom(2048)
        except socket.timeout:
            continue
        n = int(data.split()[1])
        if src == server and n in sent_at:
            rtts.append(time.monotonic() - sent_at.pop(n))
    best = f"{min(rtts) * 1000:.1f}" if rtts else "-"
    print(f"udp-rtt {args[1]} {best} {len(rtts)}/{count}", flush=True)
    if udp_only:
        return
    start = time.monotonic()
    with socket.create_connection(server, timeout=5):
        print(f"tcp-connect {args[1]} {(time.monotonic() - start) * 1000:.1f}", flush=True)


def cmd_listen(args):
    s = client_socket(int(args[0]))
    print("listening", args[0], flush=True)
    s.settimeout(int(args[1]) / 1000)
    try:
        _, src = s.recvfrom(2048)
        print("received", fmt(src), flush=True)
    except socket.timeout:
        print("nothing", flush=True)


def cmd_send(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(addr(args[0]))
    s.sendto(b"hello", addr(args[1]))


def ask_router(router, port, request, reply_size):
    """Send a NAT-PMP or PCP request from UDP port PORT (the port to map) to ROUTER:5351."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    s.connect((router, 5351))
    if callable(request):
        request = request(socket.inet_aton(s.getsockname()[0]))
    for _ in range(TRIES):
        s.send(request)
        s.settimeout(TRY_TIMEOUT * 2)
        try:
            data = s.recv(1100)
        except (socket.timeout, ConnectionRefusedError):
            continue
        if len(data) >= reply_size:
            return data
    sys.exit(f"no answer from {router}:5351")


def cmd_natpmp(args):
    router, port, lifetime = args[0], int(args[1]), int(args[2])
    # RFC 6886 3.3: version 0, opcode 1 (UDP), reserved, internal port, suggested external port,
    # lifetime. Answer: version, opcode 129, result, epoch, internal port, external port, lifetime.
    data = ask_router(router, port, struct.pack("!BBHHHI", 0, 1, 0, port, port, lifetime), 16)
    _, op, result, _, _, external, _ = struct.unpack("!BBHIHHI", data[:16])
    if op != 129 or result != 0:
        sys.exit(f"natpmp: opcode {op} result {result}")
    print("external", external, flush=True)


V4MAPPED = b"\0" * 10 + b"\xff\xff"


def cmd_pcp(args):
    router, port, lifetime = args[0], int(args[1]), int(args[2])
    nonce = bytes(range(1, 13))

    # RFC 6887 7.1 + 11.1: version 2, opcode 1 (MAP), reserved, lifetime, client address
    # (IPv4-mapped); nonce, protocol 17, reserved, internal port, suggested port and address.
    def request(client_ip):
        return (struct.pack("!BBHI", 2, 1, 0, lifetime) + V4MAPPED + client_ip + nonce
                + struct.pack("!B3xHH", 17, port, port) + V4MAPPED + bytes(4))

    data = ask_router(router, port, request, 60)
    # Answer: version, 0x80|opcode, reserved, result, lifetime, epoch, 12 reserved; then the MAP
    # fields with the assigned external port and address.
    _, op, result = struct.unpack("!BBxB", data[:4])
    if op != 0x81 or result != 0 or data[24:36] != nonce:
        sys.exit(f"pcp: opcode {op:#x} result {result}")
    external_port = struct.unpack("!H", data[42:44])[0]
    print(f"external {socket.inet_ntoa(data[56:60])}:{external_port}", flush=True)


def cmd_upnp(args):
    """UPnP IGD: SSDP discovery, the description, then AddPortMapping and GetExternalIPAddress."""
    port, lifetime = int(args[0]), int(args[1])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    search = ("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n"
              "MX: 1\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n")
    location = None
    for _ in range(TRIES):
        s.sendto(search.encode(), ("239.255.255.250", 1900))
        try:
            answer = s.recv(2048).decode(errors="replace")
        except socket.timeout:
            continue
        location = re.search(r"(?im)^location:\s*(\S+)", answer)
        if location:
            break
    if not location:
        sys.exit("upnp: no SSDP answer")
    url = urllib.parse.urlsplit(location.group(1))
    desc = http_call(url.netloc, "GET", url.path)
    service = re.search(r"<serviceType>(urn:schemas-upnp-org:service:WANIPConnection:\d)</serviceType>"
                        r".*?<controlURL>([^<]+)</controlURL>", desc, re.S)
    if not service:
        sys.exit("upnp: no WANIPConnection service in " + url.geturl())
    kind, control = service.groups()
    with socket.create_connection((url.hostname, url.port)) as c:
        me = c.getsockname()[0]
    soap(url.netloc, control, kind, "AddPortMapping",
         NewRemoteHost="", NewExternalPort=port, NewProtocol="UDP", NewInternalPort=port,
         NewInternalClient=me, NewEnabled=1, NewPortMappingDescription="natlab",
         NewLeaseDuration=lifetime)
    answer = soap(url.netloc, control, kind, "GetExternalIPAddress")
    external = re.search(r"<NewExternalIPAddress>([^<]*)<", answer).group(1)
    print(f"external {external}:{port}", flush=True)


def soap(netloc, path, kind, action, **arguments):
    fields = "".join(f"<{k}>{v}</{k}>" for k, v in arguments.items())
    body = ('<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
            's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
            f'<u:{action} xmlns:u="{kind}">{fields}</u:{action}></s:Body></s:Envelope>')
    return http_call(netloc, "POST", path, body, {"SOAPAction": f'"{kind}#{action}"',
                                                  "Content-Type": 'text/xml; charset="utf-8"'})


def http_call(netloc, method, path, body=None, headers=None):
    c = http.client.HTTPConnection(netloc, timeout=3)
    c.request(method, path, body, headers or {})
    r = c.getresponse()
    text = r.read().decode(errors="replace")
    if r.status != 200:
        sys.exit(f"upnp: {method} {path}: HTTP {r.status} {text[-300:]}")
    return text


def cmd_punch(args):
    port, peer, seconds = int(args[0]), addr(args[1]), float(args[2])
    s = client_socket(port)
    heard = set()
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        s.sendto(b"punch", peer)
        s.settimeout(min(left, 0.1))
        try:
            _, src = s.recvfrom(2048)
        except socket.timeout:
            continue
        if src not in heard:
            heard.add(src)
            print("received", fmt(src), flush=True)


COMMANDS = {"serve": cmd_serve, "stun": cmd_stun, "map": cmd_map, "poke": cmd_poke, "tcp": cmd_tcp,
            "rtt": cmd_rtt, "listen": cmd_listen, "send": cmd_send, "punch": cmd_punch, "natpmp": cmd_natpmp,
            "pcp": cmd_pcp, "upnp": cmd_upnp}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    try:
        COMMANDS[sys.argv[1]](sys.argv[2:])
    except (IndexError, ValueError) as e:
        sys.exit(f"probe.py {sys.argv[1]}: bad arguments {sys.argv[2:]} ({e}); see probe.py --help")
    except OSError as e:
        sys.exit(f"probe.py {sys.argv[1]}: {e}")

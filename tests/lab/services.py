#!/usr/bin/env python3
"""Servers of the lab's fake internet, started inside lab namespaces.

  services.py internet CONFIG.json   IP-echo and Tor-check HTTP endpoints on port 80, the same
                                     over HTTPS on port 443 (a certificate of the lab's CA), the
                                     authoritative DNS server of the lab zone (UDP and TCP 53)
                                     and the zone's service of the unique-name method: it keeps
                                     the address of every resolver that asks for a name under
                                     the probe zone and reports them over HTTPS
                                     (GET /resolvers?names=L1,L2,L3)
  services.py listen READY PORT...   a service a qube owner opened: accepts TCP connections,
                                     answers one line and closes
  services.py forge READY KIND BIND PORT ADDRESS LOG [TLSPORT CERT KEY]
                                     a lying network qube's forger on BIND:PORT (bound to one
                                     address, so that UDP answers leave from it; echo also over
                                     HTTPS on TLSPORT with that certificate):
                                     KIND echo answers every HTTP request with ADDRESS as the
                                     client's address; KIND dns answers every A query with
                                     ADDRESS (UDP and TCP)

Every HTTP request and every DNS query is appended to a log file (epoch seconds, client
address, what was asked) so that tests can prove what did or did not reach the internet.
"""

import json
import re
import socket
import ssl
import socketserver
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_log_lock = threading.Lock()


def append_log(path, *fields):
    line = " ".join(str(f) for f in fields)
    with _log_lock:
        with open(path, "a", encoding="ascii", errors="replace") as f:
            f.write(f"{time.time():.3f} {line}\n")


# --------------------------------------------------------------------------- HTTP


def make_http_handler(cfg, zone=None):
    echo = {e["address"]: e for e in cfg["echo"]}
    probe = cfg["dns"].get("probe") or {}
    tor = cfg["tor_check"]
    tor_exits = set(cfg["tor_exits"])

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"
        server_version = "netmap-lab"
        sys_version = ""

        def log_message(self, *args):  # keep stderr quiet; requests go to the logs
            pass

        def reply(self, code, body, ctype="text/plain"):
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def handle_any(self):
            local = self.connection.getsockname()[0]
            client = self.client_address[0]
            path = self.path[:200].replace(" ", "%20")
            if local in echo:
                append_log(echo[local]["log"], client, self.command, path)
                self.reply(200, client + "\n")
            elif zone is not None and local == probe.get("service"):
                append_log(probe["log"], client, self.command, path)
                base, _, query = self.path.partition("?")
                labels = query[len("names="):].split(",") if query.startswith("names=") else []
                if base != "/resolvers" or not 1 <= len(labels) <= 3 or not all(
                        PROBE_LABEL.fullmatch(label) for label in labels):
                    self.reply(404, "not found\n")
                else:
                    self.reply(200, zone.report(labels))
            elif local == tor["address"]:
                append_log(tor["log"], client, self.command, path)
                if self.path.split("?")[0] == tor["path"]:
                    body = json.dumps({"IsTor": client in tor_exits, "IP": client})
                    self.reply(200, body, "application/json")
                else:
                    self.reply(404, "not found\n")
            else:
                self.reply(404, "not found\n")

        do_GET = handle_any
        do_HEAD = handle_any

    return Handler


# --------------------------------------------------------------------------- DNS

TYPE_A, TYPE_NS, TYPE_SOA, TYPE_TXT, TYPE_ANY = 1, 2, 6, 16, 255
PROBE_LABEL = re.compile(r"[0-9a-f]{20}")


def encode_name(name):
    out = b""
    for label in name.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\0"


def parse_query(data):
    """Return (id, flags, name, qtype, question bytes) or None for anything odd."""
    if len(data) < 17:
        return None
    qid, flags, qdcount = struct.unpack(">HHH", data[:6])
    if flags & 0x8000 or qdcount != 1:
        return None
    labels, i = [], 12
    while True:
        if i >= len(data) or i > 12 + 255:
            return None
        n = data[i]
        if n == 0:
            i += 1
            break
        if n & 0xC0:
            return None
        labels.append(data[i + 1 : i + 1 + n])
        i += 1 + n
    if i + 4 > len(data):
        return None
    qtype, _qclass = struct.unpack(">HH", data[i : i + 4])
    name = b".".join(labels).decode("ascii", "replace").lower()
    return qid, flags, name, qtype, data[12 : i + 4]


def rr(name_bytes, rtype, ttl, rdata):
    return name_bytes + struct.pack(">HHIH", rtype, 1, ttl, len(rdata)) + rdata


class Zone:
    def __init__(self, cfg):
        self.zone = cfg["zone"].lower().strip(".")
        self.whoami = cfg["whoami"].lower().strip(".")
        self.hosts = {k.lower(): v for k, v in cfg["hosts"].items()}
        self.ns_addr = cfg["address"]
        self.log = cfg["log"]
        # The unique-name method: LABEL.PROBE-ZONE answers probe["answer"]; who asked is kept.
        probe = cfg.get("probe") or {}
        self.probe_zone = (probe.get("zone") or "").lower().strip(".")
        self.probe_answer = probe.get("answer")
        self.asked = {}  # label -> resolver addresses in order
        self.asked_lock = threading.Lock()

    def report(self, labels):
        """The zone service's answer (the protocol README.md and the program's parser define)."""
        lines = ["netmap-resolvers 1"]
        with self.asked_lock:
            for label in labels:
                lines += [f"{label} {a}" for a in self.asked.get(label, [])]
        return "\n".join(lines + ["end"]) + "\n"

    def soa(self):
        rdata = (
            encode_name("ns." + self.zone)
            + encode_name("hostmaster." + self.zone)
            + struct.pack(">IIIII", 1, 3600, 600, 86400, 0)
        )
        return rr(encode_name(self.zone), TYPE_SOA, 0, rdata)

    def answer(self, data, client):
        q = parse_query(data)
        if q is None:
            return None
        qid, flags, name, qtype, question = q
        append_log(self.log, client, name, qtype)
        answers, authority, rcode = [], [], 0
        in_zone = name == self.zone or name.endswith("." + self.zone)
        probe_label = None
        if self.probe_zone and name.endswith("." + self.probe_zone):
            head = name[: -len(self.probe_zone) - 1]
            probe_label = head if PROBE_LABEL.fullmatch(head) else None
        if not in_zone:
            rcode = 5  # REFUSED: this server is authoritative for the lab zone only
        elif probe_label:
            with self.asked_lock:
                seen = self.asked.setdefault(probe_label, [])
                if client not in seen and len(seen) < 16:
                    seen.append(client)
            if qtype in (TYPE_A, TYPE_ANY):
                answers.append(rr(b"\xc0\x0c", TYPE_A, 0, socket.inet_aton(self.probe_answer)))
            else:
                authority.append(self.soa())
        elif name == self.whoami or name.endswith("." + self.whoami):
            if qtype in (TYPE_A, TYPE_ANY):
                answers.append(rr(b"\xc0\x0c", TYPE_A, 0, socket.inet_aton(client)))
            if qtype in (TYPE_TXT, TYPE_ANY):
                txt = client.encode()
                answers.append(rr(b"\xc0\x0c", TYPE_TXT, 0, bytes([len(txt)]) + txt))
            if not answers:
                authority.append(self.soa())
        elif name in self.hosts or name == "ns." + self.zone:
            addr = self.hosts.get(name, self.ns_addr)
            if qtype in (TYPE_A, TYPE_ANY):
                answers.append(rr(b"\xc0\x0c", TYPE_A, 0, socket.inet_aton(addr)))
            else:
                authority.append(self.soa())
        elif name == self.zone:
            if qtype in (TYPE_SOA, TYPE_ANY):
                answers.append(self.soa())
            if qtype in (TYPE_NS, TYPE_ANY):
                answers.append(rr(b"\xc0\x0c", TYPE_NS, 0, encode_name("ns." + self.zone)))
            if not answers:
                authority.append(self.soa())
        else:
            rcode = 3  # NXDOMAIN
            authority.append(self.soa())
        rflags = 0x8000 | 0x0400 | (flags & 0x0100) | rcode  # QR, AA, copy RD
        header = struct.pack(">HHHHHH", qid, rflags, 1, len(answers), len(authority), 0)
        return header + question + b"".join(answers) + b"".join(authority)


def serve_dns(zone, address, port=53):
    """DNS over UDP and TCP on address:port, answered by zone.answer(query, client address)."""
    class Udp(socketserver.BaseRequestHandler):
        def handle(self):
            data, sock = self.request
            reply = zone.answer(data, self.client_address[0])
            if reply:
                sock.sendto(reply, self.client_address)

    class Tcp(socketserver.StreamRequestHandler):
        def handle(self):
            self.connection.settimeout(5)
            try:
                head = self.rfile.read(2)
                if len(head) != 2:
                    return
                (n,) = struct.unpack(">H", head)
                reply = zone.answer(self.rfile.read(n), self.client_address[0])
                if reply:
                    self.wfile.write(struct.pack(">H", len(reply)) + reply)
            except OSError:
                pass

    class UdpServer(socketserver.ThreadingUDPServer):
        allow_reuse_address = True
        daemon_threads = True

    class TcpServer(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True

    servers = [UdpServer((address, port), Udp), TcpServer((address, port), Tcp)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    return servers


# --------------------------------------------------------------------------- modes


class TlsServer(ThreadingHTTPServer):
    """HTTPS: the handshake runs in the request's own thread, so a stalled client blocks no one."""

    def __init__(self, address, handler, context):
        super().__init__(address, handler)
        self.context = context

    def finish_request(self, request, client_address):
        request.settimeout(10)
        try:
            conn = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        self.RequestHandlerClass(conn, client_address, self)


class Http6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        super().server_bind()


class Tls6Server(TlsServer):
    address_family = socket.AF_INET6

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        super().server_bind()


def tls_context(cert, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def run_internet(config_path):
    with open(config_path, encoding="utf-8") as f:
        cfg = json.load(f)
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    zone = Zone(cfg["dns"])
    http = ThreadingHTTPServer(("0.0.0.0", 80), make_http_handler(cfg))
    threading.Thread(target=http.serve_forever, daemon=True).start()
    if cfg.get("tls"):
        context = tls_context(cfg["tls"]["cert"], cfg["tls"]["key"])
        # The zone's service answers over HTTPS only, as the program requires.
        https = TlsServer(("0.0.0.0", 443), make_http_handler(cfg, zone), context)
        threading.Thread(target=https.serve_forever, daemon=True).start()
    if cfg.get("ipv6"):
        # The IPv6 echo services (when the lab has IPv6 on): the same answers over IPv6 only.
        http6 = Http6Server(("::", 80), make_http_handler(cfg))
        threading.Thread(target=http6.serve_forever, daemon=True).start()
        if cfg.get("tls"):
            https6 = Tls6Server(("::", 443), make_http_handler(cfg), context)
            threading.Thread(target=https6.serve_forever, daemon=True).start()
    serve_dns(zone, cfg["dns"]["address"])
    with open(cfg["ready"], "w", encoding="ascii") as f:
        f.write("ready\n")
    while True:
        time.sleep(3600)


def run_listen(ready, ports):
    def serve(sock):
        while True:
            conn, _ = sock.accept()
            try:
                conn.sendall(b"netmap-lab service\n")
            except OSError:
                pass
            conn.close()

    for port in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen(16)
        threading.Thread(target=serve, args=(s,), daemon=True).start()
    with open(ready, "w", encoding="ascii") as f:
        f.write("ready\n")
    while True:
        time.sleep(3600)


class Forger:
    """Answers every A query with one address, whoever asks and whatever the name."""

    def __init__(self, address, log):
        self.address = address
        self.log = log

    def answer(self, data, client):
        q = parse_query(data)
        if q is None:
            return None
        qid, flags, name, qtype, question = q
        append_log(self.log, client, "dns", name, qtype)
        answers = []
        if qtype in (TYPE_A, TYPE_ANY):
            answers.append(rr(b"\xc0\x0c", TYPE_A, 0, socket.inet_aton(self.address)))
        rflags = 0x8000 | 0x0400 | (flags & 0x0100) | 0x0080  # QR, AA, RD copied, RA
        header = struct.pack(">HHHHHH", qid, rflags, 1, len(answers), 0, 0)
        return header + question + b"".join(answers)


def run_forge(ready, kind, bind, port, address, log, tls=None):
    socket.inet_aton(address)  # an address, nothing else
    if kind == "echo":

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"
            server_version = "netmap-lab"
            sys_version = ""

            def log_message(self, *args):
                pass

            def do_GET(self):
                append_log(log, self.client_address[0], "echo", self.path[:200].replace(" ", "%20"))
                data = (address + "\n").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)

        ThreadingHTTPServer.allow_reuse_address = True
        ThreadingHTTPServer.daemon_threads = True
        http = ThreadingHTTPServer((bind, port), Handler)
        threading.Thread(target=http.serve_forever, daemon=True).start()
        if tls:
            tls_port, cert, key = tls
            https = TlsServer((bind, tls_port), Handler, tls_context(cert, key))
            threading.Thread(target=https.serve_forever, daemon=True).start()
    elif kind == "dns":
        serve_dns(Forger(address, log), bind, port)
    else:
        raise SystemExit(f"forge: unknown kind {kind!r}")
    with open(ready, "w", encoding="ascii") as f:
        f.write("ready\n")
    while True:
        time.sleep(3600)


def main(argv):
    if len(argv) >= 2 and argv[0] == "internet":
        run_internet(argv[1])
    elif len(argv) >= 3 and argv[0] == "listen":
        run_listen(argv[1], [int(p) for p in argv[2:]])
    elif len(argv) in (7, 10) and argv[0] == "forge":
        tls = (int(argv[7]), argv[8], argv[9]) if len(argv) == 10 else None
        run_forge(argv[1], argv[2], argv[3], int(argv[4]), argv[5], argv[6], tls)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env bash
# NAT lab: an "internet" and two NATed sites in Linux network namespaces (docs/nat-lab.md).
#
#   lab.sh up <kindA> <kindB> [--upnp A|B]... [--ipv6 A|B]... [--delay MS] [--loss PCT]
#   lab.sh down                     remove everything `up` made; safe to repeat
#   lab.sh exec <node> <cmd...>     run cmd in inet, rA, hA, rB or hB
#   lab.sh cut | restore            drop / allow UDP between the two sites' WAN addresses
#   lab.sh isolate A|B | rejoin     drop / allow everything to and from a site's WAN address
#                                   (relay and STUN too: the site's uplink is down)
#   lab.sh cut6 | restore6          drop / allow UDP between the two sites over IPv6 (--ipv6)
#   lab.sh relay4 drop|restore      black-hole / restore IPv4 to the relay's address (.1)
#   lab.sh police MBIT | unpolice   police each UDP flow between the sites' WAN addresses to
#                                   MBIT Mbit/s (a flow: addresses and ports), or stop
#   lab.sh cutport A|B PORT | uncutport   drop UDP from / to one port of a site's host (one
#                                   flow dies, the others live), or stop every such drop
#   lab.sh status
#   lab.sh check                    what this machine supports (lab, upnp)
#
# kinds: eim-eif (full cone), eim-apdf (port-restricted cone), symmetric, udp-blocked, none.
# --ipv6 S: site S also gets IPv6, a global prefix routed by its router behind a stateful firewall
# (established/related in, the rest dropped), no NAT; sites without it have no IPv6 at all.
# NATLAB_ID=<a-z0-9, up to 12> suffixes every name so that several labs can coexist.
# Nothing is created in the calling namespace: every veth is born inside its namespace.
set -euo pipefail

LAB_ID=${NATLAB_ID:-}
[[ $LAB_ID =~ ^[a-z0-9]{0,12}$ ]] || { echo "lab.sh: NATLAB_ID must be 0-12 of [a-z0-9], got '$LAB_ID'" >&2; exit 2; }
SFX=${LAB_ID:+-$LAB_ID}
STATE=/run/dhl-natlab$SFX
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

INET_NET=198.51.100     # the lab's internet, a /24 on bridge br0 in the inet namespace
RELAY_IP=$INET_NET.1    # relay and first STUN/echo server
STUN2_IP=$INET_NET.2    # second server, a different address for mapping/filtering checks
UPNP_STUN_IPS=("$INET_NET.3" "$INET_NET.4")  # the lab's own STUN server, for miniupnpd only
KINDS="eim-eif eim-apdf symmetric udp-blocked none"
INET6_NET=2001:db8:ff   # the internet over IPv6 (with --ipv6): ::1 relay, ::2 second server, on br0
RELAY_IP6=$INET6_NET::1

usage() { sed -n '2,23s/^# \{0,1\}//p' "$0" >&2; exit 2; }
die() { echo "lab.sh: $*" >&2; exit 1; }

ns() { echo "dhl-$1$SFX"; }                   # ns inet -> dhl-inet[-id]
nsx() { local n; n=$(ns "$1"); shift; ip netns exec "$n" "$@"; }
ns_exists() { [ -e "/run/netns/$(ns "$1")" ]; }
wan_ip() { case $1 in A) echo "$INET_NET.10" ;; B) echo "$INET_NET.20" ;; esac; }
lan_net() { case $1 in A) echo 10.1.0 ;; B) echo 10.2.0 ;; esac; }
wan_ip6() { case $1 in A) echo "$INET6_NET::10" ;; B) echo "$INET6_NET::20" ;; esac; }
lan_net6() { case $1 in A) echo 2001:db8:a ;; B) echo 2001:db8:b ;; esac; }
# The site's IPv6 addresses as seen from outside: its LAN's /64, or with no router its own address.
site_prefix6() { if [ "$(kind_of "$1")" = none ]; then echo "$(wan_ip6 "$1")/128"; else echo "$(lan_net6 "$1")::/64"; fi; }

# The device pair that carries a site's uplink: "<inner node> <inner dev>"; the outer end is
# v<site> in inet.
uplink() { if [ "$(kind_of "$1")" = none ]; then echo "h$1 eth0"; else echo "r$1 wan"; fi; }
kind_of() { sed -n "s/^KIND_$1=//p" "$STATE/lab.env"; }
delay_ms() { sed -n "s/^DELAY=//p" "$STATE/lab.env"; }
# The site's port on br0: v<site> itself, or with --delay the bridge end of the wire's veth pair.
bridge_port() { if [ -n "$(delay_ms)" ]; then echo "b$1"; else echo "v$1"; fi; }

mkns() {
  ip netns add "$(ns "$1")"
  nsx "$1" ip link set lo up
  nsx "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
    net.ipv4.ip_forward=0
}

make_inet() {
  mkns inet
  nsx inet ip link add br0 type bridge
  # Bridged frames must not pass the inet namespace's own IP hooks or conntrack: the internet is
  # a wire, and `cut` filters it with a bridge-family table.
  nsx inet sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null || true
  nsx inet ip addr add "$RELAY_IP/24" dev br0
  nsx inet ip addr add "$STUN2_IP/24" dev br0
  for ip in "${UPNP_STUN_IPS[@]}"; do nsx inet ip addr add "$ip/24" dev br0; done
  nsx inet ip link set br0 up
}

# make_site A eim-apdf: router rA (WAN on br0, LAN 10.1.0.1/24) and host hA (10.1.0.2), or for
# `none` just hA on br0 with the site's WAN address.
make_site() {
  local s=$1 kind=$2 wan lan
  wan=$(wan_ip "$s") lan=$(lan_net "$s")
  mkns "h$s"
  if [ "$kind" = none ]; then
    ip link add name "v$s" netns "$(ns inet)" type veth peer name eth0 netns "$(ns "h$s")"
    attach_uplink "$s"
    nsx "h$s" ip addr add "$wan/24" dev eth0
    nsx "h$s" ip link set eth0 up
    nsx "h$s" ip route add default via "$RELAY_IP"
    return
  fi
  mkns "r$s"
  nsx "r$s" sysctl -qw net.ipv4.ip_forward=1
  ip link add name "v$s" netns "$(ns inet)" type veth peer name wan netns "$(ns "r$s")"
  ip link add name lan netns "$(ns "r$s")" type veth peer name eth0 netns "$(ns "h$s")"
  attach_uplink "$s"
  nsx "r$s" ip addr add "$wan/24" dev wan
  nsx "r$s" ip addr add "$lan.1/24" dev lan
  nsx "r$s" ip link set wan up
  nsx "r$s" ip link set lan up
  nsx "r$s" ip route add default via "$RELAY_IP"
  nsx "h$s" ip addr add "$lan.2/24" dev eth0
  nsx "h$s" ip link set eth0 up
  nsx "h$s" ip route add default via "$lan.1"
  router_rules "$s" "$kind" "$(has_upnp "$s")" | nsx "r$s" nft -f -
}

# Puts the internet's end of a site's uplink on br0. With --delay, wire.py sits in between:
#
#   site ── v<site> ══ wire.py ══ w<site> ── b<site> on br0
#
# AF_PACKET sockets see a device's frames before its ingress hook, so dropping everything at
# ingress of v<site> and w<site> leaves their frames to the wire alone. Without that, inet's own
# stack answers the router's ARP for the relay's address on v<site> (Linux answers for any local
# address on any interface) with v<site>'s MAC, then takes the site's packets for the relay
# straight from v<site>: around the wire, half the delay, and a second copy through it.
attach_uplink() {
  local s=$1
  if [ -z "$(delay_ms)" ]; then
    nsx inet ip link set "v$s" master br0 up
    return
  fi
  nsx inet ip link add "w$s" type veth peer name "b$s"
  nsx inet ip link set "b$s" master br0 up
  nsx inet ip link set "w$s" up
  nsx inet ip link set "v$s" up
  nsx inet nft -f - <<EOF
table netdev dhl_wire_$s {
  chain site { type filter hook ingress device "v$s" priority filter; policy drop; }
  chain wire { type filter hook ingress device "w$s" priority filter; policy drop; }
}
EOF
}

# Both uplinks' wire: one process for the lab, in inet, so `down` stops it with the rest.
start_wire() {
  local python
  python=$(system_python) || die "--delay needs python3 (test/natlab/wire.py)"
  start_daemon wire inet "$python" "$HERE/wire.py" "$(delay_ms)" vA:wA vB:wB
  wait_log wire "wire ready"
}

has_upnp() { grep -qx "UPNP_$1=1" "$STATE/lab.env" && echo 1 || echo 0; }

# The router's whole ruleset, one table. miniupnpd (when asked for) adds its rules to the three
# upnp_* chains, which the base chains jump to before their own rules (udp-blocked's drop aside).
router_rules() {
  local s=$1 kind=$2 upnp=$3 lan stun="" upnp_jump="" udp_drop="" dnat="" random=""
  lan=$(lan_net "$s")
  [ "$upnp" = 1 ] && stun="ip saddr { ${UPNP_STUN_IPS[0]}, ${UPNP_STUN_IPS[1]} }" && upnp_jump="jump upnp_"
  [ "$kind" = udp-blocked ] && udp_drop="meta l4proto udp drop"
  [ "$kind" = symmetric ] && random=" fully-random"
  # Full cone: every UDP packet to the WAN goes to the host; the STUN answers miniupnpd asked for
  # are the router's own.
  if [ "$kind" = eim-eif ]; then
    [ -z "$stun" ] || dnat="iifname \"wan\" $stun return"$'\n    '
    dnat+="iifname \"wan\" meta l4proto udp dnat ip to $lan.2"
  fi
  cat <<EOF
table inet dhl {
  # Unsolicited traffic to the router itself is dropped before conntrack confirms it. Otherwise a
  # peer's early punch packet leaves a conntrack entry on the router, and the host's own flow to
  # that peer is then given another port: a failure no real router has.
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "wan" ct state established,related accept
    ${stun:+iifname \"wan\" $stun udp sport { 3478, 3479 \} accept}
    iifname "wan" icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
    iifname "wan" drop
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    $udp_drop
    ${upnp_jump:+${upnp_jump}forward}
    ct state established,related accept
    iifname "lan" oifname "wan" accept
    iifname "wan" oifname "lan" ct status dnat accept
  }
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ${upnp_jump:+${upnp_jump}prerouting}
    $dnat
  }
  # Only the LAN is translated: the router's own traffic (miniupnpd's STUN) keeps its ports.
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ${upnp_jump:+${upnp_jump}postrouting}
    oifname "wan" ip saddr $lan.0/24 masquerade$random
  }
EOF
  [ "$upnp" = 1 ] && printf '  chain %s {\n  }\n' upnp_forward upnp_prerouting upnp_postrouting
  echo "}"
}

has_ipv6() { grep -qx "IPV6_$1=1" "$STATE/lab.env"; }
ipv6_on() { nsx "$1" sh -c 'for f in /proc/sys/net/ipv6/conf/*/disable_ipv6; do echo 0 >"$f"; done'; }

# IPv6 for the sites that asked (--ipv6): the internet's br0 gets 2001:db8:ff::/64; a site's router
# its WAN address there, and it routes the site's 2001:db8:a::/64 (B: b) to its host. No NAT: the
# router's forward chain (router_rules, table inet) lets out what the LAN starts and in only what
# belongs to it. Addresses skip duplicate address detection (nodad): usable at once.
make_ipv6() {
  local s o node
  ipv6_on inet
  nsx inet sysctl -qw net.bridge.bridge-nf-call-ip6tables=0 2>/dev/null || true
  nsx inet ip -6 addr add "$RELAY_IP6/64" dev br0 nodad
  # Deprecated at once: never the source the kernel picks, so what a server bound to every address
  # sends back leaves from ::1, the address a site's firewall saw its host write to.
  nsx inet ip -6 addr add "$INET6_NET::2/64" dev br0 nodad preferred_lft 0
  for s in A B; do
    has_ipv6 "$s" || continue
    if [ "$(kind_of "$s")" = none ]; then
      ipv6_on "h$s"
      nsx "h$s" ip -6 addr add "$(wan_ip6 "$s")/64" dev eth0 nodad
      continue
    fi
    ipv6_on "r$s"
    ipv6_on "h$s"
    nsx "r$s" sysctl -qw net.ipv6.conf.all.forwarding=1
    nsx "r$s" ip -6 addr add "$(wan_ip6 "$s")/64" dev wan nodad
    nsx "r$s" ip -6 addr add "$(lan_net6 "$s")::1/64" dev lan nodad
    nsx "h$s" ip -6 addr add "$(lan_net6 "$s")::2/64" dev eth0 nodad
    nsx "h$s" ip -6 route add default via "$(lan_net6 "$s")::1"
    nsx inet ip -6 route add "$(lan_net6 "$s")::/64" via "$(wan_ip6 "$s")"
  done
  # Each side reaches the other's prefix straight across br0: the internet is a wire, not a router.
  for s in A B; do
    o=$([ "$s" = A ] && echo B || echo A)
    has_ipv6 "$s" && has_ipv6 "$o" || continue
    [ "$(kind_of "$o")" != none ] || continue
    node=r$s
    [ "$(kind_of "$s")" != none ] || node=h$s
    nsx "$node" ip -6 route add "$(lan_net6 "$o")::/64" via "$(wan_ip6 "$o")"
  done
}

# start_daemon NAME NODE CMD...: CMD in the background inside NODE, logging to $STATE/NAME.log.
# It lives in one of the lab's namespaces, so `down` stops it.
start_daemon() {
  local name=$1 node=$2
  shift 2
  setsid ip netns exec "$(ns "$node")" "$@" </dev/null >"$STATE/$name.log" 2>&1 &
  echo $! >"$STATE/$name.pid"
}

# wait_udp NAME NODE PORT: until NAME's process listens on UDP PORT in NODE (5 s at most).
wait_udp() {
  local name=$1 node=$2 port=$3 pid
  pid=$(cat "$STATE/$name.pid")
  for _ in $(seq 50); do
    if nsx "$node" ss -Hlun "sport = $port" | grep -q .; then return; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  die "$name did not start listening on UDP $port in $node; its log: $(tail -n 20 "$STATE/$name.log")"
}

# wait_log NAME TEXT: until NAME's log has a line starting with TEXT (5 s at most).
wait_log() {
  local name=$1 text=$2 pid
  pid=$(cat "$STATE/$name.pid")
  for _ in $(seq 50); do
    if grep -q "^$text" "$STATE/$name.log"; then return; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  die "$name did not say '$text'; its log: $(tail -n 20 "$STATE/$name.log")"
}

# The system's python3 first: it starts in 30 ms where a version manager's shim takes 300.
system_python() { command -v /usr/bin/python3 python3 | head -n 1 | grep .; }

# miniupnpd 2.3.1 refuses to map ports when its WAN address is reserved (198.51.100.0/24 is
# TEST-NET-2) unless STUN shows the WAN unfiltered, so the lab runs a STUN server that honours
# CHANGE-REQUEST on two addresses of its own, and routers with UPnP accept its answers.
start_upnp_stun() {
  local python
  python=$(system_python) || die "--upnp needs python3 (the lab's STUN server for miniupnpd)"
  start_daemon upnp-stun inet "$python" "$HERE/probe.py" stun "${UPNP_STUN_IPS[@]}" 3478 3479
  wait_udp upnp-stun inet 3479
}

start_upnp() {
  local s=$1 conf=$STATE/miniupnpd-$1.conf
  command -v miniupnpd >/dev/null || die "--upnp needs miniupnpd (apt-get install miniupnpd-nftables)"
  cat >"$conf" <<EOF
ext_ifname=wan
listening_ip=lan
http_port=5000
enable_upnp=yes
enable_natpmp=yes
secure_mode=yes
system_uptime=yes
notify_interval=60
clean_ruleset_interval=600
ext_perform_stun=yes
ext_stun_host=${UPNP_STUN_IPS[0]}
ext_stun_port=3478
uuid=$(printf '%08x-0000-4000-8000-%012x' "$(cksum <<<"$s$SFX" | cut -d' ' -f1)" 0)
lease_file=$STATE/miniupnpd-$s.leases
upnp_table_name=dhl
upnp_nat_table_name=dhl
upnp_forward_chain=upnp_forward
upnp_nat_chain=upnp_prerouting
upnp_nat_postrouting_chain=upnp_postrouting
allow 1024-65535 10.0.0.0/8 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
EOF
  start_daemon "miniupnpd-$s" "r$s" miniupnpd -f "$conf" -d -P "$STATE/miniupnpd-$s.pidfile"
  wait_udp "miniupnpd-$s" "r$s" 5351
}

# Loss both ways on a site's uplink: netdev ingress on the site's inner device and on its port on
# br0 (not on v<site> under --delay: the wire reads frames there before any ingress hook).
add_loss() {
  local s=$1 pct=$2 inner dev thr
  read -r inner dev <<<"$(uplink "$s")"
  thr=$(awk -v p="$pct" 'BEGIN { printf "%d", p * 100 + 0.5 }')
  loss_table "$(bridge_port "$s")" "$thr" | nsx inet nft -f -
  loss_table "$dev" "$thr" | nsx "$inner" nft -f -
}
loss_table() {
  printf 'table netdev dhl_loss_%s {\n  chain ingress {\n' "$1"
  printf '    type filter hook ingress device "%s" priority filter; policy accept;\n' "$1"
  printf '    meta protocol ip numgen random mod 10000 < %s drop\n  }\n}\n' "$2"
}

cmd_up() {
  [ $# -ge 2 ] || usage
  local ka=$1 kb=$2 delay="" loss="" upnp_a=0 upnp_b=0 ipv6_a=0 ipv6_b=0
  shift 2
  for k in "$ka" "$kb"; do
    [[ " $KINDS " == *" $k "* ]] || die "unknown NAT kind '$k' (one of: $KINDS)"
  done
  while [ $# -gt 0 ]; do
    case $1 in
      --upnp) case ${2:-} in A) upnp_a=1 ;; B) upnp_b=1 ;; *) die "--upnp takes A or B" ;; esac; shift 2 ;;
      --ipv6) case ${2:-} in A) ipv6_a=1 ;; B) ipv6_b=1 ;; *) die "--ipv6 takes A or B" ;; esac; shift 2 ;;
      --delay) [[ ${2:-} =~ ^[1-9][0-9]{0,3}$ ]] || die "--delay takes whole milliseconds 1-9999, got '${2:-}'"
        delay=$2; shift 2 ;;
      --loss) [[ ${2:-} =~ ^[0-9]{1,2}(\.[0-9]{1,2})?$ ]] || die "--loss takes a percentage 0-99.99, got '${2:-}'"
        loss=$2; shift 2 ;;
      *) die "unknown option '$1'" ;;
    esac
  done
  [ "$upnp_a" = 0 ] || [ "$ka" != none ] || die "--upnp A needs a router, but site A is 'none'"
  [ "$upnp_b" = 0 ] || [ "$kb" != none ] || die "--upnp B needs a router, but site B is 'none'"
  for c in ip nft; do command -v "$c" >/dev/null || die "'$c' is missing (apt-get install iproute2 nftables)"; done

  cmd_down
  # shellcheck disable=SC2154 # status is assigned inside the trap
  trap 'status=$?; [ $status = 0 ] || cmd_down; exit $status' EXIT
  mkdir -p "$STATE"
  printf 'KIND_A=%s\nKIND_B=%s\nUPNP_A=%s\nUPNP_B=%s\nDELAY=%s\nIPV6_A=%s\nIPV6_B=%s\n' "$ka" "$kb" \
    "$upnp_a" "$upnp_b" "$delay" "$ipv6_a" "$ipv6_b" >"$STATE/lab.env"
  make_inet
  make_site A "$ka"
  make_site B "$kb"
  [ "$ipv6_a$ipv6_b" = 00 ] || make_ipv6
  [ -z "$delay" ] || start_wire
  [ "$upnp_a$upnp_b" = 00 ] || start_upnp_stun
  [ "$upnp_a" = 0 ] || start_upnp A
  [ "$upnp_b" = 0 ] || start_upnp B
  if [ -n "$loss" ]; then for s in A B; do add_loss "$s" "$loss"; done; fi
}

# Every process living in one of the lab's namespaces belongs to the lab: stop them, then delete
# the namespaces, which takes their veths and the bridge along.
cmd_down() {
  local present=() n
  for n in hA hB rA rB inet; do ns_exists "$n" && present+=("$n"); done
  if [ ${#present[@]} -gt 0 ]; then
    # The lab's own daemons go at once: miniupnpd would spend two seconds saying goodbye over
    # SSDP to a LAN about to vanish.
    cat "$STATE"/*.pid 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    signal_all TERM "${present[@]}"
    for _ in $(seq 30); do
      [ -n "$(pids_in "${present[@]}")" ] || break
      sleep 0.1
    done
    signal_all KILL "${present[@]}"
  fi
  for n in "${present[@]}"; do ip netns del "$(ns "$n")"; done
  rm -rf "$STATE"
}

# The processes in the given nodes; one that exited is in none, even while still a zombie.
pids_in() { local n; for n in "$@"; do ip netns pids "$(ns "$n")" 2>/dev/null || true; done; }
signal_all() {
  local sig=$1
  shift
  pids_in "$@" | xargs -r kill "-$sig" 2>/dev/null || true
}

cmd_exec() {
  [ $# -ge 2 ] || usage
  local node=${1#dhl-}
  node=${node%"$SFX"}
  case $node in inet | rA | hA | rB | hB) ;; *) die "unknown node '$1' (inet, rA, hA, rB, hB)" ;; esac
  ns_exists "$node" || die "$(ns "$node") does not exist (is the lab up?)"
  shift
  exec ip netns exec "$(ns "$node")" "$@"
}

# The direct path: UDP between the two sites' WAN addresses, dropped on the internet's wire.
# TCP (the relay) and UDP to the servers on .1/.2 are untouched.
cmd_cut() {
  ns_exists inet || die "the lab is not up"
  cmd_restore
  nsx inet nft -f - <<EOF
table bridge dhl_cut {
  chain forward {
    type filter hook forward priority filter; policy accept;
    ip saddr { $(wan_ip A), $(wan_ip B) } ip daddr { $(wan_ip A), $(wan_ip B) } meta l4proto udp drop
  }
}
EOF
}

cmd_restore() {
  ns_exists inet || die "the lab is not up"
  if nsx inet nft list table bridge dhl_cut >/dev/null 2>&1; then
    nsx inet nft delete table bridge dhl_cut
  fi
}

# A site loses its uplink: every frame from or to its WAN address is dropped on the internet's
# bridge, TCP to the relay included (prerouting catches frames for the relay's own address as
# well as bridged ones).
cmd_isolate() {
  ns_exists inet || die "the lab is not up"
  local ip
  case ${1:-} in A | B) ip=$(wan_ip "$1") ;; *) die "isolate takes A or B" ;; esac
  cmd_rejoin
  nsx inet nft -f - <<EOF
table bridge dhl_isolate {
  chain pre {
    type filter hook prerouting priority filter; policy accept;
    ip saddr $ip drop
  }
  chain post {
    type filter hook postrouting priority filter; policy accept;
    ip daddr $ip drop
  }
}
EOF
}

cmd_rejoin() {
  ns_exists inet || die "the lab is not up"
  if nsx inet nft list table bridge dhl_isolate >/dev/null 2>&1; then
    nsx inet nft delete table bridge dhl_isolate
  fi
}

# The direct path over IPv6: UDP between the two sites' IPv6 addresses, dropped on the wire.
cmd_cut6() {
  ns_exists inet || die "the lab is not up"
  { has_ipv6 A && has_ipv6 B; } || die "cut6 needs --ipv6 on both sites"
  cmd_restore6
  nsx inet nft -f - <<NFT
table bridge dhl_cut6 {
  chain forward {
    type filter hook forward priority filter; policy accept;
    ip6 saddr { $(site_prefix6 A), $(site_prefix6 B) } ip6 daddr { $(site_prefix6 A), $(site_prefix6 B) } meta l4proto udp drop
  }
}
NFT
}

cmd_restore6() {
  ns_exists inet || die "the lab is not up"
  if nsx inet nft list table bridge dhl_cut6 >/dev/null 2>&1; then
    nsx inet nft delete table bridge dhl_cut6
  fi
}

# Everything to the relay's IPv4 address (.1: DERP and STUN) vanishes without an answer; IPv6 to
# the relay is untouched.
cmd_relay4() {
  ns_exists inet || die "the lab is not up"
  if nsx inet nft list table bridge dhl_relay4 >/dev/null 2>&1; then
    nsx inet nft delete table bridge dhl_relay4
  fi
  case ${1:-} in
    restore) ;;
    drop) nsx inet nft -f - <<NFT
table bridge dhl_relay4 {
  chain pre {
    type filter hook prerouting priority filter; policy accept;
    ip daddr $RELAY_IP drop
  }
}
NFT
      ;;
    *) die "relay4 takes drop or restore" ;;
  esac
}

# A per-flow policer, as routers and ISPs that shape per flow do: each UDP flow between the two
# sites' WAN addresses (source and destination address and port) gets MBIT Mbit/s with a 20 ms
# burst; what goes over is dropped. The flows sit in a dynamic set (at most 65536, forgotten after
# 60 s idle), so many flows are policed each on its own.
cmd_police() {
  ns_exists inet || die "the lab is not up"
  [[ ${1:-} =~ ^[1-9][0-9]{0,5}$ ]] || die "police takes a rate in Mbit/s (1-999999), got '${1:-}'"
  local kbytes=$(($1 * 125)) burst=$(($1 * 2500))
  cmd_unpolice
  nsx inet nft -f - <<NFT
table bridge dhl_police {
  set flows {
    type ipv4_addr . ipv4_addr . inet_service . inet_service
    flags dynamic,timeout; timeout 60s; size 65536
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    ip saddr { $(wan_ip A), $(wan_ip B) } ip daddr { $(wan_ip A), $(wan_ip B) } meta l4proto udp update @flows { ip saddr . ip daddr . udp sport . udp dport limit rate over $kbytes kbytes/second burst $burst bytes } counter drop
  }
}
NFT
}

cmd_unpolice() {
  ns_exists inet || die "the lab is not up"
  if nsx inet nft list table bridge dhl_police >/dev/null 2>&1; then
    nsx inet nft delete table bridge dhl_police
  fi
}

# One UDP flow dies: what the site's host sends from PORT, and what comes back to it, is dropped on
# its way through the site's router (forward hook, after the inbound NAT: the host's own port,
# whatever port the NAT gave it outside), or on the internet's bridge for a site with no router
# (its host's port is its WAN port). Nothing answers: the flow goes silent, as when a NAT forgets
# a mapping or a middlebox black-holes a flow. Each call adds PORT to the site's set; `uncutport`
# removes every cut on both sites.
cmd_cutport() {
  ns_exists inet || die "the lab is not up"
  local s=${1:-} port=${2:-} node host
  case $s in A | B) ;; *) die "cutport takes A or B, then a port" ;; esac
  [[ $port =~ ^[1-9][0-9]{0,4}$ ]] && [ "$port" -le 65535 ] || die "cutport takes a UDP port 1-65535, got '$port'"
  if [ "$(kind_of "$s")" = none ]; then
    # prerouting and postrouting: bridged frames and the internet's own (relay, STUN) alike
    node=inet host=$(wan_ip "$s")
    nsx "$node" nft list table bridge "dhl_cutport_$s" >/dev/null 2>&1 || nsx "$node" nft -f - <<NFT
table bridge dhl_cutport_$s {
  set ports { type inet_service; }
  chain pre {
    type filter hook prerouting priority filter; policy accept;
    ip saddr $host udp sport @ports drop
  }
  chain post {
    type filter hook postrouting priority filter; policy accept;
    ip daddr $host udp dport @ports drop
  }
}
NFT
    nsx "$node" nft add element bridge "dhl_cutport_$s" ports "{ $port }"
  else
    node=r$s host=$(lan_net "$s").2
    nsx "$node" nft list table inet dhl_cutport >/dev/null 2>&1 || nsx "$node" nft -f - <<NFT
table inet dhl_cutport {
  set ports { type inet_service; }
  chain forward {
    type filter hook forward priority filter; policy accept;
    ip saddr $host udp sport @ports drop
    ip daddr $host udp dport @ports drop
  }
}
NFT
    nsx "$node" nft add element inet dhl_cutport ports "{ $port }"
  fi
}

cmd_uncutport() {
  ns_exists inet || die "the lab is not up"
  local s
  for s in A B; do
    if nsx inet nft list table bridge "dhl_cutport_$s" >/dev/null 2>&1; then
      nsx inet nft delete table bridge "dhl_cutport_$s"
    fi
    if ns_exists "r$s" && nsx "r$s" nft list table inet dhl_cutport >/dev/null 2>&1; then
      nsx "r$s" nft delete table inet dhl_cutport
    fi
  done
}

cmd_status() {
  ns_exists inet || { echo "down"; return; }
  cat "$STATE/lab.env"
  for n in inet rA hA rB hB; do ns_exists "$n" && echo "namespace $(ns "$n")"; done
  if nsx inet nft list table bridge dhl_cut >/dev/null 2>&1; then echo "direct=cut"; else echo "direct=open"; fi
}

# What this machine can do, one "name: ok" or "name: missing ..." line each; exit 0 when the lab
# itself can run. upnp is an optional extra.
cmd_check() {
  local missing=() c probe
  [ "$(id -u)" = 0 ] || missing+=("root")
  for c in ip nft ss python3; do command -v "$c" >/dev/null || missing+=("$c"); done
  if [ ${#missing[@]} = 0 ]; then
    probe=dhl-check$SFX
    ip netns del "$probe" 2>/dev/null || true
    if ip netns add "$probe" 2>/dev/null; then
      ip netns exec "$probe" nft add table inet dhl 2>/dev/null || missing+=("nf_tables in the kernel")
      ip netns del "$probe"
    else
      missing+=("permission to create network namespaces")
    fi
  fi
  if [ ${#missing[@]} = 0 ]; then echo "lab: ok"; else echo "lab: missing ${missing[*]}"; fi
  if command -v miniupnpd >/dev/null; then echo "upnp: ok"; else echo "upnp: missing miniupnpd"; fi
  [ ${#missing[@]} = 0 ]
}

[ "${1:-}" = check ] || [ "$(id -u)" = 0 ] || die "must run as root (network namespaces)"
case ${1:-} in
  check) cmd_check ;;
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  exec) shift; cmd_exec "$@" ;;
  cut) cmd_cut ;;
  restore) cmd_restore ;;
  cut6) cmd_cut6 ;;
  restore6) cmd_restore6 ;;
  relay4) shift; cmd_relay4 "$@" ;;
  police) shift; cmd_police "$@" ;;
  unpolice) cmd_unpolice ;;
  cutport) shift; cmd_cutport "$@" ;;
  uncutport) cmd_uncutport ;;
  isolate) shift; cmd_isolate "$@" ;;
  rejoin) cmd_rejoin ;;
  status) cmd_status ;;
  *) usage ;;
esac

# kubectl-netns on-node agent: finds a pod's process on the node and runs tools in its network
# namespace, and lists every network namespace on the node. POSIX sh; must run under busybox ash
# and dash. Runs inside the debug pod (hostPID; CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_NET_ADMIN,
# CAP_NET_RAW, CAP_SETGID for tcpdump -Z root; hostNetwork for scan and capture --host-side).
#
# Invocation (user data arrives ONLY as argv words; nothing here evals or re-parses them):
#   sh /tmp/kubectl-netns/agent-DIGEST.sh OP [ARGS...]
# The client writes this file into each debug pod once (agent-install.ts), so no exec carries the
# script itself: API server audit logs record every request URI in full.
#
# Ops
#   pid --uid POD_UID [CONTAINER_ID...]
#       Finds a process of the pod by scanning /proc/[0-9]*/cgroup (cgroup v1 and v2; cgroupfs and
#       systemd drivers; containerd, CRI-O and docker naming). Ids come without the runtime://
#       prefix. Picks the lowest PID whose cgroup path has a component equal to a container id
#       (cgroupfs .../pod<uid>/<id>, CRI-O cgroupfs crio-<id>) or naming it in a systemd scope
#       (cri-containerd-<id>.scope, crio-<id>.scope, docker-<id>.scope). crio-conmon-* never
#       counts: conmon runs in the node's network namespace. No container match (e.g. restarting):
#       the lowest PID in the pod's cgroup (pod<uid>, or systemd ...-pod<uid with _>.slice),
#       since all containers of a pod share its network namespace. Nothing in /proc: asks
#       crictl / docker, when present. PID 1 is never an answer.
#       stdout: one line "PID NETNS_INODE", e.g. "4242 4026532308".
#       stderr: one info line saying how the PID was found.
#       KNETNS_PROC=DIR replaces /proc for this op only; it exists for fixture tests.
#   capture (--pid PID | --uid POD_UID [--cid CONTAINER_ID]... | --uid POD_UID --wait SECONDS
#           [--host-network] | --node) [--iface IFACE] [--snaplen N] [--count N] [--duration SECONDS] [--buffer KIB]
#           [--id CAPTURE_ID] [--host-side] [--compress auto|zstd|gzip] [--stats-every SECONDS]
#           -- [FILTER WORDS...]
#       --uid POD_UID [--cid ID]...: a running pod; its PID is found here as the pid op finds it
#       (and its "pid ..." info line printed), so one exec both finds and captures.
#       --uid POD_UID --wait SECONDS: capture a pod from its birth. Polls /proc (every 20 ms, for at
#       most SECONDS) for the first process of the pod that is in the pod's network namespace
#       (its sandbox's, which holds it before any init container runs; the runtime's own process
#       in the pod's cgroup, still in its parent's namespace, is passed over unless
#       --host-network says the pod shares the node's), then captures there; NO_CONTAINER when
#       none appears in time. A stop for the capture's id while it waits ends it with exit 0.
#       IFACE "auto" means "any" here: the pod's interfaces may not exist yet. --uid -: armed; the
#       UID comes as one line on stdin once the pod exists ("UID hostNetwork" for a pod that
#       shares the node's network; end of input first: exit 0).
#       Streams a pcap of PID's network namespace to stdout
#       (tcpdump --immediate-mode -U -w - -Z root -B KIB -i IFACE [-s N] [-c N] -- FILTER...).
#       --buffer: the kernel capture buffer in KiB (default 32768). In immediate mode every packet
#       takes a snaplen-sized slot, so tcpdump's 2 MiB default holds ~7 full-size packets and
#       drops bursts.
#       IFACE "auto" (default): the IPv4 default route's interface in that namespace, else its
#       first UP non-loopback interface, else "any". "eth0@if9" (as ip shows it) means eth0.
#       Interface and filter are checked with tcpdump -d first, so failures get a code. With
#       --id, tcpdump's PID is kept in /tmp/kubectl-netns-capture-ID.pid for stop/stats.
#       --duration stops it with SIGINT.
#       --host-side: capture on the host end of IFACE instead, in the agent's own network
#       namespace, which must be the node's (a hostNetwork debug pod). Inside the pod ip shows
#       the veth as "eth0@if127": 127 is the ifindex of its peer, found with `ip -o link` here and
#       checked to point back (its "@ifN" is eth0's ifindex). Then the info line is
#       "kubectl-netns-agent: info: host side of IFACE (netns INODE, pid PID) is HOSTIF (master
#       BRIDGE|no bridge)" before the usual one, which names HOSTIF and the node's netns.
#       --node: capture on IFACE of the agent's own network namespace, which must be the node's (a
#       hostNetwork debug pod; NO_PEER otherwise): a node's uplink or bridge. IFACE must be named
#       (or any). The info line names the agent's own PID.
#       --compress: stdout carries the pcap compressed, as a series of zstd frames or gzip members
#       (auto: zstd if the image has it, else gzip; NO_COMPRESSOR without either), one per chunk
#       of what tcpdump wrote, so packets never wait in the compressor for more traffic. The info
#       line "compressing with zstd|gzip" comes first.
#       stdout: pcap bytes.
#       stderr: "kubectl-netns-agent: info: capturing on IFACE in netns INODE (pid PID)", then
#       "kubectl-netns-agent: info: capture clock start SECONDS.NANOS" (the node's wall clock as
#       tcpdump starts, to about a jiffy; "-" when unknown; "capture clock end ..." after it ends),
#       tcpdump's own lines: "listening on ...", on SIGUSR1 "tcpdump: N packets captured, N packets
#       received by filter, N packets dropped by kernel", and at the end the same three counts on
#       three lines.
#       --spool DIR --ring-files N --file-mb MB [--meta 'KEY VALUE']... (with --id): the capture
#       is spooled. tcpdump writes a ring of N files of MB million bytes each in DIR (created here;
#       its parent is the debug pod's spool volume) instead of stdout, detached from this exec: its
#       stdio are files, so a slow or broken exec stream can neither block it (the kernel would drop
#       packets) nor kill it. DIR holds ring.pcap, ring.pcap1, ... (tcpdump -C names), meta ("KEY
#       VALUE" lines: id, started, ring_files, file_mb, iface, netns, pid, then the --meta ones),
#       log (tcpdump's stderr), pid, lost, first, acked, end (tcpdump's exit status, once it has
#       exited) and rotated (the -z hook: on each rotation it deletes the file that falls out of the
#       ring; one the client has not acked is counted first, "SEQ BYTES PACKETS" into lost, and
#       first then names the oldest file left). The exec then goes on as the spool's first reader
#       (see read), from the start. --duration and stop end tcpdump as without a spool.
#       --stats-every: SIGUSR1 to tcpdump every SECONDS from here (for a live status), so its
#       counts arrive on this stderr without an exec per tick (see stats).
#   read DIR [--from SEQ OFFSET] [--log OFFSET] [--compress auto|zstd|gzip]
#       Follows spool DIR from ring file SEQ, byte OFFSET (a record boundary; default the start)
#       and streams it on stdout until tcpdump has ended and every byte is sent:
#         MARK "file SEQ OFFSET"\n  then the bytes of ring file SEQ from OFFSET (from 0: with its
#                                   24-byte pcap header)
#         MARK "lost SEQ BYTES PACKETS"\n   the ring deleted file SEQ before it was read: its size
#                                   and packet count, '-' where unknown; the next file follows
#         MARK "end RC CAPTURED RECEIVED DROPPED"\n   tcpdump's exit status and final counts
#       MARK is 12 bytes 0xFF and comes only where a pcap record would begin (no record starts so).
#       stdin carries the client's lines: "ack SEQ" (it has all of file SEQ: the ring may delete it
#       without counting it) and "done" (it has the end marker: the reader waits up to 30 s for
#       that, since Kubernetes drops stdout still in flight when the exec'd command exits). End of
#       input means the client is gone: the reader stops (a dd blocked on a dead stream is killed).
#       stderr: the capture's log lines from byte OFFSET of DIR/log (--log), whole lines, as they
#       come, each batch followed by "kubectl-netns-spool: log OFFSET" (where a new reader's --log
#       picks up); and "kubectl-netns-spool: written BYTES" (what tcpdump has written so far), for
#       the client's "how far behind". The reader wakes when tcpdump's wchar (/proc/PID/io) moves,
#       checked every 1 ms for ~20 ms after data and every 2 ms when quiet (read -t on a FIFO: no
#       fork) or, in shells without read -t (dash), every 10 ms with sleep; it copies in pieces of at most 4 MiB with dd (fd 3 keeps its place).
#   spools ROOT
#       Every spool under ROOT. stdout, tab-separated, per spool:
#         spool ID STATE BYTES FILES FIRST LAST LOST_FILES LOST_PACKETS STARTED
#         meta ID KEY VALUE          one per line of its meta file
#       STATE: running or ended:RC; BYTES, FILES: what the ring holds; FIRST, LAST: its oldest and
#       newest file's number ('-' when none); LOST_*: what the ring deleted unread; STARTED: epoch s.
#   spool-tar DIR
#       Spool DIR as a tar stream on stdout: meta, log, lost, end (once tcpdump has ended), then the
#       ring's files in order (the one tcpdump still writes may end inside a record).
#   spool-rm DIR
#       Removes spool DIR; USAGE while its tcpdump still runs.
#   stop CAPTURE_ID
#       SIGINT to that capture's tcpdump (it flushes, prints its counts, exits 0); waits for it
#       to exit (SIGTERM after 5s, gives up after 6s). Exit 0 also when it is not running; a
#       capture that has not started yet sees the request and exits 0 without capturing.
#   stats CAPTURE_ID
#       SIGUSR1 to that capture's tcpdump: the counts appear on the CAPTURE's stderr. stdout: none.
#       Only once tcpdump catches SIGUSR1 (its SigCgt): before, the signal would kill it.
#   ack CAPTURE_ID
#       Tells a capture started with --await-ack that the client has received every packet, so
#       it may exit. Kubernetes drops stdout still in flight when the exec'd command exits
#       (kubernetes#124571); with --await-ack the capture prints "kubectl-netns-agent: info:
#       capture finished; ..." after tcpdump's final counts and waits up to 30s for this.
#   exec --pid PID -- CMD [ARGS...]
#       Runs CMD in PID's network namespace (nsenter -n; the debug pod's filesystem). The exit
#       code is CMD's own; nsenter reports a missing command with 127.
#   scan [--addr HEX/BITS]... [--netns NETNS]...
#       Every network namespace on the node, from ALL of: /proc/*/ns/net of every process; the
#       nsfs mounts in the mountinfo of every mount namespace (one holder process per mount
#       namespace: a namespace without processes may be kept only by a mount in ANOTHER mount
#       namespace); the nsfs files in /run/netns, /var/run/netns, /run/docker/netns. Process
#       count is not a cost driver: a fixed handful of stat/grep/awk runs reads all of /proc,
#       then `ip` runs once per network namespace entered, a few at once (one per CPU, at most 4).
#       A namespace whose process's /proc/PID/net shows nothing but a loopback never brought up
#       is not entered: its record comes from there (see scan_quiet for what that cannot see).
#       With --addr or --netns, only these are entered: the node's namespace, each NETNS, each
#       namespace without a process, and each whose process's /proc/PID/net (fib_trie, if_inet6)
#       lists a local address in one of the subnets HEX/BITS (an address as 8 or 32 lowercase hex
#       digits, and a prefix length); the others get no ipaddr record.
#       stdout: tab-separated records, one per line:
#         self PID NETNS MNTNS           the agent's own namespaces (hostNetwork: NETNS is the node's)
#         host PID|- NETNS|- MNTNS|-     the node's namespaces: PID 1's, else kthreadd's (PID 2,
#                                        always in the initial ones) where PID 1 is unreadable;
#                                        /proc/PID/root is how files and the CNI cache are read
#         proc PID NETNS MNTNS COMM POD_UID|- CONTAINER_ID|-
#                                        COMM with unprintable bytes as '?'; POD_UID and the
#                                        container id from its cgroup path (as for pid)
#         mount HOLDER MNTNS NETNS MOUNTPOINT
#                                        an nsfs mount of NETNS in mount namespace MNTNS, of which
#                                        HOLDER is the lowest PID; MOUNTPOINT as mountinfo writes
#                                        it (octal escapes such as \040 kept), relative to
#                                        HOLDER's root: enter with nsenter --net=/proc/HOLDER/root/MOUNTPOINT
#         file PATH NETNS                an nsfs file in one of the directories above (node paths)
#         cni FILE JSON                  a libcni cache entry (/var/lib/cni/results/FILE on the
#                                        node), on one line, its base64 "config" removed
#         ipaddr NETNS JSON              `ip -j -d addr show` in NETNS (once per namespace entered;
#                                        for a namespace holding only a loopback never brought up,
#                                        what ip prints there, read from /proc/PID/net instead)
#         warn MESSAGE                   something could not be read; the rest is still valid
#         done COUNT ENTERED             last line: the scan is complete (COUNT namespaces,
#                                        ENTERED of them entered with ip)
#   hold
#       The client's hold on the debug pod: marks the pod held with /tmp/kubectl-netns-held.PID (the
#       pod's main process runs while such a file names a live process; /tmp/kubectl-netns-was-held
#       tells it a hold has been, should it miss a short one), then reads stdin until it
#       ends. stdin is the client's exec connection, so it ends when the client closes it, exits, is
#       killed, or loses its connection; the file goes, and the main process waits its reconnect
#       window for a new hold before it ends the pod. The line "release" (a client that is done)
#       marks /tmp/kubectl-netns-released first: the main process then ends at once. Paths are shared with MAIN_SCRIPT in
#       debug-pod.ts. stdout: one line "held" once the pod is marked (the client's sign that its
#       container runs and takes execs).
#   detach
#       Marks the pod detached (/tmp/kubectl-netns-detached): it stays until its deadline whether
#       or not a client holds it, for a capture that runs on without one. stdout: "detached".
#   netinfo --pid PID [--sockets]
#       PID's namespace in more detail. stdout, tab-separated:
#         route 4|6 JSON                 `ip -j [-6] route show`
#         socket LINE                    each line of `ss -H -tulpn` (with --sockets)
#
# Errors: exactly one stderr line "kubectl-netns-agent: error: CODE: message" and exit status:
#   64 USAGE           unknown op, missing or malformed argument
#   65 NO_CONTAINER    no process of those containers / that pod on this node
#   66 NO_TCPDUMP      tcpdump is not installed in the debug image
#   67 NO_NSENTER      nsenter is not installed in the debug image
#   68 NSENTER_DENIED  the namespace cannot be entered/read (needs hostPID, SYS_ADMIN, SYS_PTRACE)
#   69 BAD_FILTER      tcpdump rejected the filter; tcpdump's message included
#   70 NO_INTERFACE    no such interface in the namespace; name included
#   71 NETNS_GONE      the process exited; its namespace is gone (look the PID up again)
#   72 CAPTURE_DENIED  tcpdump may not capture (needs NET_RAW, NET_ADMIN)
#   73 CAPTURE_FAILED  tcpdump failed to start for another reason; its message included
#   74 NO_CAPTURE      stats: no running capture with that id
#   75 NO_IP           iproute2 ip (with JSON output) is not installed in the debug image
#   76 NO_PEER         capture --host-side: no peer of the interface in the node's namespace
#   77 NO_COMPRESSOR   capture --compress: neither zstd nor gzip (as asked) in the debug image
#   78 SPOOL_FAILED    capture --spool: the spool directory cannot be made or written
#   79 INSTALL_FAILED  the agent could not be installed (printed by the installer, agent-install.ts)
# For exec, CMD may itself exit 64-77: the error LINE, not the status, marks an agent failure.
# Keep this table in step with AGENT_EXIT in agent.ts (a unit test compares them).

set -u
PROC_ROOT=/proc
# Stable, untranslated messages from tcpdump/nsenter, which we classify by text.
LC_ALL=C
export LC_ALL

fail() {
  fail_name=$1
  shift
  case $fail_name in
    USAGE) fail_rc=64 ;;
    NO_CONTAINER) fail_rc=65 ;;
    NO_TCPDUMP) fail_rc=66 ;;
    NO_NSENTER) fail_rc=67 ;;
    NSENTER_DENIED) fail_rc=68 ;;
    BAD_FILTER) fail_rc=69 ;;
    NO_INTERFACE) fail_rc=70 ;;
    NETNS_GONE) fail_rc=71 ;;
    CAPTURE_DENIED) fail_rc=72 ;;
    CAPTURE_FAILED) fail_rc=73 ;;
    NO_CAPTURE) fail_rc=74 ;;
    NO_IP) fail_rc=75 ;;
    NO_PEER) fail_rc=76 ;;
    NO_COMPRESSOR) fail_rc=77 ;;
    SPOOL_FAILED) fail_rc=78 ;;
    INSTALL_FAILED) fail_rc=79 ;;
    *) fail_rc=1 ;;
  esac
  # The client looks for one line; tool messages and user words may carry newlines.
  printf 'kubectl-netns-agent: error: %s: %s\n' "$fail_name" "$(oneline "$*")" >&2
  exit "$fail_rc"
}

info() {
  printf 'kubectl-netns-agent: info: %s\n' "$(oneline "$*")" >&2
}

oneline() {
  printf '%s' "$1" | tr '\n\r' '  ' | sed 's/  */ /g; s/^ //; s/ $//'
}

# Positive decimal without leading zeros: safe in $(( )) and in [ -lt ] everywhere.
is_count() {
  case $1 in '' | 0* | *[!0-9]*) return 1 ;; esac
  [ "${#1}" -le 9 ]
}

is_capture_id() {
  case $1 in '' | *[!A-Za-z0-9_-]*) return 1 ;; esac
  [ "${#1}" -le 64 ]
}

is_iface() {
  case $1 in '' | [-@]* | *[!A-Za-z0-9_.:@-]*) return 1 ;; esac
  [ "${#1}" -le 15 ]
}

# busybox ash (the debug image's sh) runs its own applet for a bare command name before searching
# PATH, and busybox's nsenter prefers applets for the command it starts (busybox ip has no -j). So
# tools are called by the path of the first one on PATH that is not busybox; an applet is the
# last resort. Prints nothing when there is neither.
tool_path() {
  tp_found=''
  tp_ifs=$IFS
  IFS=:
  for tp_dir in $PATH; do
    [ -n "$tp_dir" ] || continue
    [ -f "$tp_dir/$1" ] || continue
    [ -x "$tp_dir/$1" ] || continue
    case $(readlink -f "$tp_dir/$1" 2>/dev/null) in
      */busybox) ;;
      *) tp_found=$tp_dir/$1; break ;;
    esac
  done
  IFS=$tp_ifs
  if [ -z "$tp_found" ] && command -v "$1" >/dev/null 2>&1; then tp_found=$1; fi
  printf '%s' "$tp_found"
}

# Sets NSENTER / TCPDUMP / IP to the tool's path, or fails with NO_NSENTER / NO_TCPDUMP / NO_IP.
need() {
  case $1 in
    nsenter)
      NSENTER=$(tool_path nsenter)
      [ -n "$NSENTER" ] || fail NO_NSENTER "nsenter not found in the debug image (PATH=$PATH)" ;;
    ip)
      # Only a path is a real iproute2 ip: the bare name is busybox's applet, which has no -j.
      IP=$(tool_path ip)
      case $IP in
        /*) ;;
        *) fail NO_IP "iproute2 ip not found in the debug image (busybox ip cannot print JSON; PATH=$PATH)" ;;
      esac ;;
    *)
      TCPDUMP=$(tool_path tcpdump)
      [ -n "$TCPDUMP" ] || fail NO_TCPDUMP "tcpdump not found in the debug image (PATH=$PATH)" ;;
  esac
}

is_zombie() {
  # Field 3 of /proc/PID/stat, after the parenthesised command name (which may hold spaces).
  zstate=$(sed 's/.*) //' "$PROC_ROOT/$1/stat" 2>/dev/null | cut -c1)
  [ "$zstate" = Z ]
}

# A tool's stderr without tcpdump's informational lines (e.g. "data link type LINUX_SLL2" for -i any).
reason() {
  rs=$(printf '%s\n' "$1" | grep -v -e '^tcpdump: data link type ' -e '^tcpdump: listening on ' \
    -e '^tcpdump: verbose output suppressed')
  printf '%s' "${rs:-$1}"
}

# NSENTER message -> code. "No such file" is a vanished process; the rest is a privilege problem.
nsenter_fail() {
  case $1 in
    *'No such file'* | *'No such process'*)
      fail NETNS_GONE "process $2 exited while entering its network namespace: $1" ;;
    *) fail NSENTER_DENIED "cannot enter the network namespace of process $2: $1" ;;
  esac
}

# Sets target_inode, or fails with NETNS_GONE / NSENTER_DENIED / NO_NSENTER. With "quick" as $2
# the namespace is not entered here: the caller's next nsenter reports its failures.
check_target() {
  need nsenter
  if ! tlink=$(readlink "/proc/$1/ns/net" 2>/dev/null); then
    if [ -d "/proc/$1" ] && ! is_zombie "$1"; then
      fail NSENTER_DENIED "cannot read /proc/$1/ns/net (the debug pod needs hostPID and CAP_SYS_PTRACE)"
    fi
    fail NETNS_GONE "process $1 is gone, and with it that network namespace (look the pid up again)"
  fi
  target_inode=$(printf '%s' "$tlink" | tr -cd 0-9)
  [ "${2:-}" != quick ] || return 0
  # A separate trial entry, so that exec can tell nsenter's failures from the command's.
  tmsg=$("$NSENTER" -t "$1" -n -- sh -c : 2>&1) || nsenter_fail "$tmsg" "$1"
}

# ---- pid -------------------------------------------------------------------------------------

# Prints "PID KIND WHAT" per candidate process, KIND c (container WHAT) or p (pod), PIDs sorted.
scan_cgroups() {
  proc_root=$1
  grep -H '' "$proc_root"/[0-9]*/cgroup 2>/dev/null | awk -v plen="${#proc_root}" \
    -v uid="$2" -v uidu="$3" -v ids="$4" '
    function ends(s, suffix) {
      return length(s) > length(suffix) && substr(s, length(s) - length(suffix) + 1) == suffix
    }
    BEGIN { nid = split(ids, want, " ") }
    {
      rest = substr($0, plen + 2)                   # PID/cgroup:HIERARCHY:CONTROLLERS:PATH
      slash = index(rest, "/")
      pid = substr(rest, 1, slash - 1)
      line = substr(rest, slash + 8)
      line = substr(line, index(line, ":") + 1)
      path = substr(line, index(line, ":") + 1)
      n = split(path, comp, "/")
      for (i = 1; i <= n; i++) {
        c = comp[i]
        if (c == "") continue
        if (c ~ /conmon/) { conmon[pid] = 1; continue }
        s = c
        sub(/\.scope$/, "", s)
        for (k = 1; k <= nid; k++)
          if (s == want[k] || ends(s, "-" want[k])) hit[pid] = want[k]
        s = c
        sub(/\.slice$/, "", s)
        if (s == "pod" uid || s == "pod" uidu || ends(s, "-pod" uidu) || ends(s, "-pod" uid))
          inpod[pid] = 1
      }
    }
    END {
      for (p in inpod) if (!(p in hit)) hit[p] = ""
      for (p in hit) {
        if (p == 1 || (p in conmon)) continue
        if (hit[p] != "") print p, "c", hit[p]
        else print p, "p", "-"
      }
    }' | sort -n
}

# Prints "PID INODE WHAT" for the first candidate of KIND ($2) whose netns link is readable. With
# $3 = own, only one in another namespace than its parent's: a runtime puts its own process in the
# pod's cgroup before that process enters the pod's namespace.
first_readable() {
  fr_kind=$2
  printf '%s\n' "$1" | while read -r fr_pid fr_k fr_what; do
    [ "$fr_k" = "$fr_kind" ] || continue
    fr_link=$(readlink "$PROC_ROOT/$fr_pid/ns/net" 2>/dev/null) || continue
    case $fr_link in 'net:['*']') ;; *) continue ;; esac
    if [ "${3:-}" = own ]; then
      fr_ppid=$(sed -n 's/^PPid:[[:space:]]*//p' "$PROC_ROOT/$fr_pid/status" 2>/dev/null)
      # A parent whose namespace cannot be read (the node's init here) proves nothing either way.
      if is_count "$fr_ppid" && fr_plink=$(readlink "$PROC_ROOT/$fr_ppid/ns/net" 2>/dev/null); then
        [ "$fr_plink" != "$fr_link" ] || continue
      fi
    fi
    printf '%s %s %s\n' "$fr_pid" "$(printf '%s' "$fr_link" | tr -cd 0-9)" "$fr_what"
    break
  done
}

# Asks a container runtime CLI for the PID; prints "PID INODE TOOL" or nothing.
runtime_pid() {
  for rp_id in "$@"; do
    for rp_tool in crictl docker; do
      command -v "$rp_tool" >/dev/null 2>&1 || continue
      case $rp_tool in
        crictl) rp_pid=$(bounded crictl inspect -o go-template --template '{{.info.pid}}' "$rp_id" 2>/dev/null) ;;
        *) rp_pid=$(bounded docker inspect -f '{{.State.Pid}}' "$rp_id" 2>/dev/null) ;;
      esac
      # A stopped container reports 0; 1 would be the node's init, never a container.
      if ! is_count "$rp_pid" || [ "$rp_pid" -le 1 ]; then continue; fi
      rp_link=$(readlink "$PROC_ROOT/$rp_pid/ns/net" 2>/dev/null) || continue
      printf '%s %s %s\n' "$rp_pid" "$(printf '%s' "$rp_link" | tr -cd 0-9)" "$rp_tool"
      return 0
    done
  done
}

bounded() {
  if command -v timeout >/dev/null 2>&1; then timeout 10 "$@"; else "$@"; fi
}

op_pid() {
  uid=''
  while [ $# -gt 0 ]; do
    case $1 in
      --uid)
        [ $# -ge 2 ] || fail USAGE "pid: --uid needs a value"
        uid=$2
        shift 2 ;;
      --) shift; break ;;
      -*) fail USAGE "pid: unknown option '$1'" ;;
      *) break ;;
    esac
  done
  case $uid in
    '' | *[!0-9a-fA-F-]*) fail USAGE "pid: --uid must be a pod UID, got '$uid'" ;;
  esac
  for cid in "$@"; do
    is_container_id "$cid" || fail USAGE "pid: bad container id '$cid' (give it without the runtime:// prefix)"
  done
  PROC_ROOT=${KNETNS_PROC:-/proc}
  find_pid "$uid" "$*"
  info "pid $found_pid $found_how"
  printf '%s %s\n' "$found_pid" "$found_inode"
}

is_container_id() {
  case $1 in '' | *[!A-Za-z0-9_-]*) return 1 ;; esac
}

# Sets found_pid, found_inode and found_how for pod UID ($1), preferring a process of the
# containers whose ids are the words of $2; fails with NO_CONTAINER, NSENTER_DENIED or NETNS_GONE.
find_pid() {
  fp_uidu=$(printf '%s' "$1" | tr - _)
  cands=$(scan_cgroups "$PROC_ROOT" "$1" "$fp_uidu" "$2")
  if found=$(first_readable "$cands" c) && [ -n "$found" ]; then
    found_how="is in container ${found##* }"
  elif found=$(first_readable "$cands" p) && [ -n "$found" ]; then
    found_how="is in pod $1 (no process of the given containers; a pod's containers share one network namespace)"
  elif [ -n "$cands" ]; then
    unreadable_fail "$cands" "pod $1"
  else
    # Ids are checked words without blanks: splitting them is what is meant.
    # shellcheck disable=SC2086
    found=$(runtime_pid $2)
    [ -n "$found" ] || fail NO_CONTAINER "no process of pod $1${2:+ (containers: $2)} on this node; is it running here?"
    found_how="from ${found##* } inspect"
  fi
  found_pid=${found%% *}
  found_inode=${found#* }
  found_inode=${found_inode%% *}
}

# Candidates exist but none has a readable netns link: dead, or we lack the privilege to look.
unreadable_fail() {
  for ur_pid in $(printf '%s\n' "$1" | cut -d' ' -f1); do
    if [ -d "$PROC_ROOT/$ur_pid" ] && ! is_zombie "$ur_pid"; then
      fail NSENTER_DENIED "cannot read $PROC_ROOT/$ur_pid/ns/net of $2 (the debug pod needs hostPID and CAP_SYS_PTRACE)"
    fi
  done
  fail NETNS_GONE "the processes of $2 exited while we looked; try again"
}

# ---- capture, stop, stats --------------------------------------------------------------------

pidfile() { printf '/tmp/kubectl-netns-capture-%s.pid' "$1"; }
stopfile() { printf '/tmp/kubectl-netns-capture-%s.stop' "$1"; }
ackfile() { printf '/tmp/kubectl-netns-capture-%s.ack' "$1"; }

# The interface a user most likely means, as seen inside the namespace.
auto_iface() {
  ai_ip=$(tool_path ip)
  if [ -n "$ai_ip" ]; then
    ai=$("$NSENTER" -t "$1" -n -- "$ai_ip" -4 route show 2>/dev/null | awk '
      $1 == "default" { for (i = 2; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')
    if [ -z "$ai" ]; then
      ai=$("$NSENTER" -t "$1" -n -- "$ai_ip" link show up 2>/dev/null | awk -F': ' '
        /^[0-9]+: / && $0 !~ /LOOPBACK/ { name = $2; sub(/@.*/, "", name); print name; exit }')
    fi
  fi
  printf '%s\n' "${ai:-any}"
}

# Sends SIGINT to PID after SECONDS, unless PID has exited first (then PID may be reused).
# Whether process $1 catches SIGUSR1 (bit 10 of SigCgt in its status): tcpdump does once it has
# set up its handler; before (nsenter, a starting tcpdump) SIGUSR1 would kill it.
catches_usr1() {
  cu_mask=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null)
  case $cu_mask in ????*) ;; *) return 1 ;; esac
  case $cu_mask in *[!0-9a-fA-F]*) return 1 ;; esac
  # The low 16 bits only: the whole 64-bit mask may not fit the shell's signed arithmetic.
  cu_mask=${cu_mask#"${cu_mask%????}"}
  [ $((0x$cu_mask & 0x200)) -ne 0 ]
}

# SIGUSR1 to tcpdump ($2) every $1 seconds while it runs: its counts come out on the capture's own
# stderr, one stream for as long as the capture lasts instead of an exec per tick.
stats_every_loop() {
  while sleep "$1" && kill -0 "$2" 2>/dev/null; do
    if catches_usr1 "$2"; then kill -USR1 "$2" 2>/dev/null; fi
  done
  exit 0
}

stop_after() {
  sa_i=0
  while [ "$sa_i" -lt "$1" ]; do
    sleep 1
    kill -0 "$2" 2>/dev/null || exit 0
    sa_i=$((sa_i + 1))
  done
  kill -INT "$2" 2>/dev/null
  exit 0
}

# An armed capture (--uid -) learns its pod from one line on stdin, sent the moment the pod exists,
# so no exec has to start then. End of input before it: released unused, a clean end.
read_uid() {
  info "armed: waiting for a pod UID on stdin"
  if ! IFS= read -r uid; then
    info "released before any pod"
    exit 0
  fi
  # "UID hostNetwork": the pod will share the node's network.
  case $uid in *' hostNetwork') uid=${uid%' hostNetwork'} host_network=1 ;; esac
  case $uid in '' | *[!0-9a-fA-F-]*) fail USAGE "capture: stdin must carry a pod UID, got '$uid'" ;; esac
}

# Holds the network namespace of process $1 open on fd 8, so the capture enters it even if $1
# exits first (a runtime's short-lived helper may be the first process in it); fails if $1 is
# gone or no longer in namespace $2.
pin_netns() {
  { command exec 8<"$PROC_ROOT/$1/ns/net"; } 2>/dev/null || return 1
  [ "$(readlink /proc/self/fd/8 2>/dev/null | tr -cd 0-9)" = "$2" ] && return 0
  exec 8<&-
  return 1
}

# Waits up to $2 seconds for the first process of pod $1 in the pod's network namespace (its
# sandbox's; with $host_network any, the node's), sets pid and target_inode and holds the namespace
# on fd 8; a stop request for capture $3 meanwhile ends the capture before it began.
wait_for_pod() {
  wp_uidu=$(printf '%s' "$1" | tr - _)
  wp_end=$(($(date +%s) + $2))
  wp_polls=0
  wp_rule=own
  [ -z "$host_network" ] || wp_rule=''
  while :; do
    wp_found=$(first_readable "$(scan_cgroups "$PROC_ROOT" "$1" "$wp_uidu" '')" p "$wp_rule")
    wp_inode=${wp_found#* }
    wp_inode=${wp_inode%% *}
    if [ -n "$wp_found" ] && pin_netns "${wp_found%% *}" "$wp_inode"; then
      pid=${wp_found%% *}
      target_inode=$wp_inode
      info "pod $1 appeared: pid $pid (after $wp_polls polls)"
      return 0
    fi
    if [ -n "$3" ] && [ -e "$(stopfile "$3")" ]; then
      rm -f "$(stopfile "$3")"
      info "capture $3 was stopped while waiting for pod $1"
      exit 0
    fi
    [ "$(date +%s)" -lt "$wp_end" ] || fail NO_CONTAINER "no process of pod $1 appeared on this node within $2s"
    sleep 0.02 2>/dev/null || sleep 1
    wp_polls=$((wp_polls + 1))
  done
}

op_capture() {
  pid='' uid='' wait_for='' cids='' iface=auto snaplen='' count='' duration='' id='' buffer=32768 await_ack='' host_side=''
  compress='' host_network='' netns_pinned='' node_if='' spool='' ring_files=8 file_mb=16 metas='' stats_every=''
  while [ $# -gt 0 ]; do
    case $1 in
      --host-side) host_side=1; shift ;;
      --host-network) host_network=1; shift ;;
      --node) node_if=1; shift ;;
      --pid | --uid | --wait | --cid | --iface | --snaplen | --count | --duration | --buffer | --id | --compress | \
        --spool | --ring-files | --file-mb | --meta | --stats-every)
        [ $# -ge 2 ] || fail USAGE "capture: $1 needs a value"
        case $1 in
          --pid) pid=$2 ;;
          --uid) uid=$2 ;;
          --wait) wait_for=$2 ;;
          --cid)
            is_container_id "$2" || fail USAGE "capture: bad container id '$2' (give it without the runtime:// prefix)"
            cids="${cids:+$cids }$2" ;;
          --iface) iface=$2 ;;
          --snaplen) snaplen=$2 ;;
          --count) count=$2 ;;
          --duration) duration=$2 ;;
          --buffer) buffer=$2 ;;
          --compress) compress=$2 ;;
          --spool) spool=$2 ;;
          --ring-files) ring_files=$2 ;;
          --file-mb) file_mb=$2 ;;
          --meta)
            # "KEY VALUE" for the spool's meta file (one line; what `spools` lists).
            case $2 in [a-z]*' '*) ;; *) fail USAGE "capture: --meta takes 'KEY VALUE', got '$2'" ;; esac
            metas="$metas$(oneline "$2")
" ;;
          --stats-every) stats_every=$2 ;;
          *) id=$2 ;;
        esac
        shift 2 ;;
      --await-ack) await_ack=1; shift ;;
      --) shift; break ;;
      *) fail USAGE "capture: unexpected argument '$1' (filter words go after --)" ;;
    esac
  done
  if [ -n "$node_if" ]; then
    [ -z "$pid$uid$wait_for$cids$host_side" ] || fail USAGE "capture: --node captures the node's own interface: no --pid, --uid, --cid, --wait or --host-side"
    [ "$iface" != auto ] || fail USAGE "capture: --node needs an interface name (--iface)"
  elif [ -n "$uid" ]; then
    [ -z "$pid" ] || fail USAGE "capture: give --pid or --uid, not both"
    case $uid in
      -) [ -n "$wait_for" ] || fail USAGE "capture: --uid - (armed) needs --wait SECONDS" ;;
      '' | *[!0-9a-fA-F-]*) fail USAGE "capture: --uid must be a pod UID or -, got '$uid'" ;;
    esac
    [ -z "$wait_for" ] || is_count "$wait_for" || fail USAGE "capture: --wait must be a number of seconds, got '$wait_for'"
    [ -z "$wait_for" ] || [ -z "$cids" ] || fail USAGE "capture: --wait captures from a pod's birth, before its containers exist: no --cid"
  else
    is_count "$pid" || fail USAGE "capture: --pid must be a process id, got '$pid'"
    [ -z "$wait_for$cids" ] || fail USAGE "capture: --wait and --cid go with --uid"
  fi
  [ "$iface" = auto ] || is_iface "$iface" || fail USAGE "capture: bad interface name '$iface'"
  # `ip link` shows a veth as eth0@if9; people paste that.
  iface=${iface%%@*}
  for num in "$snaplen" "$count" "$duration" "$buffer" "$ring_files" "$file_mb" "$stats_every"; do
    [ -z "$num" ] || is_count "$num" || fail USAGE "capture: '$num' is not a positive integer"
  done
  [ -z "$snaplen" ] || [ "$snaplen" -le 262144 ] || fail USAGE "capture: --snaplen must be at most 262144"
  [ -z "$id" ] || is_capture_id "$id" || fail USAGE "capture: bad capture id '$id'"
  [ "$ring_files" -ge 2 ] || fail USAGE "capture: --ring-files must be at least 2"
  case $compress in '' | auto | zstd | gzip) ;; *) fail USAGE "capture: --compress takes auto, zstd or gzip, got '$compress'" ;; esac

  need tcpdump
  need nsenter
  [ -z "$compress" ] || pick_compressor "$compress"
  if [ -n "$node_if" ]; then
    # The node's own interface: tcpdump runs here, in our namespace, which must be the node's.
    need_node_netns --node
    host_side=1
    target_inode=$self_netns
    # A process in that namespace, for the info line: our own.
    pid=$$
  elif [ -n "$wait_for" ]; then
    [ -z "$host_side" ] || fail USAGE "capture: --host-side cannot capture from a pod's birth"
    # A newborn pod's interfaces may not exist or be up yet (its network plugin is still at work):
    # "any" also sees the ones that appear after tcpdump starts.
    [ "$iface" != auto ] || iface=any
  else
    if [ -n "$uid" ]; then
      # The pod runs: find its process here, in the same exec as the capture (one round trip less).
      find_pid "$uid" "$cids"
      pid=$found_pid
      info "pid $found_pid $found_how"
    fi
    # Inside the pod no trial entry: the compile check below enters the namespace too, and tells
    # nsenter's errors apart. Host-side captures enter it only to read the interface.
    if [ -n "$host_side" ]; then check_target "$pid"; else check_target "$pid" quick; fi
    [ "$iface" = auto ] && iface=$(auto_iface "$pid")
    if [ -n "$host_side" ]; then
      [ "$iface" != any ] || fail USAGE "capture: --host-side needs one interface of the pod, not 'any'"
      host_peer "$pid" "$iface"
      # A routed CNI (Calico, Cilium, ptp) puts the host end on no bridge: say so, invent none.
      if [ "$peer_master" = - ]; then peer_on='no bridge'; else peer_on="master $peer_master"; fi
      info "host side of $iface (netns $target_inode, pid $pid) is $peer_if ($peer_on)"
      iface=$peer_if
      target_inode=$peer_netns
    fi
  fi

  # The filter stays in "$@"; options go in front. "--" keeps filter words from being options.
  have_filter=''
  [ $# -eq 0 ] || have_filter=1
  set -- -- "$@"
  [ -z "$count" ] || set -- -c "$count" "$@"
  [ -z "$snaplen" ] || set -- -s "$snaplen" "$@"
  set -- -i "$iface" "$@"
  compile_check "$@"
  if [ -n "$wait_for" ]; then
    # Everything was checked before the wait, in our own namespace: once the pod appears, every
    # millisecond before tcpdump listens is traffic lost, its init containers' first packets.
    [ "$uid" != - ] || read_uid
    wait_for_pod "$uid" "$wait_for" "$id"
    netns_pinned=1
  fi

  [ -z "$spool" ] || spool_start "$@"
  if [ -n "$id" ]; then
    # A stop that came while we were checking leaves stopfile; one from now on finds pidfile.
    trap 'exit 0' INT TERM
    printf '%s\n' "$$" >"$(pidfile "$id")" || fail CAPTURE_FAILED "cannot write $(pidfile "$id")"
    if [ -e "$(stopfile "$id")" ]; then
      rm -f "$(stopfile "$id")" "$(pidfile "$id")"
      info "capture $id was stopped before it started"
      exit 0
    fi
  fi
  out=''
  compress_pid=''
  if [ -n "$compress" ]; then
    # tcpdump writes into a FIFO that the compressor reads, so $! below is still tcpdump itself.
    out=/tmp/kubectl-netns-capture-${id:-$$}.fifo
    rm -f "$out"
    mkfifo -m 600 "$out" || fail CAPTURE_FAILED "cannot make the FIFO $out"
    compress_chunks "/tmp/kubectl-netns-capture-${id:-$$}.chunk" <"$out" &
    compress_pid=$!
    info "compressing with $compressor_name"
  fi
  info "capturing on $iface in netns $target_inode (pid $pid)"
  # --immediate-mode: otherwise libpcap hands packets over in blocks up to 1s late, and the
  # packets of the last second before a stop are lost, which is when people press Ctrl-C.
  # nsenter -n without -p execs in place, so $! is tcpdump itself, which stop and stop_after signal.
  # tcpdump installs its own SIGINT handler, so being a background job (SIGINT ignored) is harmless.
  # run_tcpdump execs, so the background job's PID ($!) is tcpdump's.
  # The clock line goes out before tcpdump exists: written after, it interleaved with tcpdump's
  # own "listening on" on the shared stderr (seen: "tcpdump: kubectl-netns-agent: info: ...").
  info "capture clock start $(clock_now)"
  if [ -n "$out" ]; then run_tcpdump -w - "$@" >"$out" & else run_tcpdump -w - "$@" & fi
  tcpdump_pid=$!
  if [ -n "$id" ]; then
    printf '%s\n' "$tcpdump_pid" >"$(pidfile "$id")"
    # A stop that reached this shell before the pidfile named tcpdump is passed on.
    trap 'kill -INT "$tcpdump_pid" 2>/dev/null' INT TERM
  fi
  [ -z "$duration" ] || stop_after "$duration" "$tcpdump_pid" </dev/null >/dev/null 2>&1 &
  stats_pid=''
  if [ -n "$stats_every" ]; then
    stats_every_loop "$stats_every" "$tcpdump_pid" </dev/null >/dev/null 2>&1 &
    stats_pid=$!
  fi
  while :; do
    wait "$tcpdump_pid"
    tcpdump_rc=$?
    # wait returns early when a trapped signal arrives; only tcpdump's own end counts.
    kill -0 "$tcpdump_pid" 2>/dev/null || break
  done
  [ -z "$stats_pid" ] || kill "$stats_pid" 2>/dev/null
  info "capture clock end $(clock_now)"
  if [ -n "$compress_pid" ]; then
    # The compressor ends at the FIFO's end, after the last chunk.
    while :; do
      wait "$compress_pid"
      kill -0 "$compress_pid" 2>/dev/null || break
    done
    rm -f "$out"
  fi
  if [ -n "$await_ack" ] && [ -n "$id" ]; then
    # Kubernetes drops stdout still in flight when the exec'd command exits (kubernetes#124571),
    # which for a slow reader is the capture's tail. So stay until the client says it has every
    # packet tcpdump counted (ack op), or 30s pass.
    info "capture finished; waiting for the client to receive every packet"
    ack_wait=0
    while [ ! -e "$(ackfile "$id")" ] && [ "$ack_wait" -lt 150 ]; do
      sleep 0.2 2>/dev/null || sleep 1
      ack_wait=$((ack_wait + 1))
    done
  fi
  [ -z "$id" ] || rm -f "$(pidfile "$id")" "$(ackfile "$id")"
  exit "$tcpdump_rc"
}

# The node's wall clock as SECONDS.NANOS, to about a jiffy: a new file's mtime (busybox date has no
# %N). Captures print it when tcpdump starts and ends, so a reader of several nodes' captures knows
# when each one was listening, in that node's own clock. Prints - when it cannot tell.
clock_now() {
  cn_file=/tmp/kubectl-netns-clock-$$
  if ! : >"$cn_file" 2>/dev/null; then
    printf -
    return 0
  fi
  cn=$(stat -c '%Y %y' "$cn_file" 2>/dev/null)
  rm -f "$cn_file"
  cn_frac=${cn#* * *.}
  cn_frac=${cn_frac%% *}
  case ${cn%% *}.$cn_frac in
    *[!0-9.]* | .*) printf - ;;
    *) printf '%s.%s' "${cn%% *}" "$cn_frac" ;;
  esac
}

# Becomes the capture's tcpdump (exec): in the pod's namespace, or with --host-side in our own.
# "$@" starts with where it writes (-w - or the spool's -w/-C/-z).
run_tcpdump() {
  if [ -n "$host_side" ]; then
    exec "$TCPDUMP" --immediate-mode -U -Z root -B "$buffer" "$@"
  fi
  if [ -n "$netns_pinned" ]; then
    exec "$NSENTER" --net=/proc/self/fd/8 -- "$TCPDUMP" --immediate-mode -U -Z root -B "$buffer" "$@"
  fi
  exec "$NSENTER" -t "$pid" -n -- "$TCPDUMP" --immediate-mode -U -Z root -B "$buffer" "$@"
}

# Sets COMPRESSOR, COMPRESS_LEVEL and compressor_name for --compress WHICH (auto: zstd, else
# gzip), or fails with NO_COMPRESSOR.
pick_compressor() {
  case $1 in auto) pc_list='zstd gzip' ;; *) pc_list=$1 ;; esac
  for pc_name in $pc_list; do
    COMPRESSOR=$(tool_path "$pc_name")
    [ -n "$COMPRESSOR" ] || continue
    compressor_name=$pc_name
    # The fastest level, where the build has levels (busybox gzip may not).
    COMPRESS_LEVEL=-1
    "$COMPRESSOR" -1 -c </dev/null >/dev/null 2>&1 || COMPRESS_LEVEL=''
    return 0
  done
  fail NO_COMPRESSOR "no $(printf '%s' "$pc_list" | sed 's/ / or /') in the debug image (PATH=$PATH)"
}

# Compresses stdin to stdout one chunk at a time, each chunk its own gzip member or zstd frame (a
# reader decompresses them as one stream). gzip and zstd keep input until their buffer fills or
# the input ends, which at a low packet rate would hold packets for minutes; a chunk here ends
# when the pipe runs dry. While the pipe stays full, chunks grow to 16 reads (up to 1 MiB), so a
# busy capture forks once per MiB, not once per 64 KiB.
compress_chunks() {
  cc_n=1
  while dd bs=65536 count="$cc_n" of="$1" 2>"$1.log" && [ -s "$1" ]; do
    # COMPRESS_LEVEL is one option or nothing.
    # shellcheck disable=SC2086
    "$COMPRESSOR" $COMPRESS_LEVEL -c <"$1" || break
    cc_rec=''
    read -r cc_rec <"$1.log" || :
    # "F+P records in": F full 64 KiB reads. None means the pipe ran dry: next time read once.
    case $cc_rec in 0+*) cc_n=1 ;; *) cc_n=16 ;; esac
  done
  rm -f "$1" "$1.log"
}

# Compiles the capture (tcpdump -d -i IFACE ... -- FILTER, given as "$@") where it will run, once;
# only when that fails, a second compile without the filter tells whether the filter was to blame,
# whatever words tcpdump uses for it. Before a birth capture $pid is unset: our own namespace.
compile_check() {
  if ! cmsg=$(compile_in_ns "$TCPDUMP" -d "$@" 2>&1 >/dev/null); then
    cmsg=$(reason "$cmsg")
    if [ -n "$have_filter" ] && imsg=$(compile_in_ns "$TCPDUMP" -d -i "$iface" 2>&1 >/dev/null); then
      case $cmsg in
        nsenter:*) nsenter_fail "$cmsg" "$pid" ;;
        *) fail BAD_FILTER "tcpdump rejected the capture filter: $cmsg" ;;
      esac
    fi
    [ -z "$have_filter" ] || cmsg=$(reason "$imsg")
    case $cmsg in
      nsenter:*) nsenter_fail "$cmsg" "$pid" ;;
      *'No such device'*) fail NO_INTERFACE "no interface '$iface' in the network namespace of ${pid:+process }${pid:-the debug pod}: $cmsg" ;;
      *ermission* | *'not permitted'*) fail CAPTURE_DENIED "tcpdump may not capture on '$iface' (the debug pod needs CAP_NET_RAW and CAP_NET_ADMIN): $cmsg" ;;
      *) fail CAPTURE_FAILED "tcpdump cannot capture on '$iface': $cmsg" ;;
    esac
  fi
}

# Runs a compile check where the capture will happen; without a target yet, in our own namespace.
compile_in_ns() {
  if [ -z "$pid" ]; then "$@"; else in_capture_ns "$@"; fi
}

# Runs a command where the capture happens: in PID's network namespace, or with --host-side in
# our own (the node's).
in_capture_ns() {
  if [ -n "$host_side" ]; then "$@"; else "$NSENTER" -t "$pid" -n -- "$@"; fi
}

# The node's own network and mount namespaces are those of PID 1, or of kthreadd (PID 2, always in
# the initial namespaces) where PID 1 cannot be read, as on sandboxed machines. Prints that PID,
# or '-' when neither can be read.
host_holder() {
  for hh_pid in 1 2; do
    if [ "$hh_pid" = 2 ] && [ "$(cat "$PROC_ROOT/2/comm" 2>/dev/null)" != kthreadd ]; then continue; fi
    stat -L -c %i "$PROC_ROOT/$hh_pid/ns/net" "$PROC_ROOT/$hh_pid/ns/mnt" >/dev/null 2>&1 || continue
    printf '%s' "$hh_pid"
    return 0
  done
  printf '%s' -
}

# Sets peer_if, peer_master and peer_netns: the host end of veth IFACE ($2) of PID ($1), in our
# own network namespace, which must be the node's. `ip -o link` writes a veth as
# "2: eth0@if127: <...> ... master knetns0 ...": 127 is the peer's ifindex where the peer lives.
host_peer() {
  need ip
  need_node_netns --host-side
  hp_self=$self_netns
  hp_line=$("$NSENTER" -t "$1" -n -- "$IP" -o link show dev "$2" 2>&1) ||
    fail NO_INTERFACE "no interface '$2' in the network namespace of process $1: $hp_line"
  hp_index=${hp_line%%:*}
  hp_peer=$(printf '%s\n' "$hp_line" | sed -n 's/^[0-9]*: [^ ]*@if\([0-9]*\): .*/\1/p')
  [ -n "$hp_peer" ] || fail NO_PEER "'$2' in the network namespace of process $1 has no peer in another namespace (not a veth?): $hp_line"
  hp_found=$("$IP" -o link show 2>/dev/null | awk -v want="$hp_peer" -v back="$hp_index" '
    {
      idx = $1
      sub(/:$/, "", idx)
      if (idx != want) next
      name = $2
      sub(/:$/, "", name)
      peer = name
      if (!sub(/^.*@if/, "", peer)) peer = ""
      sub(/@.*$/, "", name)
      master = "-"
      for (i = 3; i < NF; i++) if ($i == "master") master = $(i + 1)
      if (peer == back) print name, master
      else print "-", peer
      exit
    }')
  case $hp_found in
    '') fail NO_PEER "the peer of '$2' (ifindex $hp_peer) is not in the node's network namespace" ;;
    '- '*) fail NO_PEER "ifindex $hp_peer in the node's network namespace is not the peer of '$2' (it points to ifindex ${hp_found#- }, not $hp_index)" ;;
  esac
  peer_if=${hp_found% *}
  peer_master=${hp_found#* }
  peer_netns=$hp_self
}

# Sets self_netns to our network namespace's inode, or fails with NO_PEER unless it is the node's
# (a hostNetwork debug pod); $1 names what needs it.
need_node_netns() {
  self_netns=$(stat -L -c %i /proc/self/ns/net 2>/dev/null)
  nn_holder=$(host_holder)
  if [ "$nn_holder" != - ] && [ "$(stat -L -c %i "$PROC_ROOT/$nn_holder/ns/net" 2>/dev/null)" != "$self_netns" ]; then
    fail NO_PEER "the debug pod is not in the node's network namespace (it needs hostNetwork for $1)"
  fi
}

# Prints the PID of capture ID if that process is still this capture, else nothing.
capture_pid() {
  pf=$(pidfile "$1")
  [ -f "$pf" ] || return 0
  cp_pid=$(cat "$pf" 2>/dev/null)
  is_count "$cp_pid" || return 0
  # Guards against a stale pidfile whose PID now belongs to something else.
  cp_cmd=$(tr '\0' ' ' <"/proc/$cp_pid/cmdline" 2>/dev/null)
  case $cp_cmd in
    *tcpdump* | *nsenter* | *kubectl-netns*capture*) printf '%s\n' "$cp_pid" ;;
  esac
}

op_stop() {
  if [ $# -ne 1 ] || ! is_capture_id "$1"; then fail USAGE "usage: stop CAPTURE_ID"; fi
  : >"$(stopfile "$1")" 2>/dev/null
  sp=$(capture_pid "$1")
  if [ -z "$sp" ]; then
    info "capture $1 is not running"
    exit 0
  fi
  kill -INT "$sp" 2>/dev/null
  sw=0
  while kill -0 "$sp" 2>/dev/null && ! is_zombie "$sp"; do
    sw=$((sw + 1))
    if [ "$sw" -eq 50 ]; then
      # tcpdump treats TERM like INT; this reaches one that inherited SIGINT ignored.
      kill -TERM "$sp" 2>/dev/null
    elif [ "$sw" -ge 60 ]; then
      info "capture $1 (pid $sp) is still running after SIGINT and SIGTERM"
      break
    fi
    sleep 0.1 2>/dev/null || sleep 1
  done
  # The capture is past its stopfile check; only a stop that found nothing leaves one behind.
  rm -f "$(pidfile "$1")" "$(stopfile "$1")"
  exit 0
}

op_ack() {
  if [ $# -ne 1 ] || ! is_capture_id "$1"; then fail USAGE "usage: ack CAPTURE_ID"; fi
  : >"$(ackfile "$1")" || fail CAPTURE_FAILED "cannot write $(ackfile "$1")"
  exit 0
}

op_stats() {
  if [ $# -ne 1 ] || ! is_capture_id "$1"; then fail USAGE "usage: stats CAPTURE_ID"; fi
  sp=$(capture_pid "$1")
  # Before its exec the capture is still this shell, which SIGUSR1 would kill.
  if [ -z "$sp" ] || [ "$(cat "/proc/$sp/comm" 2>/dev/null)" != tcpdump ] || ! catches_usr1 "$sp"; then
    fail NO_CAPTURE "capture $1 is not running"
  fi
  kill -USR1 "$sp" 2>/dev/null || fail NO_CAPTURE "capture $1 is not running"
  exit 0
}

# ---- spool: the ring on the node, and its reader ---------------------------------------------
#
# A spooled capture's tcpdump writes a ring of files in DIR (capture --spool DIR), detached from
# any exec: its stdio are files, so a slow or broken exec stream can neither block it (the kernel
# would drop packets) nor kill it (SIGPIPE). Readers follow the ring and stream it (see the read op
# and the stream format in this file's header); a reader that falls behind reads from the files,
# and loses packets only when the ring wraps before it got to them.

# Sets sp_path to file SEQ ($2) of spool DIR ($1): tcpdump -C names them ring.pcap, ring.pcap1, ...
spool_path() {
  if [ "$2" -eq 0 ]; then sp_path=$1/ring.pcap; else sp_path=$1/ring.pcap$2; fi
}

# A spool directory is created by us under a directory the client names: plain characters only.
is_spool_dir() {
  case $1 in /*) ;; *) return 1 ;; esac
  case $1 in *[!A-Za-z0-9/_.-]* | */../* | */.. | *//*) return 1 ;; esac
  [ "${#1}" -le 200 ]
}

# One stream marker line (see the header): 12 bytes 0xFF where a packet record would begin, then text.
spool_mark() {
  printf '\377\377\377\377\377\377\377\377\377\377\377\377%s\n' "$*"
}

# Writes DIR/rotated, which tcpdump -z runs with each file it has just closed. It deletes the file
# that falls out of the ring (RING_FILES back, counting the one tcpdump now writes), so the spool
# never holds more than RING_FILES files. One the client has not confirmed ("ack", see read) is
# counted first (size and packets, into DIR/lost), so a reader can say exactly what was lost;
# DIR/first then names the oldest file left. tcpdump runs it at the lowest priority and does not
# wait for it.
spool_hook() {
  {
    printf '#!/bin/sh\n'
    printf "d='%s' ring=%s tcpdump='%s'\n" "$1" "$2" "$TCPDUMP"
    cat <<'HOOK'
case $1 in */ring.pcap) seq=0 ;; *) seq=${1##*/ring.pcap} ;; esac
case $seq in '' | *[!0-9]*) exit 0 ;; esac
old=$((seq + 1 - ring))
[ "$old" -ge 0 ] || exit 0
if [ "$old" -eq 0 ]; then f=$d/ring.pcap; else f=$d/ring.pcap$old; fi
[ -e "$f" ] || exit 0
acked=-1
{ read -r acked <"$d/acked"; } 2>/dev/null
case $acked in '' | *[!0-9]*) acked=-1 ;; esac
if [ "$acked" -lt "$old" ]; then
  size=$(stat -c %s "$f" 2>/dev/null)
  n=$("$tcpdump" -Z root -r "$f" --count 2>/dev/null)
  n=${n%% *}
  case $n in '' | *[!0-9]*) n=$("$tcpdump" -Z root -nq -r "$f" 2>/dev/null | wc -l | tr -d ' ') ;; esac
  printf '%s %s %s\n' "$old" "${size:--}" "${n:--}" >>"$d/lost"
fi
# The oldest file the ring still holds, so a reader knows that files before it are gone.
first=0
{ read -r first <"$d/first"; } 2>/dev/null
case $first in '' | *[!0-9]*) first=0 ;; esac
[ "$first" -gt "$old" ] || printf '%s\n' $((old + 1)) >"$d/first"
rm -f "$f"
HOOK
  } >"$1/rotated" && chmod 700 "$1/rotated"
}

# Starts the ring's tcpdump ("$@": -i IFACE ... -- FILTER) detached from this exec, then becomes
# the spool's first reader (from the start), so one exec still finds, captures and streams.
spool_start() {
  is_spool_dir "$spool" || fail USAGE "capture: bad spool directory '$spool'"
  [ -n "$id" ] || fail USAGE "capture: --spool needs --id"
  mkdir -p "${spool%/*}" 2>/dev/null
  mkdir -m 700 "$spool" 2>/dev/null || fail SPOOL_FAILED "cannot create the spool directory $spool (it exists, or the spool volume is missing or full)"
  { : >"$spool/log" && : >"$spool/lost"; } || fail SPOOL_FAILED "cannot write in $spool"
  {
    printf 'id %s\nstarted %s\nring_files %s\nfile_mb %s\niface %s\nnetns %s\npid %s\n' \
      "$id" "$(date +%s)" "$ring_files" "$file_mb" "$iface" "$target_inode" "$pid"
  } >"$spool/meta.tmp" 2>/dev/null || fail SPOOL_FAILED "cannot write in $spool"
  [ -z "$metas" ] || printf '%s' "$metas" >>"$spool/meta.tmp"
  mv "$spool/meta.tmp" "$spool/meta"
  spool_hook "$spool" "$ring_files" || fail SPOOL_FAILED "cannot write $spool/rotated"
  set -- -w "$spool/ring.pcap" -C "$file_mb" -z "$spool/rotated" "$@"
  info "capturing on $iface in netns $target_inode (pid $pid)"
  info "spooling into $spool: $ring_files files of $file_mb MB"
  # The writer: tcpdump and the one shell that waits for it and then marks the spool ended.
  (
    [ -n "$netns_pinned" ] || exec 8<&-
    # Before tcpdump starts, so that the line cannot interleave with tcpdump's own.
    info "capture clock start $(clock_now)"
    run_tcpdump "$@" &
    sw_pid=$!
    printf '%s\n' "$sw_pid" >"$spool/pid"
    printf '%s\n' "$sw_pid" >"$(pidfile "$id")"
    # A stop that came before the pidfile named tcpdump left its stopfile.
    [ ! -e "$(stopfile "$id")" ] || kill -INT "$sw_pid" 2>/dev/null
    [ -z "$duration" ] || stop_after "$duration" "$sw_pid" &
    # Live counters go into the log, which the readers forward.
    sw_stats=''
    if [ -n "$stats_every" ]; then
      stats_every_loop "$stats_every" "$sw_pid" </dev/null >/dev/null 2>&1 &
      sw_stats=$!
    fi
    while :; do
      wait "$sw_pid"
      sw_rc=$?
      kill -0 "$sw_pid" 2>/dev/null || break
    done
    [ -z "$sw_stats" ] || kill "$sw_stats" 2>/dev/null
    info "capture clock end $(clock_now)"
    rm -f "$(pidfile "$id")" "$(stopfile "$id")"
    printf '%s\n' "$sw_rc" >"$spool/end"
  ) </dev/null >/dev/null 2>>"$spool/log" &
  [ -z "$netns_pinned" ] || exec 8<&-
  spool_stream "$spool" 0 0 0
}

# Streams spool DIR from file SEQ, byte OFFSET (a record boundary), forwarding the capture's log
# from byte LOGOFF; through the compressor when there is one.
spool_stream() {
  if [ -z "$compress" ]; then spool_read "$@"; fi
  ss_fifo=$1/reader.$$.fifo
  rm -f "$ss_fifo"
  mkfifo -m 600 "$ss_fifo" || fail SPOOL_FAILED "cannot make the FIFO $ss_fifo"
  info "compressing with $compressor_name"
  compress_chunks "$1/reader.$$.chunk" <"$ss_fifo" &
  ss_cpid=$!
  (spool_read "$@") >"$ss_fifo"
  ss_rc=$?
  wait "$ss_cpid"
  rm -f "$ss_fifo"
  exit "$ss_rc"
}

# Sets sr_w to the bytes tcpdump has written so far (wchar in /proc/PID/io: no fork), or '' when
# it cannot be read (no such process yet or any more, or no task I/O accounting).
spool_written() {
  sr_w=''
  [ -n "$sr_tpid" ] || { read -r sr_tpid <"$sr_dir/pid"; } 2>/dev/null || return 0
  # Its second line; shells read byte by byte, so not one line more than needed.
  { { read -r _ _ && read -r sw_k sw_v; } <"/proc/$sr_tpid/io"; } 2>/dev/null || return 0
  [ "$sw_k" != wchar: ] || sr_w=$sw_v
}

# Waits a moment without a fork where the shell allows (read -t on a FIFO nobody writes: busybox
# ash, bash); dash has no read -t and runs sleep.
spool_nap() {
  if [ -n "$sr_nap_fifo" ]; then
    # shellcheck disable=SC3045 # only where the check in spool_read found read -t
    read -r -t "$1" _ <&6
  else
    sleep "$2" 2>/dev/null || sleep 1
  fi
}

# Forwards the capture's new log lines (tcpdump's stderr, the writer's info lines) to our stderr,
# whole lines only, then where in the log that leaves us, for a reader that resumes (--log).
spool_log() {
  sl_sent=''
  while IFS= read -r sl_line <&5; do
    sl_line=$sr_part$sl_line
    printf '%s\n' "$sl_line" >&2
    sr_part=''
    sr_logoff=$((sr_logoff + ${#sl_line} + 1))
    sl_sent=1
  done
  sr_part=$sr_part$sl_line
  [ -z "$sl_sent" ] || printf 'kubectl-netns-spool: log %s\n' "$sr_logoff" >&2
}

# Copies what the current file holds beyond what we sent (fd 3 keeps our place) to stdout, in
# pieces of at most 4 MiB so the log and the client's confirmations are seen in between.
spool_drain() {
  while :; do
    dd bs=65536 count=64 <&3 2>"$sr_dd" &
    sd_pid=$!
    wait "$sd_pid" || spool_quit 0
    sd_pid=''
    sd_rec=''
    { read -r sd_rec <"$sr_dd"; } 2>/dev/null
    case $sd_rec in
      64+0*) spool_log ;;
      *) return 0 ;;
    esac
  done
}

# Opens file sr_seq at byte $1 on fd 3 and announces it; a file the ring has deleted is announced
# as lost (with its size and packets, from DIR/lost) and the next one is tried. Returns 1 when
# the file does not exist yet, 2 when it never will (the capture has ended before it).
spool_open() {
  so_off=$1
  while :; do
    spool_path "$sr_dir" "$sr_seq"
    if { command exec 3<"$sp_path"; } 2>/dev/null; then
      if [ "$so_off" -gt 0 ]; then dd bs=1 skip="$so_off" count=0 <&3 2>/dev/null; fi
      spool_mark "file $sr_seq $so_off"
      return 0
    fi
    so_lost=$(awk -v s="$sr_seq" '$1 == s { print $2, $3; exit }' "$sr_dir/lost" 2>/dev/null)
    if [ -z "$so_lost" ]; then
      # A later file, or DIR/first past it, says this one existed once; otherwise it is still to
      # come, or never will.
      spool_path "$sr_dir" $((sr_seq + 1))
      so_first=0
      { read -r so_first <"$sr_dir/first"; } 2>/dev/null
      case $so_first in '' | *[!0-9]*) so_first=0 ;; esac
      if [ ! -e "$sp_path" ] && [ "$so_first" -le "$sr_seq" ]; then
        [ -e "$sr_dir/end" ] && return 2
        return 1
      fi
      so_lost='- -'
    fi
    spool_mark "lost $sr_seq $so_lost"
    sr_seq=$((sr_seq + 1))
    so_off=0
  done
}

# Waits until file sr_seq can be opened at byte $1 (see spool_open); returns 1 if it never will.
spool_await() {
  while :; do
    spool_open "$1"
    case $? in 0) return 0 ;; 2) return 1 ;; esac
    [ ! -e "$sr_flag.gone" ] || spool_quit 0
    spool_log
    spool_nap 0.005 0.01
  done
}

# Sets sr_next when a file after sr_seq exists, or existed and the ring has deleted it.
spool_later() {
  sr_next=''
  spool_path "$sr_dir" $((sr_seq + 1))
  if [ -e "$sp_path" ]; then
    sr_next=1
    return 0
  fi
  sl_first=0
  { read -r sl_first <"$sr_dir/first"; } 2>/dev/null
  case $sl_first in '' | *[!0-9]*) sl_first=0 ;; esac
  [ "$sl_first" -le $((sr_seq + 1)) ] || sr_next=1
}

# Ends the reader: removes its own files, stops its stdin watcher, exits with $1.
spool_quit() {
  [ -z "$sr_watch" ] || kill "$sr_watch" 2>/dev/null
  rm -f "$sr_dd" "$sr_flag.done" "$sr_flag.gone" "$sr_nap_fifo"
  exit "$1"
}

# The end marker: tcpdump's exit status and final counts (from the log), after every byte.
spool_end() {
  se_rc=''
  { read -r se_rc <"$sr_dir/end"; } 2>/dev/null
  se_counts=$(awk '
    /^[0-9]+ packets? captured/ { c = $1 }
    /^[0-9]+ packets? received by filter/ { r = $1 }
    /^[0-9]+ packets? dropped by kernel/ { k = $1 }
    END { print (c == "" ? "-" : c), (r == "" ? "-" : r), (k == "" ? "-" : k) }' "$sr_dir/log" 2>/dev/null)
  spool_mark "end ${se_rc:--} ${se_counts:-- - -}"
}

spool_read() {
  sr_dir=$1 sr_seq=$2 sr_part='' sr_tpid='' sr_watch='' sr_nap_fifo='' sr_logoff=$4
  sr_dd=$sr_dir/reader.$$.dd sd_pid=''
  # dd's record count, read after every copy: in memory where the container has a tmpfs for it.
  [ ! -d /dev/shm ] || [ ! -w /dev/shm ] || sr_dd=/dev/shm/kubectl-netns-reader.$$.dd
  sr_flag=$sr_dir/reader.$$
  [ -d "$sr_dir" ] || fail NO_CAPTURE "no spool at $sr_dir"
  # A fork-free nap needs read -t with fractions and a FIFO to wait on (dash has no -t: status 2;
  # a timeout is 1 in busybox ash, 142 in bash). Without it, a busybox in the image runs the reader
  # instead: dash would fork a sleep for every nap.
  if mkfifo -m 600 "$sr_flag.nap" 2>/dev/null; then
    exec 6<>"$sr_flag.nap"
    # shellcheck disable=SC3045 # the check itself
    (read -r -t 0.001 _ <&6) 2>/dev/null
    case $? in
      1 | 1[2-9][0-9]) sr_nap_fifo=$sr_flag.nap ;;
      *)
        exec 6<&-
        rm -f "$sr_flag.nap"
        sr_bb=$(command -v busybox 2>/dev/null)
        if [ -z "${KNETNS_READER_REEXEC:-}" ] && [ -n "$sr_bb" ] && [ -f "$0" ]; then
          export KNETNS_READER_REEXEC=1
          exec "$sr_bb" sh "$0" read "$sr_dir" --from "$2" "$3" --log "$4"
        fi ;;
    esac
  fi
  { command exec 5<"$sr_dir/log"; } 2>/dev/null || fail NO_CAPTURE "no spool at $sr_dir"
  if [ "$4" -gt 0 ]; then dd bs=1 skip="$4" count=0 <&5 2>/dev/null; fi
  # TERM also comes from the stdin watcher: a dd blocked writing to a dead stream is ended with us.
  trap '[ -z "$sd_pid" ] || kill "$sd_pid" 2>/dev/null; spool_quit 0' INT TERM HUP PIPE
  # The client's lines on stdin: "ack SEQ" (it has all of file SEQ: the ring may delete it
  # without counting it) and "done" (it has the end marker). End of input: the client is gone.
  exec 7<&0
  (
    trap - INT TERM HUP PIPE
    while IFS= read -r sw_line; do
      case $sw_line in
        'ack '*)
          sw_seq=${sw_line#ack }
          case $sw_seq in '' | *[!0-9]*) ;; *) printf '%s\n' "$sw_seq" >"$sr_dir/acked" ;; esac ;;
        done) : >"$sr_flag.done" ;;
      esac
    done
    : >"$sr_flag.gone"
    # A reader blocked writing to a dead stream learns it here ($$ is the reader's own PID).
    kill -TERM $$ 2>/dev/null
  ) <&7 >/dev/null 2>&1 &
  sr_watch=$!
  exec 7<&-
  sr_reported=''
  sr_open=''
  # sr_woke: the wchar the wake-up below just read (still "before the drain"; no second read).
  # sr_fast: naps left at the short interval; traffic tends to come in runs, so for ~20 ms after
  # data the reader looks every millisecond (busybox's read -t counts whole ms: 0.0005 is 0), and
  # every 2 ms once it has been quiet.
  sr_woke='' sr_fast=0
  if spool_await "$3"; then sr_open=1; fi
  while [ -n "$sr_open" ]; do
    spool_log
    [ ! -e "$sr_flag.gone" ] || spool_quit 0
    sr_end=''
    [ ! -e "$sr_dir/end" ] || sr_end=1
    spool_later
    # Read before the drain: a write after this point changes it, so no wake-up is missed.
    if [ -n "$sr_woke" ]; then sr_w=$sr_woke; else spool_written; fi
    sr_woke=''
    sr_before=$sr_w
    spool_drain
    if [ -n "$sr_w" ] && [ "$sr_w" != "$sr_reported" ]; then
      printf 'kubectl-netns-spool: written %s\n' "$sr_w" >&2
      sr_reported=$sr_w
    fi
    if [ -n "$sr_next" ] || [ -n "$sr_end" ]; then
      # A later file existed before the drain (or tcpdump had ended), so this one was complete.
      # After the end, the next file is opened if there is one, else the stream ends.
      sr_seq=$((sr_seq + 1))
      exec 3<&-
      spool_await 0 || break
      continue
    fi
    # Caught up: wait for tcpdump to write (its wchar moves), to end, or for the client to go.
    # Log lines (tcpdump's "listening on") are forwarded while waiting too: a read, no fork.
    # The first look comes without a nap: at a steady rate tcpdump has written during the copy.
    sr_look=''
    while :; do
      if [ -z "$sr_look" ]; then
        sr_look=1
      elif [ "$sr_fast" -gt 0 ]; then
        sr_fast=$((sr_fast - 1))
        spool_nap 0.001 0.01
      else
        spool_nap 0.002 0.01
      fi
      [ ! -e "$sr_flag.gone" ] || spool_quit 0
      [ ! -e "$sr_dir/end" ] || break
      spool_log
      spool_written
      if [ -z "$sr_w" ]; then break; fi
      if [ "$sr_w" != "$sr_before" ]; then
        sr_woke=$sr_w sr_fast=20
        break
      fi
    done
  done
  spool_log
  [ -z "$sr_part" ] || printf '%s\n' "$sr_part" >&2
  spool_end
  # Kubernetes drops stdout still in flight when the exec'd command exits (kubernetes#124571):
  # stay until the client says it has the end marker (or is gone), for at most 30 s.
  sr_i=0
  while [ ! -e "$sr_flag.done" ] && [ ! -e "$sr_flag.gone" ] && [ "$sr_i" -lt 300 ]; do
    spool_nap 0.1 0.1
    sr_i=$((sr_i + 1))
  done
  spool_quit 0
}

op_read() {
  compress=''
  [ $# -ge 1 ] || fail USAGE "usage: read DIR [--from SEQ OFFSET] [--log OFFSET] [--compress auto|zstd|gzip]"
  rd_dir=$1 rd_seq=0 rd_off=0 rd_log=0
  shift
  while [ $# -gt 0 ]; do
    case $1 in
      --from)
        [ $# -ge 3 ] || fail USAGE "read: --from needs SEQ and OFFSET"
        rd_seq=$2 rd_off=$3
        shift 3 ;;
      --log | --compress)
        [ $# -ge 2 ] || fail USAGE "read: $1 needs a value"
        if [ "$1" = --log ]; then rd_log=$2; else compress=$2; fi
        shift 2 ;;
      *) fail USAGE "read: unexpected argument '$1'" ;;
    esac
  done
  is_spool_dir "$rd_dir" || fail USAGE "read: bad spool directory '$rd_dir'"
  for num in "$rd_seq" "$rd_off" "$rd_log"; do
    case $num in '' | *[!0-9]* | 0?*) fail USAGE "read: '$num' is not a number" ;; esac
    [ "${#num}" -le 15 ] || fail USAGE "read: '$num' is too large"
  done
  case $compress in '' | auto | zstd | gzip) ;; *) fail USAGE "read: --compress takes auto, zstd or gzip, got '$compress'" ;; esac
  [ -z "$compress" ] || pick_compressor "$compress"
  spool_stream "$rd_dir" "$rd_seq" "$rd_off" "$rd_log"
}

# Every spool under ROOT, one record per line (tab-separated):
#   spool ID STATE BYTES FILES FIRST LAST LOST_FILES LOST_PACKETS STARTED
#   meta ID KEY VALUE
# STATE: running, or ended:RC. BYTES and FILES: what the ring holds now; FIRST and LAST: the
# oldest and newest file's sequence number (- when none); LOST_*: what the ring deleted unread.
op_spools() {
  [ $# -eq 1 ] || fail USAGE "usage: spools ROOT"
  is_spool_dir "$1" || fail USAGE "spools: bad spool root '$1'"
  [ -d "$1" ] || exit 0
  for sl_dir in "$1"/*/; do
    sl_dir=${sl_dir%/}
    [ -f "$sl_dir/meta" ] || continue
    sl_id=${sl_dir##*/}
    sl_state=running
    sl_rc=''
    { read -r sl_rc <"$sl_dir/end"; } 2>/dev/null && sl_state=ended:$sl_rc
    # The names are tcpdump's (ring.pcapN), so ls is safe to parse here.
    # shellcheck disable=SC2012
    sl_files=$(ls -n "$sl_dir" 2>/dev/null | awk '
      $NF ~ /^ring\.pcap[0-9]*$/ {
        s = $NF; sub(/^ring\.pcap/, "", s); s = s + 0
        n++; b += $5
        if (first == "" || s < first) first = s
        if (last == "" || s > last) last = s
      }
      END { printf "%d\t%d\t%s\t%s", b, n, (first == "" ? "-" : first), (last == "" ? "-" : last) }')
    sl_lost=$(awk '{ n++; if ($3 ~ /^[0-9]+$/) p += $3 } END { printf "%d\t%d", n, p }' "$sl_dir/lost" 2>/dev/null)
    sl_started=$(awk '$1 == "started" { print $2; exit }' "$sl_dir/meta")
    printf 'spool\t%s\t%s\t%s\t%s\t%s\n' "$sl_id" "$sl_state" "$sl_files" "${sl_lost:-0	0}" "${sl_started:--}"
    awk -v id="$sl_id" '{ k = $1; sub(/^[^ ]* /, ""); printf "meta\t%s\t%s\t%s\n", id, k, $0 }' "$sl_dir/meta"
  done
}

# Writes spool DIR as a tar stream on stdout: its meta, log and lost files, end once tcpdump has
# ended, then the ring's files in order (the one tcpdump still writes may end inside a record: the
# reader keeps whole ones).
op_spool_tar() {
  [ $# -eq 1 ] || fail USAGE "usage: spool-tar DIR"
  is_spool_dir "$1" || fail USAGE "spool-tar: bad spool directory '$1'"
  [ -f "$1/meta" ] || fail NO_CAPTURE "no spool at $1"
  # shellcheck disable=SC2012 # ring.pcapN names only
  st_files=$(ls "$1" | awk '/^ring\.pcap[0-9]*$/ { s = $0; sub(/^ring\.pcap/, "", s); print s + 0, $0 }' |
    sort -n | awk '{ print $2 }')
  # File names are ours (ring.pcapN): word splitting is safe here.
  # shellcheck disable=SC2086
  st_end=''
  [ ! -e "$1/end" ] || st_end=end
  # shellcheck disable=SC2086
  exec tar -C "$1" -cf - meta log lost $st_end $st_files
}

# Removes spool DIR once its capture has ended (its data is fetched, or no longer wanted).
op_spool_rm() {
  [ $# -eq 1 ] || fail USAGE "usage: spool-rm DIR"
  is_spool_dir "$1" || fail USAGE "spool-rm: bad spool directory '$1'"
  [ -d "$1" ] || exit 0
  [ -e "$1/end" ] || fail USAGE "spool-rm: the capture in $1 still runs; stop it first"
  rm -rf "$1"
}

# ---- exec ------------------------------------------------------------------------------------

op_exec() {
  pid=''
  while [ $# -gt 0 ]; do
    case $1 in
      --pid)
        [ $# -ge 2 ] || fail USAGE "exec: --pid needs a value"
        pid=$2
        shift 2 ;;
      --) shift; break ;;
      *) fail USAGE "exec: unexpected argument '$1' (the command goes after --)" ;;
    esac
  done
  is_count "$pid" || fail USAGE "exec: --pid must be a process id, got '$pid'"
  if [ $# -eq 0 ] || [ -z "$1" ]; then fail USAGE "exec: no command given after --"; fi
  check_target "$pid"
  exec "$NSENTER" -t "$pid" -n -- "$@"
}

# ---- scan, netinfo ---------------------------------------------------------------------------

TAB=$(printf '\t')

# "proc" records for every process whose namespaces can be read. A fixed handful of processes
# (stat, grep, awk) reads all of /proc, however many processes there are: per-process readlinks
# would cost thousands of forks on a busy node. Zombies and processes that exit meanwhile are
# simply missing (their ns links cannot be read).
scan_procs() {
  {
    stat -L -c 'N %n %i' "$PROC_ROOT"/[0-9]*/ns/net 2>/dev/null
    stat -L -c 'M %n %i' "$PROC_ROOT"/[0-9]*/ns/mnt 2>/dev/null
    grep -H '' "$PROC_ROOT"/[0-9]*/comm 2>/dev/null
    # Only the cgroup lines that can name a pod (pod<uid>, -pod<uid>.slice) or a container (64 hex
    # digits) go on: with cgroup v1 a process has a dozen lines, and a node full of leaked
    # namespaces has thousands of processes in no pod; awk would split every one for nothing.
    grep -H -e pod -e '[0-9a-f]\{64\}' "$PROC_ROOT"/[0-9]*/cgroup 2>/dev/null
  } | awk -v root="$PROC_ROOT" '
    function pid_of(path,   rest) {
      rest = substr(path, length(root) + 2)
      return substr(rest, 1, index(rest, "/") - 1)
    }
    $1 == "N" { net[pid_of($2)] = $3; next }
    $1 == "M" { mnt[pid_of($2)] = $3; next }
    {
      # ROOT/PID/comm:NAME or ROOT/PID/cgroup:HIERARCHY:CONTROLLERS:PATH
      pid = pid_of($0)
      rest = substr($0, length(root) + length(pid) + 3)
      if (substr(rest, 1, 5) == "comm:") {
        c = substr(rest, 6)
        gsub(/[^ -~]/, "?", c)
        comm[pid] = c == "" ? "?" : c
        next
      }
      if (substr(rest, 1, 7) != "cgroup:") next
      path = substr(rest, 8)
      sub(/^[^:]*:[^:]*:/, "", path)
      n = split(path, part, "/")
      for (i = 1; i <= n; i++) {
        c = part[i]
        # cgroupfs: pod<uid>; systemd: kubepods-besteffort-pod<uid with _>.slice
        if (c ~ /^pod[0-9a-f-]+$/ && length(c) == 39) uid[pid] = substr(c, 4)
        else if (c ~ /-pod[0-9a-f_]+\.slice$/) {
          u = c
          sub(/^.*-pod/, "", u)
          sub(/\.slice$/, "", u)
          gsub(/_/, "-", u)
          if (length(u) == 36) uid[pid] = u
        }
        # <id>, cri-containerd-<id>.scope, crio-<id>.scope, docker-<id>.scope; conmon is not the container
        if (c ~ /conmon/) continue
        k = c
        sub(/\.scope$/, "", k)
        sub(/^.*-/, "", k)
        if (length(k) == 64 && k ~ /^[0-9a-f]+$/) cid[pid] = k
      }
    }
    END {
      for (pid in net) {
        printf "proc\t%s\t%s\t%s\t%s\t%s\t%s\n", pid, net[pid], (pid in mnt) ? mnt[pid] : "-", \
          (pid in comm) ? comm[pid] : "?", (pid in uid) ? uid[pid] : "-", (pid in cid) ? cid[pid] : "-"
      }
    }'
}

# "mount" records: nsfs mounts of network namespaces in the mountinfo of every mount namespace,
# each read once, through its lowest PID (PROCS: the proc records). grep, not awk, opens the
# files: awk gives up on a file that vanished (its process exited), grep goes on.
scan_mounts() {
  sm_map=$(printf '%s\n' "$1" | awk -F"$TAB" '
    $1 == "proc" && $4 != "-" && (!($4 in h) || $2 + 0 < h[$4] + 0) { h[$4] = $2 }
    END { for (m in h) printf "%s:%s ", h[m], m }')
  set --
  for sm_hm in $sm_map; do set -- "$@" "$PROC_ROOT/${sm_hm%%:*}/mountinfo"; done
  [ $# -gt 0 ] || return 0
  # Before 3.19 the kernel showed these as "proc" mounts; the root field names the namespace.
  grep -H -e ' - nsfs ' -e ' - proc ' "$@" 2>/dev/null | awk -v root="$PROC_ROOT" -v map="$sm_map" '
    BEGIN {
      n = split(map, kv, " ")
      for (i = 1; i <= n; i++) { c = index(kv[i], ":"); mntns[substr(kv[i], 1, c - 1)] = substr(kv[i], c + 1) }
    }
    {
      # ROOT/HOLDER/mountinfo:ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
      c = index($0, "/mountinfo:")
      holder = substr($0, length(root) + 2, c - length(root) - 2)
      $0 = substr($0, c + 11)
      for (i = 7; i < NF; i++) if ($i == "-") break
      if (($(i + 1) == "nsfs" || $(i + 1) == "proc") && $4 ~ /^net:\[[0-9]+\]$/) {
        ino = $4
        gsub(/[^0-9]/, "", ino)
        printf "mount\t%s\t%s\t%s\t%s\n", holder, mntns[holder], ino, $5
      }
    }'
}

# "file" records: nsfs files in the directories runtimes and `ip netns` use, seen from the node's
# mount namespace through ROOT (/proc/HOST/root). /var/run is a symlink to /run almost everywhere;
# an absolute symlink would resolve in OUR root, so a symlinked /var/run is not followed.
scan_files() {
  sf_root=$1
  for sf_dir in /run/netns /run/docker/netns /var/run/netns /var/run/docker/netns; do
    case $sf_dir in /var/run/*) [ ! -L "$sf_root/var/run" ] || continue ;; esac
    [ -d "$sf_root$sf_dir" ] || continue
    set -- "$sf_root$sf_dir"/*
    [ -e "$1" ] || continue
    # 6e736673 is NSFS_MAGIC: a file there without a mount on it is only an empty leftover.
    { stat -f -L -c 'T %t %n' "$@"; stat -L -c 'I %i %n' "$@"; } 2>/dev/null | awk -v skip="$((${#sf_root} + 1))" '
      { name = substr($0, length($1) + length($2) + 3) }
      $1 == "T" { type[name] = $2 }
      $1 == "I" { ino[name] = $2 }
      END { for (f in ino) if (type[f] == "6e736673") printf "file\t%s\t%s\n", substr(f, skip), ino[f] }'
  done
}

# "cni" records: libcni's cache (/var/lib/cni/results) under ROOT, one line per file, without the
# base64 network config. It names the pod (cniArgs) and its netns path (result.interfaces[].sandbox)
# even after every process of the sandbox has gone.
scan_cni() {
  sc_dir=$1/var/lib/cni/results
  [ -d "$sc_dir" ] || return 0
  set -- "$sc_dir"/*
  [ -f "$1" ] || return 0
  grep -H '' "$@" 2>/dev/null | awk -v skip="$((${#sc_dir} + 1))" '
    function flush() {
      gsub(/"config":"[^"]*",?/, "", body)
      printf "cni\t%s\t%s\n", cur, body
    }
    {
      rest = substr($0, skip + 1)
      c = index(rest, ":")
      name = substr(rest, 1, c - 1)
      text = substr(rest, c + 1)
      gsub(/\t/, " ", text)
      if (name != cur) {
        if (cur != "") flush()
        cur = name
        body = ""
      }
      body = body text
    }
    END { if (cur != "") flush() }'
}

# Ways into each namespace, as "NETNS t PIDS [PATH]" (up to 8 of its processes, lowest PID first,
# and its mount or file if it has one) or "NETNS f PATH" (a mount, as /proc/HOLDER/root/MOUNTPOINT,
# else a file under the node's root $1). Reads records. More than one way, because the lowest PID
# is not always the oldest: once PIDs wrap, a passing exec (a probe, our own netinfo) may hold it
# and be gone by the time the namespace is entered.
scan_entries() {
  awk -F"$TAB" -v root="$PROC_ROOT" -v hostroot="$1" '
    # Adds PID P to the up to 8 lowest of namespace NS, kept in order.
    function keep(ns, p,   n, a, i, out, k, put) {
      n = (ns in pid) ? split(pid[ns], a, " ") : 0
      if (n == 8 && p > a[n] + 0) return
      out = ""
      k = 0
      put = 0
      for (i = 1; i <= n && k < 8; i++) {
        if (!put && p < a[i] + 0) { out = out " " p; k++; put = 1 }
        if (k < 8) { out = out " " a[i]; k++ }
      }
      if (!put && k < 8) out = out " " p
      pid[ns] = substr(out, 2)
    }
    # mountinfo writes space, tab, newline and backslash as \ooo.
    function unoct(s,   out, i, d) {
      out = ""
      while ((i = index(s, "\\")) > 0) {
        d = substr(s, i + 1, 3)
        if (d ~ /^[0-7][0-7][0-7]$/) {
          out = out substr(s, 1, i - 1) sprintf("%c", substr(d, 1, 1) * 64 + substr(d, 2, 1) * 8 + substr(d, 3, 1))
          s = substr(s, i + 4)
        } else {
          out = out substr(s, 1, i)
          s = substr(s, i + 1)
        }
      }
      return out s
    }
    $1 == "proc" { keep($3, $2 + 0); next }
    $1 == "mount" && !($4 in path) { p = unoct($5); if (p !~ /[\t\n]/) path[$4] = root "/" $2 "/root" p; next }
    $1 == "file" && !($3 in path) && hostroot != "" { path[$3] = hostroot $2; next }
    END {
      for (ns in pid) printf "%s\tt\t%s%s\n", ns, pid[ns], (ns in path) ? "\t" path[ns] : ""
      for (ns in path) if (!(ns in pid)) printf "%s\tf\t%s\n", ns, path[ns]
    }'
}

# The entries (from scan_entries) whose namespace may hold an address in one of the subnets
# $2 ("HEX/BITS ...", 8 or 32 lowercase hex digits), plus the node's namespace $3, the namespaces
# in $4 ("INODE ...") and every entry without a process. A process's /proc/PID/net shows its
# namespace without entering it: the kernel adds a local /32 route (fib_trie: "/32 host LOCAL")
# for every IPv4 address of every interface, up or down, and if_inet6 lists every IPv6 address.
# One awk reads them all (getline: a file that vanished is skipped, not fatal); the entries it
# cannot read a process's files for are kept, so only `ip` decides what a namespace holds.
scan_pick() {
  printf '%s\n' "$1" | awk -F"$TAB" -v root="$PROC_ROOT" -v subnets="$2" -v host="$3" -v wanted="$4" '
    function hex4(dotted,   o) {
      if (split(dotted, o, ".") != 4) return ""
      return sprintf("%02x%02x%02x%02x", o[1], o[2], o[3], o[4])
    }
    # HEX is in subnet QHEX/BITS: equal leading nibbles, then the leading bits of the next one.
    function within(hex, qhex, bits,   n, r, d) {
      if (length(hex) != length(qhex)) return 0
      n = int(bits / 4)
      r = bits % 4
      if (substr(hex, 1, n) != substr(qhex, 1, n)) return 0
      if (r == 0) return 1
      d = r == 1 ? 8 : r == 2 ? 4 : 2
      return int((index(DIGITS, substr(hex, n + 1, 1)) - 1) / d) == int((index(DIGITS, substr(qhex, n + 1, 1)) - 1) / d)
    }
    function holds(hex,   i) {
      for (i = 1; i <= nq; i++) if (within(hex, qhex[i], qbits[i])) return 1
      return 0
    }
    # 1: a local address in a subnet; 0: none; -1: unreadable (the process exited meanwhile).
    function look(pid,   file, line, f, prev, found, r) {
      found = 0
      file = root "/" pid "/net/fib_trie"
      prev = ""
      # getline: -1 when the file cannot be opened, 0 at its end (a fresh namespace has no routes).
      if ((r = (getline line < file)) < 0) return -1
      for (; r > 0; r = (getline line < file)) {
        if (line ~ /^[ \t]*[|+]-- /) { split(line, f, " "); prev = f[2]; continue }
        if (line ~ /^[ \t]*\/32 host LOCAL/ && holds(hex4(prev))) found = 1
      }
      close(file)
      file = root "/" pid "/net/if_inet6"
      if ((r = (getline line < file)) < 0) return -1
      for (; r > 0; r = (getline line < file)) {
        split(line, f, " ")
        if (holds(f[1])) found = 1
      }
      close(file)
      return found
    }
    BEGIN {
      DIGITS = "0123456789abcdef"
      nq = split(subnets, q, " ")
      for (i = 1; i <= nq; i++) { c = index(q[i], "/"); qhex[i] = substr(q[i], 1, c - 1); qbits[i] = substr(q[i], c + 1) + 0 }
      n = split(wanted, w, " ")
      for (i = 1; i <= n; i++) want[w[i]] = 1
    }
    $1 == "" { next }
    # The first of PIDS whose files can be read decides.
    function lookAny(pids,   n, a, i, r) {
      n = split(pids, a, " ")
      for (i = 1; i <= n; i++) if ((r = look(a[i])) >= 0) return r
      return -1
    }
    $1 == host || ($1 in want) || $2 != "t" || lookAny($3) != 0 { print }'
}

# The interfaces of a namespace whose only interface is a loopback that has never been up, as
# `ip -j -d addr show` prints them (the fields the client reads, with the kernel's defaults).
QUIET_LO='[{"ifindex":IFINDEX,"ifname":"lo","flags":["LOOPBACK"],"mtu":65536,"operstate":"DOWN","link_type":"loopback","address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00","addr_info":[]}]'

# Splits ENTRIES (from scan_entries) into "ipaddr" records for the namespaces that hold nothing but
# a loopback never brought up, and the entries still to enter, printed as they came. A node that
# leaks namespaces holds thousands of these (`unshare -n`, a sandbox torn down half way), and
# entering each costs a fork and two execs; their process's /proc/PID/net shows the same facts
# from one awk: net/dev lists every interface (only "lo", no packet ever counted), if_inet6 every
# IPv6 address (none), fib_trie every IPv4 local route (none: an IPv4 address, even on a down
# interface or on a loopback that was up and is down again, leaves one), dev_snmp6/lo its index.
# What /proc cannot show is an MTU or a flag (promisc, multicast) set on that loopback while it
# stayed down; these print as the kernel's defaults. Anything unreadable (the process exited, no
# IPv6) means the namespace is entered as before. $2 is our own namespace, never skipped.
scan_quiet() {
  printf '%s\n' "$1" | awk -F"$TAB" -v root="$PROC_ROOT" -v self="$2" -v json="$QUIET_LO" '
    # The lines of FILE into L[1..n]; -1 when it cannot be opened (getline: not fatal).
    function slurp(file,   n, r, line) {
      n = 0
      while ((r = (getline line < file)) > 0) L[++n] = line
      close(file)
      return r < 0 ? -1 : n
    }
    # The ifindex of a namespace holding only a never-up loopback, else "".
    function quiet(pid,   base, n, i, f, k, line) {
      base = root "/" pid "/net/"
      # Two header lines, then "lo: 16 counters".
      if ((n = slurp(base "dev")) < 0) return "?"
      if (n != 3) return ""
      n = split(L[3], f, /[: ]+/)
      k = f[1] == "" ? 2 : 1
      if (f[k] != "lo" || n - k != 16) return ""
      for (i = k + 1; i <= n; i++) if (f[i] != "0") return ""
      if (slurp(base "if_inet6") != 0 || slurp(base "fib_trie") != 0) return ""
      # Its first line is "ifIndex N"; the hundred counters after it are not read.
      k = ""
      if ((getline line < (base "dev_snmp6/lo")) > 0 && split(line, f, /[ \t]+/) == 2 && f[1] == "ifIndex" && f[2] ~ /^[1-9][0-9]*$/) k = f[2]
      close(base "dev_snmp6/lo")
      return k
    }
    # The first of PIDS still there decides ("" when none is).
    function quietAny(pids,   n, a, i, r) {
      n = split(pids, a, " ")
      for (i = 1; i <= n; i++) if ((r = quiet(a[i])) != "?") return r
      return ""
    }
    $1 == "" { next }
    $2 == "t" && $1 != self && (ix = quietAny($3)) != "" {
      j = json
      sub(/IFINDEX/, ix, j)
      printf "ipaddr\t%s\t%s\n", $1, j
      next
    }
    { print }'
}

# "ipaddr" records: `ip -j -d addr show` in each namespace of ENTRIES (from scan_entries), as one
# nsenter running ip (a fork and two execs: each is milliseconds, and there may be thousands),
# directly in our own (SELF). Through a path, bounded: a mount on a stuck filesystem must not hang
# the scan. The namespaces are shared among a few workers, one per CPU (at most 4); each writes its
# own file, and one awk per worker turns what ip printed into records.
scan_addrs() {
  sa_workers=$( (nproc || grep -c '^processor' /proc/cpuinfo) 2>/dev/null) || sa_workers=1
  is_count "$sa_workers" || sa_workers=1
  [ "$sa_workers" -le 4 ] || sa_workers=4
  sa_dir=''
  [ "$sa_workers" -eq 1 ] || sa_dir=$(mktemp -d 2>/dev/null) || sa_workers=1
  sa_i=0
  while [ "$sa_i" -lt "$sa_workers" ]; do
    if [ -n "$sa_dir" ]; then
      printf '%s\n' "$1" | awk -v n="$sa_workers" -v i="$sa_i" 'NR % n == i' | scan_addrs_worker "$2" >"$sa_dir/$sa_i" &
    else
      printf '%s\n' "$1" | scan_addrs_worker "$2"
    fi
    sa_i=$((sa_i + 1))
  done
  [ -n "$sa_dir" ] || return 0
  wait
  sa_i=0
  while [ "$sa_i" -lt "$sa_workers" ]; do cat "$sa_dir/$sa_i"; sa_i=$((sa_i + 1)); done
  rm -rf "$sa_dir"
}

# Reads "NETNS t PIDS [PATH]" / "NETNS f PATH" lines; $1 is our own namespace. Each namespace's
# output follows a line "\001NETNS"; ip's JSON is one line, an error may be several. Through each
# PID in turn, then the path: a process may have exited since it was listed; the last error stands.
scan_addrs_worker() {
  while IFS=$TAB read -r sw_ns sw_how sw_arg sw_path; do
    [ -n "$sw_ns" ] || continue
    printf '\n\001%s\n' "$sw_ns"
    if [ "$sw_ns" = "$1" ]; then
      "$IP" -j -d addr show 2>&1
    elif [ "$sw_how" = t ]; then
      sw_ok=0
      for sw_pid in $sw_arg; do
        if sw_out=$("$NSENTER" -t "$sw_pid" -n -- "$IP" -j -d addr show 2>&1); then sw_ok=1; break; fi
      done
      if [ "$sw_ok" = 0 ] && [ -n "$sw_path" ]; then
        sw_out=$(bounded "$NSENTER" --net="$sw_path" -- "$IP" -j -d addr show 2>&1)
      fi
      printf '%s\n' "$sw_out"
    else
      bounded "$NSENTER" --net="$sw_arg" -- "$IP" -j -d addr show 2>&1
    fi
  done | awk '
    function flush() {
      if (ns == "") return
      gsub(/[ \t\r]+/, " ", body)
      sub(/^ /, "", body)
      sub(/ $/, "", body)
      if (substr(body, 1, 1) == "[") printf "ipaddr\t%s\t%s\n", ns, body
      else printf "warn\tcannot read the interfaces of netns %s: %s\n", ns, body
    }
    substr($0, 1, 1) == "\001" { flush(); ns = substr($0, 2); body = ""; next }
    { body = body " " $0 }
    END { flush() }'
}

op_scan() {
  so_subnets=''
  so_netns=''
  while [ $# -gt 0 ]; do
    case $1 in
      --addr)
        so_arg=${2:-}
        so_hex=${so_arg%%/*}
        so_bits=${so_arg#*/}
        case $so_hex in '' | *[!0-9a-f]*) so_bits=bad ;; esac
        case $so_bits in '' | *[!0-9]* | 0?*) so_bits=bad ;; esac
        case ${#so_hex}:$so_bits in
          8:bad | 32:bad) so_max=-1 ;;
          8:*) so_max=32 ;;
          32:*) so_max=128 ;;
          *) so_max=-1 ;;
        esac
        if [ "$so_max" -lt 0 ] || [ "$so_bits" -gt "$so_max" ] || [ "$so_arg" != "$so_hex/$so_bits" ]; then
          fail USAGE "scan: --addr must be HEX/BITS (8 or 32 lowercase hex digits, a prefix length), got '$so_arg'"
        fi
        so_subnets="$so_subnets $so_arg"
        shift 2 ;;
      --netns)
        case ${2:-} in
          '' | 0* | *[!0-9]*) fail USAGE "scan: --netns needs a namespace inode, got '${2:-}'" ;;
        esac
        so_netns="$so_netns $2"
        shift 2 ;;
      *) fail USAGE "scan: unexpected argument '$1'" ;;
    esac
  done
  need nsenter
  need ip
  self_net=$(stat -L -c %i /proc/self/ns/net 2>/dev/null) || fail NSENTER_DENIED "cannot read /proc/self/ns/net"
  self_mnt=$(stat -L -c %i /proc/self/ns/mnt 2>/dev/null) || self_mnt=-
  printf 'self\t%s\t%s\t%s\n' "$$" "$self_net" "$self_mnt"
  host=$(host_holder)
  host_root=''
  host_net=$self_net
  if [ "$host" = - ]; then
    printf 'host\t-\t-\t-\n'
    printf 'warn\tneither PID 1 nor kthreadd can be read: node files and the CNI cache are not looked at\n'
  else
    host_net=$(stat -L -c %i "$PROC_ROOT/$host/ns/net")
    printf 'host\t%s\t%s\t%s\n' "$host" "$host_net" "$(stat -L -c %i "$PROC_ROOT/$host/ns/mnt")"
    host_root=$PROC_ROOT/$host/root
  fi
  procs=$(scan_procs)
  [ -n "$procs" ] || fail NSENTER_DENIED "cannot read the namespaces of any process (the debug pod needs hostPID and CAP_SYS_PTRACE)"
  printf '%s\n' "$procs"
  mounts=$(scan_mounts "$procs")
  [ -z "$mounts" ] || printf '%s\n' "$mounts"
  files=''
  if [ -n "$host_root" ]; then
    files=$(scan_files "$host_root")
    [ -z "$files" ] || printf '%s\n' "$files"
    scan_cni "$host_root"
  fi
  entries=$(printf '%s\n%s\n%s\n' "$procs" "$mounts" "$files" | scan_entries "$host_root")
  so_count=$(printf '%s\n' "$entries" | grep -c .)
  if [ -n "$so_subnets$so_netns" ]; then entries=$(scan_pick "$entries" "$so_subnets" "$host_net" "$so_netns"); fi
  # Entry lines start with the namespace's inode, records with their kind.
  entries=$(scan_quiet "$entries" "$self_net")
  printf '%s\n' "$entries" | grep "^ipaddr$TAB"
  entries=$(printf '%s\n' "$entries" | grep -v "^ipaddr$TAB")
  scan_addrs "$entries" "$self_net"
  printf 'done\t%s\t%s\n' "$so_count" "$(printf '%s\n' "$entries" | grep -c .)"
}

op_netinfo() {
  pid='' sockets=''
  while [ $# -gt 0 ]; do
    case $1 in
      --pid)
        [ $# -ge 2 ] || fail USAGE "netinfo: --pid needs a value"
        pid=$2
        shift 2 ;;
      --sockets) sockets=1; shift ;;
      *) fail USAGE "netinfo: unexpected argument '$1'" ;;
    esac
  done
  is_count "$pid" || fail USAGE "netinfo: --pid must be a process id, got '$pid'"
  need ip
  check_target "$pid"
  for ni_family in 4 6; do
    ni_out=$("$NSENTER" -t "$pid" -n -- "$IP" -j "-$ni_family" route show 2>&1) || nsenter_fail "$ni_out" "$pid"
    printf 'route\t%s\t%s\n' "$ni_family" "$(printf '%s' "$ni_out" | tr '\t\n' '  ')"
  done
  [ -n "$sockets" ] || return 0
  ni_ss=$(tool_path ss)
  case $ni_ss in
    /*) ;;
    *) printf 'warn\tss (iproute2) not found in the debug image: no sockets\n'; return 0 ;;
  esac
  # -p names the owning processes: it reads /proc/*/fd of the node's processes (hostPID).
  "$NSENTER" -t "$pid" -n -- "$ni_ss" -H -tulpn 2>/dev/null | while IFS= read -r ni_line; do
    printf 'socket\t%s\n' "$(printf '%s' "$ni_line" | tr '\t' ' ')"
  done
}

# ---- route -------------------------------------------------------------------------------------

# An IPv4 or IPv6 literal (what `ip route get` takes), nothing else.
is_address() {
  case $1 in '' | *[!0-9a-fA-F.:]*) return 1 ;; esac
  [ "${#1}" -le 45 ]
}

# The "dev" of `ip -j route get` output.
route_dev() {
  printf '%s' "$1" | sed -n 's/.*"dev":"\([^"]*\)".*/\1/p'
}

op_route() {
  pid='' uid='' cids='' rt_to='' rt_node_to=''
  while [ $# -gt 0 ]; do
    case $1 in
      --pid | --uid | --cid | --to | --node-to)
        [ $# -ge 2 ] || fail USAGE "route: $1 needs a value"
        case $1 in
          --pid) pid=$2 ;;
          --uid) uid=$2 ;;
          --cid)
            is_container_id "$2" || fail USAGE "route: bad container id '$2'"
            cids="${cids:+$cids }$2" ;;
          --to) rt_to=$2 ;;
          *) rt_node_to=$2 ;;
        esac
        shift 2 ;;
      *) fail USAGE "route: unexpected argument '$1'" ;;
    esac
  done
  for rt_a in "$rt_to" "$rt_node_to"; do
    [ -z "$rt_a" ] || is_address "$rt_a" || fail USAGE "route: '$rt_a' is not an IP address"
  done
  [ -n "$rt_to$rt_node_to" ] || fail USAGE "route: give --to and/or --node-to"
  if [ -n "$uid" ]; then
    [ -z "$pid" ] || fail USAGE "route: give --pid or --uid, not both"
    case $uid in '' | *[!0-9a-fA-F-]*) fail USAGE "route: --uid must be a pod UID, got '$uid'" ;; esac
    find_pid "$uid" "$cids"
    pid=$found_pid
  elif [ -n "$pid" ]; then
    is_count "$pid" || fail USAGE "route: --pid must be a process id, got '$pid'"
  fi
  need ip
  if [ -n "$pid" ]; then
    check_target "$pid"
    printf 'pid\t%s\t%s\n' "$pid" "$target_inode"
  fi
  if [ -n "$rt_to" ]; then
    [ -n "$pid" ] || fail USAGE "route: --to is the pod's route: give --uid or --pid"
    if rt_out=$("$NSENTER" -t "$pid" -n -- "$IP" -j route get "$rt_to" 2>&1); then
      printf 'route\t%s\n' "$(oneline "$rt_out")"
      rt_dev=$(route_dev "$rt_out")
      # host_peer fails (exits) when there is no host end: in a subshell, that is its answer.
      rt_peer=$( (host_peer "$pid" "$rt_dev" && printf 'ok\t%s\t%s' "$peer_if" "$peer_master") 2>&1)
      case $rt_peer in
        ok*) printf 'peer\t%s\t%s\n' "$rt_dev" "${rt_peer#ok?}" ;;
        *) printf 'nopeer\t%s\t%s\n' "$rt_dev" "$(oneline "${rt_peer#kubectl-netns-agent: error: }")" ;;
      esac
    else
      printf 'noroute\tpod\t%s\n' "$(oneline "$rt_out")"
    fi
  fi
  if [ -n "$rt_node_to" ]; then
    if rt_out=$("$IP" -j route get "$rt_node_to" 2>&1); then
      printf 'noderoute\t%s\n' "$(oneline "$rt_out")"
      rt_dev=$(route_dev "$rt_out")
      rt_link=$("$IP" -j -d addr show dev "$rt_dev" 2>&1) || rt_link='[]'
      printf 'nodelink\t%s\n' "$(oneline "$rt_link")"
    else
      printf 'noroute\tnode\t%s\n' "$(oneline "$rt_out")"
    fi
  fi
}

# ---- hold --------------------------------------------------------------------------------------

op_hold() {
  [ $# -eq 0 ] || fail USAGE "hold: unexpected argument '$1'"
  hold_file=/tmp/kubectl-netns-held.$$
  : >"$hold_file" || fail USAGE "hold: cannot write $hold_file"
  # Seen by the main process even when this hold ends between two of its checks.
  : >/tmp/kubectl-netns-was-held
  printf 'held\n'
  # Returns when the client's side of the exec stream ends, whatever the reason: the pod's main
  # process then waits its reconnect window for another hold (MAIN_SCRIPT in debug-pod.ts). A
  # client that is done says "release" first: the pod ends at once.
  while IFS= read -r hold_line; do
    if [ "$hold_line" = release ]; then
      : >/tmp/kubectl-netns-released
      break
    fi
  done
  rm -f "$hold_file"
  exit 0
}

op_detach() {
  [ $# -eq 0 ] || fail USAGE "detach: unexpected argument '$1'"
  : >/tmp/kubectl-netns-detached || fail USAGE "detach: cannot write /tmp/kubectl-netns-detached"
  printf 'detached\n'
}

# ---- dispatch --------------------------------------------------------------------------------

[ $# -gt 0 ] || fail USAGE "no operation given (ops: pid, capture, stop, stats, ack, exec, scan, netinfo, route, hold, detach, read, spools, spool-tar, spool-rm)"
agent_op=$1
shift
case $agent_op in
  pid) op_pid "$@" ;;
  capture) op_capture "$@" ;;
  stop) op_stop "$@" ;;
  stats) op_stats "$@" ;;
  ack) op_ack "$@" ;;
  exec) op_exec "$@" ;;
  scan) op_scan "$@" ;;
  netinfo) op_netinfo "$@" ;;
  route) op_route "$@" ;;
  hold) op_hold "$@" ;;
  detach) op_detach "$@" ;;
  read) op_read "$@" ;;
  spools) op_spools "$@" ;;
  spool-tar) op_spool_tar "$@" ;;
  spool-rm) op_spool_rm "$@" ;;
  *) fail USAGE "unknown operation '$agent_op' (ops: pid, capture, stop, stats, ack, exec, scan, netinfo, route, hold, detach, read, spools, spool-tar, spool-rm)" ;;
esac

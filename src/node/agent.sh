# kubectl-netns on-node agent: finds a pod's process on the node and runs tools in its network
# namespace. POSIX sh; must run under busybox ash and dash. Runs inside the debug pod (hostPID;
# CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_NET_ADMIN, CAP_NET_RAW).
#
# Invocation (user data arrives ONLY as argv words; nothing here evals or re-parses them):
#   sh -c "$AGENT" kubectl-netns OP [ARGS...]
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
#   capture --pid PID [--iface IFACE] [--snaplen N] [--count N] [--duration SECONDS]
#           [--buffer KIB] [--id CAPTURE_ID] -- [FILTER WORDS...]
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
#       stdout: pcap bytes.
#       stderr: "kubectl-netns-agent: info: capturing on IFACE in netns INODE (pid PID)", then
#       tcpdump's own lines: "listening on ...", on SIGUSR1 "tcpdump: N packets captured, N packets
#       received by filter, N packets dropped by kernel", and at the end the same three counts on
#       three lines.
#   stop CAPTURE_ID
#       SIGINT to that capture's tcpdump (it flushes, prints its counts, exits 0); waits for it
#       to exit (SIGTERM after 5s, gives up after 6s). Exit 0 also when it is not running; a
#       capture that has not started yet sees the request and exits 0 without capturing.
#   stats CAPTURE_ID
#       SIGUSR1 to that capture's tcpdump: the counts appear on the CAPTURE's stderr. stdout: none.
#   exec --pid PID -- CMD [ARGS...]
#       Runs CMD in PID's network namespace (nsenter -n; the debug pod's filesystem). The exit
#       code is CMD's own; nsenter reports a missing command with 127.
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
# For exec, CMD may itself exit 64-74: the error LINE, not the status, marks an agent failure.
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

# Sets NSENTER / TCPDUMP to the tool's path, or fails with NO_NSENTER / NO_TCPDUMP.
need() {
  case $1 in
    nsenter)
      NSENTER=$(tool_path nsenter)
      [ -n "$NSENTER" ] || fail NO_NSENTER "nsenter not found in the debug image (PATH=$PATH)" ;;
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

# Sets target_inode, or fails with NETNS_GONE / NSENTER_DENIED / NO_NSENTER.
check_target() {
  need nsenter
  if ! tlink=$(readlink "/proc/$1/ns/net" 2>/dev/null); then
    if [ -d "/proc/$1" ] && ! is_zombie "$1"; then
      fail NSENTER_DENIED "cannot read /proc/$1/ns/net (the debug pod needs hostPID and CAP_SYS_PTRACE)"
    fi
    fail NETNS_GONE "process $1 is gone, and with it that network namespace (look the pid up again)"
  fi
  target_inode=$(printf '%s' "$tlink" | tr -cd 0-9)
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

# Prints "PID INODE WHAT" for the first candidate of KIND whose netns link is readable.
first_readable() {
  fr_kind=$2
  printf '%s\n' "$1" | while read -r fr_pid fr_k fr_what; do
    [ "$fr_k" = "$fr_kind" ] || continue
    fr_link=$(readlink "$PROC_ROOT/$fr_pid/ns/net" 2>/dev/null) || continue
    case $fr_link in 'net:['*']') ;; *) continue ;; esac
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
    case $cid in
      '' | *[!A-Za-z0-9_-]*) fail USAGE "pid: bad container id '$cid' (give it without the runtime:// prefix)" ;;
    esac
  done
  PROC_ROOT=${KNETNS_PROC:-/proc}
  uidu=$(printf '%s' "$uid" | tr - _)
  cands=$(scan_cgroups "$PROC_ROOT" "$uid" "$uidu" "$*")

  if found=$(first_readable "$cands" c) && [ -n "$found" ]; then
    how="is in container ${found##* }"
  elif found=$(first_readable "$cands" p) && [ -n "$found" ]; then
    how="is in pod $uid (no process of the given containers; a pod's containers share one network namespace)"
  elif [ -n "$cands" ]; then
    unreadable_fail "$cands" "pod $uid"
  else
    found=$(runtime_pid "$@")
    [ -n "$found" ] || fail NO_CONTAINER "no process of pod $uid${1:+ (containers: $*)} on this node; is it running here?"
    how="from ${found##* } inspect"
  fi
  found_pid=${found%% *}
  found_inode=${found#* }
  found_inode=${found_inode%% *}
  info "pid $found_pid $how"
  printf '%s %s\n' "$found_pid" "$found_inode"
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

op_capture() {
  pid='' iface=auto snaplen='' count='' duration='' id='' buffer=32768
  while [ $# -gt 0 ]; do
    case $1 in
      --pid | --iface | --snaplen | --count | --duration | --buffer | --id)
        [ $# -ge 2 ] || fail USAGE "capture: $1 needs a value"
        case $1 in
          --pid) pid=$2 ;;
          --iface) iface=$2 ;;
          --snaplen) snaplen=$2 ;;
          --count) count=$2 ;;
          --duration) duration=$2 ;;
          --buffer) buffer=$2 ;;
          *) id=$2 ;;
        esac
        shift 2 ;;
      --) shift; break ;;
      *) fail USAGE "capture: unexpected argument '$1' (filter words go after --)" ;;
    esac
  done
  is_count "$pid" || fail USAGE "capture: --pid must be a process id, got '$pid'"
  [ "$iface" = auto ] || is_iface "$iface" || fail USAGE "capture: bad interface name '$iface'"
  # `ip link` shows a veth as eth0@if9; people paste that.
  iface=${iface%%@*}
  for num in "$snaplen" "$count" "$duration" "$buffer"; do
    [ -z "$num" ] || is_count "$num" || fail USAGE "capture: '$num' is not a positive integer"
  done
  [ -z "$snaplen" ] || [ "$snaplen" -le 262144 ] || fail USAGE "capture: --snaplen must be at most 262144"
  [ -z "$id" ] || is_capture_id "$id" || fail USAGE "capture: bad capture id '$id'"

  need tcpdump
  check_target "$pid"
  [ "$iface" = auto ] && iface=$(auto_iface "$pid")

  # The filter stays in "$@"; options go in front. "--" keeps filter words from being options.
  set -- -- "$@"
  [ -z "$count" ] || set -- -c "$count" "$@"
  [ -z "$snaplen" ] || set -- -s "$snaplen" "$@"
  set -- -i "$iface" "$@"

  # Compile once without the filter, once with it: a failure that only the filter causes is the
  # filter's, whatever words tcpdump uses for it.
  if ! cmsg=$("$NSENTER" -t "$pid" -n -- "$TCPDUMP" -d -i "$iface" 2>&1 >/dev/null); then
    cmsg=$(reason "$cmsg")
    case $cmsg in
      nsenter:*) nsenter_fail "$cmsg" "$pid" ;;
      *'No such device'*) fail NO_INTERFACE "no interface '$iface' in the network namespace of process $pid: $cmsg" ;;
      *ermission* | *'not permitted'*) fail CAPTURE_DENIED "tcpdump may not capture on '$iface' (the debug pod needs CAP_NET_RAW and CAP_NET_ADMIN): $cmsg" ;;
      *) fail CAPTURE_FAILED "tcpdump cannot capture on '$iface': $cmsg" ;;
    esac
  fi
  if ! cmsg=$("$NSENTER" -t "$pid" -n -- "$TCPDUMP" -d "$@" 2>&1 >/dev/null); then
    cmsg=$(reason "$cmsg")
    case $cmsg in
      nsenter:*) nsenter_fail "$cmsg" "$pid" ;;
      *) fail BAD_FILTER "tcpdump rejected the capture filter: $cmsg" ;;
    esac
  fi

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
  [ -z "$duration" ] || stop_after "$duration" "$$" </dev/null >/dev/null 2>&1 &
  info "capturing on $iface in netns $target_inode (pid $pid)"
  # nsenter -n without -p execs in place: tcpdump keeps PID $$, which pidfile and stop_after use.
  # --immediate-mode: otherwise libpcap hands packets over in blocks up to 1s late, and the
  # packets of the last second before a stop are lost, which is when people press Ctrl-C.
  exec "$NSENTER" -t "$pid" -n -- "$TCPDUMP" --immediate-mode -U -w - -Z root -B "$buffer" "$@"
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

op_stats() {
  if [ $# -ne 1 ] || ! is_capture_id "$1"; then fail USAGE "usage: stats CAPTURE_ID"; fi
  sp=$(capture_pid "$1")
  # Before its exec the capture is still this shell, which SIGUSR1 would kill.
  if [ -z "$sp" ] || [ "$(cat "/proc/$sp/comm" 2>/dev/null)" != tcpdump ]; then
    fail NO_CAPTURE "capture $1 is not running"
  fi
  kill -USR1 "$sp" 2>/dev/null || fail NO_CAPTURE "capture $1 is not running"
  exit 0
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

# ---- dispatch --------------------------------------------------------------------------------

[ $# -gt 0 ] || fail USAGE "no operation given (ops: pid, capture, stop, stats, exec)"
agent_op=$1
shift
case $agent_op in
  pid) op_pid "$@" ;;
  capture) op_capture "$@" ;;
  stop) op_stop "$@" ;;
  stats) op_stats "$@" ;;
  exec) op_exec "$@" ;;
  *) fail USAGE "unknown operation '$agent_op' (ops: pid, capture, stop, stats, exec)" ;;
esac

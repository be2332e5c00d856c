#!/usr/bin/env bash
# Run a local Ringwatch demo cluster: N nodes on fixed ports plus an offline demo target.
#
#   scripts/cluster.sh start [N]     build if needed, start the target and nodes n1..nN (default 3)
#   scripts/cluster.sh demo          add 10 monitors (1 s interval) against the demo target
#   scripts/cluster.sh status | ls   nodes (pid, state, URLs) and `ringwatch cluster`
#   scripts/cluster.sh kill NAME     kill -9 one node (e.g. n2)
#   scripts/cluster.sh stop NAME     SIGTERM one node (clean leave)
#   scripts/cluster.sh restart NAME  start it again: same ports and data dir, joins via n1 + live nodes
#   scripts/cluster.sh stop-all      stop every node and the target; data is kept
#   scripts/cluster.sh logs NAME     tail -f a node's log (NAME may also be "target")
#   scripts/cluster.sh clean         stop-all, then delete the cluster folder
#
# Fixed ports (a demo, not for tests): node nK serves HTTP and the dashboard on 127.0.0.1:808K
# and the cluster protocol on 127.0.0.1:780K; n2..nN join through n1 (127.0.0.1:7801). The demo
# target listens on 127.0.0.1:8099. N is 1..9.
#
# Everything lives in one folder, $RINGWATCH_CLUSTER_DIR (default: .cluster at the repo root):
#   cookie            the shared cluster secret, generated once
#   nK/data/          the node's store;  nK/log  its stdout+stderr;  nK/pid;  nK/state
#   target/log, target/pid
#
# The binary is target/release/ringwatch (or $CARGO_TARGET_DIR/release/ringwatch), rebuilt by
# `cargo build --release --bin ringwatch` on start/restart, which does nothing when it is fresh.
# RINGWATCH_BIN=/path/to/ringwatch uses that binary instead and skips the build.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${RINGWATCH_CLUSTER_DIR:-$REPO/.cluster}
case $DIR in /*) ;; *) DIR=$PWD/$DIR ;; esac
HOST=127.0.0.1
HTTP_BASE=8080      # nK -> 808K
CLUSTER_BASE=7800   # nK -> 780K
SEED_PORT=7801      # n1's cluster port: everyone else joins through it
TARGET_PORT=8099
MAX_NODES=9
MARKER=.ringwatch-cluster
ME=$0

B='' G='' R='' Y='' N='' ER='' EY='' EN=''
if [[ -t 1 ]]; then B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' Y=$'\e[33m' N=$'\e[0m'; fi
if [[ -t 2 ]]; then ER=$'\e[31m' EY=$'\e[33m' EN=$'\e[0m'; fi
say()  { printf '%s\n' "$*"; }
warn() { printf '%s\n' "${EY}cluster.sh: $*${EN}" >&2; }
die()  { printf '%s\n' "${ER}cluster.sh: $*${EN}" >&2; exit 1; }

usage() {
    sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

# ---------------------------------------------------------------------------------------------
# helpers

http_port()    { echo $((HTTP_BASE + $1)); }
cluster_port() { echo $((CLUSTER_BASE + $1)); }
node_url()     { echo "http://$HOST:$(http_port "$1")"; }

# n3 -> 3; anything else is an error.
node_index() {
    local name=$1
    [[ $name =~ ^n([1-9])$ ]] || die "unknown node '$name': nodes are named n1..n$MAX_NODES"
    echo "${BASH_REMATCH[1]}"
}

# Node names that exist in the folder, in order.
known_nodes() {
    local d
    for d in "$DIR"/n[1-9]; do [[ -d $d ]] && basename "$d"; done
    return 0
}

require_known() {
    node_index "$1" >/dev/null
    [[ -d $DIR/$1 ]] || die "unknown node '$1' (known: $(known_nodes | paste -sd ' ')); start it with: $ME start N"
}

# The pid in FILE if that process is alive and is what we started (guards against pid reuse).
live_pid() {
    local file=$1 what=$2 pid
    [[ -f $file ]] || return 1
    pid=$(<"$file")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$what" || return 1
    echo "$pid"
}
node_pid()   { live_pid "$DIR/$1/pid" "node --name $1 "; }
target_pid() { live_pid "$DIR/target/pid" "demo-target.py"; }

port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

healthy() { curl -fsS -m 1 -o /dev/null "$1/healthz" 2>/dev/null; }

ensure_dir() {
    mkdir -p "$DIR"
    [[ -f $DIR/$MARKER ]] || echo "ringwatch demo cluster folder (scripts/cluster.sh)" >"$DIR/$MARKER"
    if [[ ! -s $DIR/cookie ]]; then
        (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DIR/cookie")
    fi
}

BIN=
find_bin() {
    if [[ -n ${RINGWATCH_BIN:-} ]]; then
        [[ -x $RINGWATCH_BIN ]] || die "RINGWATCH_BIN=$RINGWATCH_BIN is not an executable"
        BIN=$RINGWATCH_BIN
        return
    fi
    local tdir=${CARGO_TARGET_DIR:-$REPO/target}
    case $tdir in /*) ;; *) tdir=$REPO/$tdir ;; esac
    BIN=$tdir/release/ringwatch
}

build() {
    find_bin
    [[ -n ${RINGWATCH_BIN:-} ]] && return
    command -v cargo >/dev/null || {
        [[ -x $BIN ]] && { warn "cargo not found; using the existing $BIN"; return; }
        die "cargo not found and no $BIN: install Rust (https://rustup.rs) first"
    }
    say "${B}building${N} ringwatch (release; a no-op when it is up to date)..."
    (cd "$REPO" && cargo build --release --bin ringwatch) ||
        die "build failed (see the compiler output above)"
    [[ -x $BIN ]] || die "build finished but $BIN is missing"
}

# Read-only uses of the CLI (status, demo) must not trigger a build.
client_bin() {
    find_bin
    [[ -x $BIN ]] || die "no binary at $BIN: run '$ME start' first"
}

# ---------------------------------------------------------------------------------------------
# demo target

start_target() {
    local pid
    if pid=$(target_pid); then
        say "demo target already running (pid $pid) on http://$HOST:$TARGET_PORT/"
        return
    fi
    port_busy "$TARGET_PORT" &&
        die "port $TARGET_PORT (demo target) is in use by another process: free it first (ss -ltnp | grep :$TARGET_PORT)"
    command -v python3 >/dev/null || die "python3 is needed for the demo target"
    mkdir -p "$DIR/target"
    nohup python3 "$REPO/scripts/demo-target.py" --host "$HOST" --port "$TARGET_PORT" \
        >>"$DIR/target/log" 2>&1 </dev/null &
    echo $! >"$DIR/target/pid"
    local i
    for i in $(seq 50); do
        curl -fsS -m 1 -o /dev/null "http://$HOST:$TARGET_PORT/ok" 2>/dev/null && {
            say "demo target up on ${B}http://$HOST:$TARGET_PORT/${N} (pid $!)"
            return
        }
        target_pid >/dev/null || break
        sleep 0.1
    done
    tail -n 5 "$DIR/target/log" >&2 || true
    die "the demo target did not start (log: $DIR/target/log)"
}

stop_target() {
    local pid
    pid=$(target_pid) || { rm -f "$DIR/target/pid"; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$pid" 5 || kill -KILL "$pid" 2>/dev/null || true
    rm -f "$DIR/target/pid"
    say "demo target stopped"
}

# ---------------------------------------------------------------------------------------------
# nodes

wait_gone() { # pid seconds
    local i
    for i in $(seq $(($2 * 10))); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

# Launch nK in the background; does not wait. With "extra-seeds", also join through every other
# running node: a restart then finds the cluster even while n1 is down.
launch_node() {
    local name=$1 extra=${2:-} i hp cp pid other
    i=$(node_index "$name")
    hp=$(http_port "$i")
    cp=$(cluster_port "$i")
    if pid=$(node_pid "$name"); then
        say "$name already running (pid $pid)"
        return 0
    fi
    port_busy "$hp" && die "port $hp (HTTP of $name) is in use by another process: free it (ss -ltnp | grep :$hp) or run '$ME status'"
    port_busy "$cp" && die "port $cp (cluster port of $name) is in use by another process: free it (ss -ltnp | grep :$cp)"
    mkdir -p "$DIR/$name/data"
    local args=(node --name "$name" --http "$HOST:$hp" --cluster "$HOST:$cp" --data "$DIR/$name/data")
    ((i > 1)) && args+=(--join "$HOST:$SEED_PORT")
    if [[ $extra == extra-seeds ]]; then
        for other in $(known_nodes); do
            [[ $other == "$name" || $other == n1 ]] && continue
            node_pid "$other" >/dev/null && args+=(--join "$HOST:$(cluster_port "$(node_index "$other")")")
        done
    fi
    {
        echo
        echo "==== $(date '+%F %T') $name: $BIN ${args[*]}"
    } >>"$DIR/$name/log"
    # A clean environment: no stray RINGWATCH_* from the caller's shell; the cookie goes in
    # through the environment so it does not show in `ps`.
    local unset_env=() v
    for v in $(compgen -e | grep '^RINGWATCH_' || true); do unset_env+=(-u "$v"); done
    env "${unset_env[@]}" RINGWATCH_COOKIE="$(<"$DIR/cookie")" NO_COLOR=1 \
        nohup "$BIN" "${args[@]}" >>"$DIR/$name/log" 2>&1 </dev/null &
    echo $! >"$DIR/$name/pid"
    echo running >"$DIR/$name/state"
}

# Wait until nK answers /healthz; on failure show its log and exit non-zero.
await_node() {
    local name=$1 i url t
    i=$(node_index "$name")
    url=$(node_url "$i")
    for t in $(seq 300); do
        healthy "$url" && return 0
        if ! node_pid "$name" >/dev/null; then
            echo exited >"$DIR/$name/state"
            printf '%s\n' "${ER}$name exited during start-up; the end of its log ($DIR/$name/log):${EN}" >&2
            tail -n 15 "$DIR/$name/log" >&2
            exit 1
        fi
        sleep 0.1
    done
    die "$name did not answer $url/healthz within 30 s (log: $DIR/$name/log)"
}

print_nodes() {
    local name i pid state colour url
    printf '%s%-6s %-8s %-9s %-24s %-16s %s%s\n' "$B" NODE PID STATE DASHBOARD/API CLUSTER LOG "$N"
    for name in $(known_nodes); do
        i=$(node_index "$name")
        url=$(node_url "$i")
        if pid=$(node_pid "$name"); then
            if healthy "$url"; then state=up colour=$G; else state=starting colour=$Y; fi
        else
            pid=- colour=$R
            state=$(cat "$DIR/$name/state" 2>/dev/null || echo stopped)
            [[ $state == running ]] && state=exited # it died without us
        fi
        printf '%-6s %-8s %s%-9s%s %-24s %-16s %s\n' "$name" "$pid" "$colour" "$state" "$N" \
            "$url/" "$HOST:$(cluster_port "$i")" "${DIR#"$PWD"/}/$name/log"
    done
    if pid=$(target_pid); then
        say "demo target  pid $pid  http://$HOST:$TARGET_PORT/  (/ok /fail /slow /flaky /stats)"
    else
        say "demo target  not running"
    fi
}

first_live_url() {
    local name
    for name in $(known_nodes); do
        if node_pid "$name" >/dev/null && healthy "$(node_url "$(node_index "$name")")"; then
            node_url "$(node_index "$name")"
            return 0
        fi
    done
    return 1
}

stop_node() { # name signal
    local name=$1 sig=$2 pid
    pid=$(node_pid "$name") || {
        echo "$name is not running" >&2
        return 1
    }
    kill "-$sig" "$pid"
    if [[ $sig == KILL ]]; then
        wait_gone "$pid" 5 || true
        echo killed >"$DIR/$name/state"
        say "$name (pid $pid) killed with SIGKILL; the others take over its monitors within ~5 s"
    else
        if wait_gone "$pid" 15; then
            echo stopped >"$DIR/$name/state"
            say "$name (pid $pid) stopped"
        else
            warn "$name (pid $pid) did not exit within 15 s of SIGTERM; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            echo killed >"$DIR/$name/state"
        fi
    fi
    rm -f "$DIR/$name/pid"
}

# ---------------------------------------------------------------------------------------------
# commands

cmd_start() {
    local n=${1:-}
    if [[ -z $n ]]; then
        n=$(cat "$DIR/size" 2>/dev/null || echo 3)
    fi
    [[ $n =~ ^[1-9]$ ]] || die "start takes a node count from 1 to $MAX_NODES, not '$n'"
    ensure_dir
    echo "$n" >"$DIR/size"
    local i hp cp
    for i in $(seq "$n"); do # every port first, so a conflict starts nothing
        node_pid "n$i" >/dev/null && continue
        hp=$(http_port "$i") cp=$(cluster_port "$i")
        port_busy "$hp" && die "port $hp (HTTP of n$i) is in use by another process: free it (ss -ltnp | grep :$hp) and retry"
        port_busy "$cp" && die "port $cp (cluster port of n$i) is in use by another process: free it (ss -ltnp | grep :$cp) and retry"
    done
    build
    start_target
    launch_node n1 extra-seeds # no --join, unless some of the others are still running
    await_node n1              # the seed must listen before the others dial it
    for i in $(seq 2 "$n"); do launch_node "n$i"; done
    for i in $(seq 2 "$n"); do await_node "n$i"; done
    say
    print_nodes
    say
    say "${B}Next:${N}"
    hint "$ME demo" "add 10 demo monitors (1 s interval) against the target"
    hint "$(node_url 1)/" "open n1's dashboard in a browser (any node shows everything)"
    hint "$ME kill n2" "kill -9 a node: its monitors move to the others within ~5 s"
    hint "$ME status" "who is alive and how many monitors each one owns"
    hint "$ME restart n2" "bring it back; '$ME stop-all' when you are done"
}

hint() { printf '  %-32s %s\n' "$1" "$2"; }

cmd_demo() {
    client_bin
    local url
    url=$(first_live_url) || die "no node is running: $ME start"
    target_pid >/dev/null || { ensure_dir; start_target; }
    local t="http://$HOST:$TARGET_PORT" existing
    # URLs already monitored: running demo twice adds nothing twice.
    existing=$(curl -fsS -m 5 "$url/api/monitors" |
        python3 -c 'import json,sys; print("\n".join(m.get("url","") for m in json.load(sys.stdin)))') ||
        die "cannot list the monitors on $url"
    # name path: spread over the live nodes (any node accepts writes for the whole cluster)
    local monitors=(
        "home /ok/home" "api /ok/api" "login /ok/login" "shop /ok/shop" "blog /ok/blog"
        "docs /ok/docs" "status-page /ok/status" "flaky /flaky" "slow /slow" "broken /fail"
    )
    local nodes=() name k=0 m
    for name in $(known_nodes); do
        node_pid "$name" >/dev/null && healthy "$(node_url "$(node_index "$name")")" &&
            nodes+=("$(node_url "$(node_index "$name")")")
    done
    for m in "${monitors[@]}"; do
        local mname=${m%% *} path=${m#* } via=${nodes[k % ${#nodes[@]}]}
        if grep -qxF "$t$path" <<<"$existing"; then
            printf '  %-16s %-32s already monitored\n' "$mname" "$t$path"
            continue
        fi
        k=$((k + 1))
        printf '  add %-12s %-32s via %s: ' "$mname" "$t$path" "$via"
        "$BIN" add "$t$path" --interval 1s --timeout 5s --name "$mname" --node "$via" >/dev/null ||
            die "adding $t$path failed"
        echo ok
    done
    say
    if ((k == 0)); then
        say "The demo monitors are already there."
    else
        say "Added $k monitor(s)."
    fi
    say "Demo monitors, all every 1 s: 7 healthy; 'broken' (500: turns down); 'slow' (3 s: up,"
    say "but slow); 'flaky' (200 and 503 in turn: never two failures in a row, so it stays up)."
    say "  ${BIN#"$PWD"/} ls --node $url    # status, latency, owner of each"
    say "  $url/    # watch them live; then try: $ME kill n2"
}

cmd_status() {
    [[ -d $DIR ]] || die "no cluster folder at $DIR: $ME start"
    say "cluster folder: $DIR"
    print_nodes
    local url
    if url=$(first_live_url); then
        client_bin
        say
        say "${B}ringwatch cluster --node $url${N}"
        "$BIN" cluster --node "$url" || warn "ringwatch cluster failed"
    else
        say
        say "no node is running ($ME start)"
    fi
}

cmd_kill() {
    [[ $# -eq 1 ]] || die "usage: $ME kill NAME"
    require_known "$1"
    stop_node "$1" KILL || exit 1
}

cmd_stop() {
    [[ $# -eq 1 ]] || die "usage: $ME stop NAME"
    require_known "$1"
    stop_node "$1" TERM || exit 1
}

cmd_restart() {
    [[ $# -eq 1 ]] || die "usage: $ME restart NAME"
    local name=$1
    require_known "$name"
    build
    if node_pid "$name" >/dev/null; then stop_node "$name" TERM; fi
    launch_node "$name" extra-seeds
    await_node "$name"
    say "$name is back on $(node_url "$(node_index "$name")")/ with its data; it rejoins and takes back its share"
}

cmd_stop_all() {
    [[ -d $DIR ]] || { say "nothing to stop (no $DIR)"; return 0; }
    local name pids=() pid
    for name in $(known_nodes); do
        if pid=$(node_pid "$name"); then
            kill -TERM "$pid"
            pids+=("$name:$pid")
        fi
    done
    for pid in "${pids[@]}"; do
        name=${pid%%:*}
        pid=${pid#*:}
        if wait_gone "$pid" 15; then
            say "$name (pid $pid) stopped"
        else
            warn "$name (pid $pid) ignored SIGTERM for 15 s; killed"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        echo stopped >"$DIR/$name/state"
        rm -f "$DIR/$name/pid"
    done
    ((${#pids[@]})) || say "no node was running"
    stop_target
}

cmd_logs() {
    [[ $# -eq 1 ]] || die "usage: $ME logs NAME   (n1..n$MAX_NODES, or target)"
    local f
    if [[ $1 == target ]]; then
        f=$DIR/target/log
    else
        require_known "$1"
        f=$DIR/$1/log
    fi
    [[ -f $f ]] || die "no log yet at $f"
    exec tail -n 50 -F "$f"
}

cmd_clean() {
    [[ -d $DIR ]] || { say "nothing to clean (no $DIR)"; return 0; }
    [[ -f $DIR/$MARKER ]] ||
        die "$DIR was not made by this script (no $MARKER in it); not deleting it"
    cmd_stop_all
    rm -rf "$DIR"
    say "deleted $DIR"
}

main() {
    local cmd=${1:-}
    [[ $# -gt 0 ]] && shift
    case $cmd in
        start) [[ $# -le 1 ]] || die "usage: $ME start [N]"; cmd_start "$@" ;;
        demo) cmd_demo ;;
        status | ls) cmd_status ;;
        kill) cmd_kill "$@" ;;
        stop) cmd_stop "$@" ;;
        restart) cmd_restart "$@" ;;
        stop-all) cmd_stop_all ;;
        logs) cmd_logs "$@" ;;
        clean) cmd_clean ;;
        -h | --help | help) usage ;;
        "") usage; exit 2 ;;
        *) usage >&2; die "unknown command '$cmd'" ;;
    esac
}

main "$@"

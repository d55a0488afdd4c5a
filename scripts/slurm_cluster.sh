#!/usr/bin/env bash
# Starts, stops or shows a real one-node Slurm cluster on 127.0.0.1 (munged, slurmctld, slurmd
# started directly: there is no systemd here), for sweeps that run as Slurm job arrays. As root.
# Usage: scripts/slurm_cluster.sh start|stop|status
#   start   installs slurm-wlm if missing, writes /etc/slurm/slurm.conf (never replaces one this
#           script did not write), starts each daemon not already running, waits for the node
#           to be idle. Running it again is harmless.
#   stop    stops only the daemons that start started (their pids are in /run/poolsim-slurm.pids).
#   status  which daemons run, and sinfo; exit 1 unless all three run.
# Exit: 0 done, 1 the cluster did not come up (or a daemon would not stop), 2 bad input.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }
bad() { echo "slurm_cluster.sh: $1" >&2; exit 2; }

conf=/etc/slurm/slurm.conf
marker="# written by poolsim scripts/slurm_cluster.sh"
state=/run/poolsim-slurm.pids
daemons=(munged slurmctld slurmd) # start order; stop goes in reverse
declare -A pidfile=([munged]=/run/munge/munged.pid [slurmctld]=/run/slurmctld.pid [slurmd]=/run/slurmd.pid)
declare -A command=([munged]="runuser -u munge -- /usr/sbin/munged" [slurmctld]=/usr/sbin/slurmctld
  [slurmd]=/usr/sbin/slurmd)

# Prints the pid if PID is alive and is NAME: a stale pid file's number may belong to another process now.
is_daemon() { [[ "$2" =~ ^[0-9]+$ ]] && [[ "$(cat "/proc/$2/comm" 2>/dev/null)" == "$1" ]] && echo "$2"; }
running() { is_daemon "$1" "$(cat "${pidfile[$1]}" 2>/dev/null)"; }
join() { local line; printf -v line '%s, ' "$@"; echo "${line%, }"; }
fail() {
  echo "slurm_cluster.sh: $1" >&2
  for log in /var/log/{munge/munged,slurm/slurmctld,slurm/slurmd}.log; do echo "--- $log" && tail -n 15 "$log"; done >&2
  exit 1
}

write_conf() {
  local memory
  memory=$(free -m | awk '/^Mem:/ { print int($2 * 0.95) }')
  # DefMemPerCPU: without it each task takes the whole node's memory and an array runs serially.
  # batch_sched_delay=0: the default waits 3 s between scheduling passes.
  # NoCtldInAddrAny,NoInAddrAny: listen on loopback only.
  cat <<EOF
$marker; edit that script instead
ClusterName=local
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
MailProg=/bin/true
SlurmctldPidFile=${pidfile[slurmctld]}
SlurmdPidFile=${pidfile[slurmd]}
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=/var/log/slurm/jobcomp.log
JobAcctGatherType=jobacct_gather/none
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$(hostname -s) NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

node_state() { sinfo -h -N -o %t 2>/dev/null | head -n1; }

start() {
  local begin=$EPOCHREALTIME new name pid summary=() started=0 node deadline=$((SECONDS + 30))
  [[ ! -e "$conf" || "$(head -n1 "$conf")" == "$marker"* ]] ||
    bad "$conf exists and was not written by this script; move it away to let start write its own"
  scripts/setup.sh slurm-wlm >&2
  new=$(write_conf)
  if [[ "$(cat "$conf" 2>/dev/null)" != "$new" ]]; then
    mkdir -p /etc/slurm && echo "$new" >"$conf"
    [[ -z "$(running slurmctld)$(running slurmd)" ]] || echo "slurm: $conf changed: stop and start to apply it" >&2
  fi
  install -d -o munge -g munge /run/munge
  install -d -o slurm -g slurm /var/spool/slurmctld /var/log/slurm
  install -d /var/spool/slurmd
  for name in "${daemons[@]}"; do
    if pid=$(running "$name"); then summary+=("$name pid $pid (already running)") && continue; fi
    rm -f "${pidfile[$name]}" # stale: the daemon is gone
    ${command[$name]} || fail "$name did not start"
    # The daemons fork: the child writes the pid file a moment after the parent returns.
    for _ in $(seq 100); do pid=$(running "$name") && break; sleep 0.1; done
    [[ -n "$pid" ]] || fail "$name started but wrote no live pid to ${pidfile[$name]}"
    echo "$name $pid" >>"$state" # recorded at once, so that stop cleans up after a failed start
    summary+=("$name pid $pid") && started=$((started + 1))
  done
  # The node shows unk for a moment after a start, and slurmctld's saved state can bring back
  # a down or drained node from an earlier run: resume it. (inval, a wrong conf, cannot be.)
  node=$(hostname -s)
  until [[ "$(node_state)" =~ ^(idle|mix|alloc)$ ]]; do
    ((SECONDS < deadline)) || fail "node $node is '$(node_state)' after 30 s, not idle"
    if [[ "$(node_state)" =~ ^(down|drain|drng|fail) ]]; then
      scontrol update nodename="$node" state=resume 2>/dev/null || true
    fi
    sleep 0.2
  done
  local up="up" took
  ((started > 0)) || up="already running"
  took=$(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $begin }")
  # Jobs submitted within ~3 s of slurmctld's start wait for its first scheduling pass.
  echo "slurm: cluster $up (node $node, $(nproc) CPUs, ${took} s): $(join "${summary[@]}")"
}

stop() {
  local name pid entry targets=() stopped=() others=() jobs=()
  [[ -s "$state" ]] || echo "slurm: nothing to stop (no daemon started by this script is recorded in $state)"
  # A job's processes (slurmstepd) outlive slurmd: cancel the jobs while our slurmctld can.
  if [[ -s "$state" ]] && grep -qx "slurmctld $(running slurmctld)" "$state"; then
    mapfile -t jobs < <(squeue -h -o %A 2>/dev/null | sort -u)
    if ((${#jobs[@]} > 0)); then
      scancel "${jobs[@]}" || true
      for _ in $(seq 100); do [[ -z "$(squeue -h 2>/dev/null)" ]] && break; sleep 0.1; done
      echo "slurm: cancelled jobs ${jobs[*]}"
    fi
  fi
  while read -r name pid; do # tac: stop in reverse start order
    if is_daemon "$name" "$pid" >/dev/null; then targets+=("$name:$pid"); fi
  done < <(tac "$state" 2>/dev/null)
  for entry in "${targets[@]}"; do kill -TERM "${entry#*:}" 2>/dev/null || true; done
  for entry in "${targets[@]}"; do
    name=${entry%:*} pid=${entry#*:}
    # slurmctld saves its state on the way out (≈ 2 s): give it time before KILL.
    for _ in $(seq 150); do is_daemon "$name" "$pid" >/dev/null || break; sleep 0.1; done
    if is_daemon "$name" "$pid" >/dev/null; then
      echo "slurm: $name pid $pid ignored TERM for 15 s: KILL" >&2
      kill -KILL "$pid" 2>/dev/null || true && sleep 0.5
      ! is_daemon "$name" "$pid" >/dev/null || fail "$name pid $pid would not stop"
    fi
    stopped+=("$name pid $pid")
  done
  if [[ -s "$state" ]]; then echo "slurm: stopped $(join "${stopped[@]:-nothing (all had gone already)}")"; fi
  rm -f "$state"
  # A stale slurmctld pid file breaks a later package removal.
  for name in "${daemons[@]}"; do
    if pid=$(running "$name"); then others+=("$name pid $pid"); else rm -f "${pidfile[$name]}"; fi
  done
  ((${#others[@]} == 0)) || echo "slurm: left running, not started by this script: $(join "${others[@]}")"
}

status() {
  local name pid up=0
  for name in "${daemons[@]}"; do
    if pid=$(running "$name"); then echo "$name: running, pid $pid" && up=$((up + 1)); else echo "$name: down"; fi
  done
  if [[ -n "$(running slurmctld)" ]]; then sinfo -N -l 2>&1 || true; fi
  ((up == ${#daemons[@]}))
}

(($# == 1)) || { usage >&2; exit 2; }
case "$1" in
  -h | --help) usage; exit 0 ;;
  start | stop) ((EUID == 0)) || bad "$1 needs root"; "$1" ;;
  status) status ;;
  *) bad "unknown command '$1' (start, stop or status)" ;;
esac

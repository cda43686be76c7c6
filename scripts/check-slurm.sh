#!/bin/bash
# make check-slurm: a real one-node Slurm on localhost runs a job array that
# aie-batch --emit slurm wrote, and every output and the merged logs are
# checked. Installs slurm-wlm and munge from Debian (apt-get, as root), starts
# munged (when it is not running), slurmctld and slurmd with a generated
# configuration in a scratch directory, and stops what it started.
# When Slurm cannot start here it prints "SKIP check-slurm: <reason>" and exits
# 0; it never reports success without the array having run.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
AIE_BIN=${AIE_BIN:-$top/build}
batch=$AIE_BIN/aie-batch
upscale=$AIE_BIN/aie-upscale
scratch=
started_munged=
conf=

log() { echo "check-slurm: $*"; }

stop_all() {
    if [ -n "$conf" ] && [ -f "$conf" ]; then
        SLURM_CONF=$conf scancel --quiet --user="$(id -un)" >/dev/null 2>&1 || true
    fi
    for pidfile in "$scratch/slurmd.pid" "$scratch/slurmctld.pid"; do
        if [ -n "$scratch" ] && [ -s "$pidfile" ]; then
            pid=$(cat "$pidfile")
            kill "$pid" 2>/dev/null
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null || true
        fi
    done
    if [ -n "$started_munged" ] && [ -s /run/munge/munged.pid ]; then
        kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
    fi
}

cleanup() {
    stop_all
    if [ -n "$scratch" ] && [ -z "${AIE_KEEP_TMP:-}" ]; then
        rm -rf "$scratch"
    fi
}
trap cleanup EXIT

skip() {
    echo "SKIP check-slurm: $*"
    exit 0
}

fail() {
    echo "FAIL check-slurm: $*"
    for f in "$scratch"/slurmctld.log "$scratch"/slurmd.log "$scratch"/work/.aie-batch/logs/slurm-*.out; do
        [ -f "$f" ] || continue
        echo "--- $f (last lines)"
        tail -n 15 "$f"
    done
    exit 1
}

[ -x "$batch" ] && [ -x "$upscale" ] || fail "build the tools first (no $batch)"
[ "$(id -u)" = 0 ] || skip "needs root to install slurm-wlm and munge and to run slurmd"
command -v ffmpeg >/dev/null || skip "needs ffmpeg to make the test clips"

# ---- install ----
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    command -v apt-get >/dev/null || skip "slurm-wlm is not installed and there is no apt-get"
    log "installing slurm-wlm and munge (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q --no-install-recommends slurm-wlm munge >/tmp/check-slurm-apt.log 2>&1; then
        apt-get update -q >>/tmp/check-slurm-apt.log 2>&1
        apt-get install -y -q --no-install-recommends slurm-wlm munge >>/tmp/check-slurm-apt.log 2>&1 ||
            skip "apt-get install slurm-wlm munge failed: $(tail -n 1 /tmp/check-slurm-apt.log)"
    fi
fi
for p in slurmctld slurmd sbatch sinfo munged munge unmunge; do
    command -v $p >/dev/null || skip "$p is missing after the install"
done

scratch=$(mktemp -d /tmp/aie-check-slurm.XXXXXX)
chmod 755 "$scratch"

# ---- munge ----
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    if [ ! -s /etc/munge/munge.key ]; then
        mkdir -p /etc/munge
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown munge:munge /etc/munge/munge.key 2>/dev/null
    chmod 0400 /etc/munge/munge.key
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null
    chmod 0755 /run/munge
    if command -v runuser >/dev/null; then
        runuser -u munge -- munged >"$scratch/munged.out" 2>&1 || skip "munged did not start: $(tail -n 1 "$scratch/munged.out")"
    else
        su -s /bin/sh munge -c munged >"$scratch/munged.out" 2>&1 || skip "munged did not start: $(tail -n 1 "$scratch/munged.out")"
    fi
    started_munged=1
    sleep 0.5
fi
munge -n | unmunge 2>&1 | grep -q 'STATUS: *Success' || skip "munge does not authenticate (munge -n | unmunge)"

# ---- slurm ----
host=$(hostname -s)
cpus=$(nproc)
port=$((17000 + RANDOM % 2000))
mkdir -p "$scratch/state" "$scratch/spool"
conf=$scratch/slurm.conf
cat >"$conf" <<EOF
ClusterName=aiecheck
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SchedulerType=sched/backfill
StateSaveLocation=$scratch/state
SlurmdSpoolDir=$scratch/spool
SlurmctldPidFile=$scratch/slurmctld.pid
SlurmdPidFile=$scratch/slurmd.pid
SlurmctldLogFile=$scratch/slurmctld.log
SlurmdLogFile=$scratch/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$conf
slurmctld >"$scratch/slurmctld.out" 2>&1 || skip "slurmctld did not start: $(tail -n 1 "$scratch/slurmctld.out" "$scratch/slurmctld.log" 2>/dev/null | tail -n 1)"
slurmd >"$scratch/slurmd.out" 2>&1 || skip "slurmd did not start: $(tail -n 1 "$scratch/slurmd.out" "$scratch/slurmd.log" 2>/dev/null | tail -n 1)"
state=
for _ in $(seq 60); do
    state=$(sinfo -h -n "$host" -o %T 2>/dev/null | head -n 1)
    case $state in idle*|mixed*|allocated*) break ;; esac
    sleep 0.5
done
case $state in
idle*|mixed*|allocated*) log "slurm is up: node $host ($cpus CPUs) $state" ;;
*) skip "the node did not become idle (sinfo: '${state:-nothing}'; slurmd.log: $(tail -n 1 "$scratch/slurmd.log" 2>/dev/null))" ;;
esac

# ---- the batch: 4 aie-upscale jobs in 2 joined chunks each, 2 other jobs ----
work=$scratch/work
mkdir -p "$work/in" "$work/out"
cd "$work" || fail "no $work"
for i in 1 2 3 4; do
    ffmpeg -v error -y -f lavfi -i "testsrc2=s=48x32:r=25:d=0.4" -vf "hue=h=$((i * 60))" \
        -pix_fmt yuv420p "in/clip $i.y4m" || fail "ffmpeg could not make a test clip"
    printf '%s -s 2 -i %q -o %q\n' "$upscale" "in/clip $i.y4m" "out/clip $i.y4m" >>jobs.txt
done
echo 'sh -c "echo \$AIE_BATCH_ID \$AIE_JOB_ID > out/env.txt"' >>jobs.txt
echo 'touch out/plain' >>jobs.txt
"$batch" -j 3 --chunks 2 --join --retries 2 --retry-delay 0.1 --emit slurm jobs.txt >jobs.sbatch ||
    fail "aie-batch --emit slurm failed"
tasks=$(sed -n 's/^#SBATCH --array=1-\([0-9]*\).*/\1/p' jobs.sbatch)
[ "$tasks" = 10 ] || fail "expected an array of 10 tasks, the script says '${tasks:-nothing}'"
grep -q '^#SBATCH --array=1-10%3$' jobs.sbatch || fail "no --array=1-10%3 line in the script"
log "submitting a 10-task array (4 jobs x 2 chunks + 2), 3 at a time"
if ! timeout 300 sbatch --wait jobs.sbatch >sbatch.out 2>&1; then
    fail "sbatch --wait failed: $(tail -n 2 sbatch.out)"
fi

# ---- the results ----
for i in 1 2 3 4; do
    [ -s "out/clip $i.y4m" ] || fail "out/clip $i.y4m is missing"
    "$upscale" -s 2 -i "in/clip $i.y4m" -o "ref $i.y4m" || fail "reference run failed"
    cmp -s "out/clip $i.y4m" "ref $i.y4m" || fail "out/clip $i.y4m differs from an unchunked run"
done
if ls out | grep -q chunk; then fail "chunk files were left behind: $(ls out | grep chunk | tr '\n' ' ')"; fi
[ -f out/plain ] || fail "out/plain is missing"
read -r bid jid <out/env.txt || fail "out/env.txt is missing"
[ "$jid" = 9 ] || fail "job 9 saw AIE_JOB_ID '$jid'"
logs=.aie-batch/logs
cat "$logs"/metrics.*.jsonl >merged.jsonl 2>/dev/null || fail "no per-host metrics logs in $logs"
cat "$logs"/joblog.* >merged.joblog 2>/dev/null || fail "no per-host joblogs in $logs"
n=$(grep -c '"event":"job_end"' merged.jsonl)
[ "$n" = 10 ] || fail "the merged metrics log has $n job_end records, not 10"
for k in $(seq 10); do
    grep -q "\"batch_id\":\"$bid\",\"job_id\":\"$k\",\"attempt\":1,\"exit\":0," merged.jsonl ||
        fail "no successful job_end record for job $k of batch $bid"
done
runs=$(grep '"tool":"aie-upscale"' merged.jsonl | grep -c "\"event\":\"run_end\".*\"batch_id\":\"$bid\"\\|\"batch_id\":\"$bid\".*\"event\":\"run_end\"")
[ "$runs" = 8 ] || fail "expected 8 aie-upscale run_end records in batch $bid, found $runs"
lines=$(grep -vc '^Seq' merged.joblog)
[ "$lines" = 10 ] || fail "the merged joblog has $lines job lines, not 10"
bad=$(grep -v '^Seq' merged.joblog | awk -F'\t' '$7 != 0 || $8 != 0' | wc -l)
[ "$bad" = 0 ] || fail "$bad joblog lines are not successes"
echo "check-slurm: ok: a 10-task Slurm array ran every job; 4 outputs joined from chunks match unchunked runs; merged logs hold 10 job_end records and 10 joblog lines"
exit 0
